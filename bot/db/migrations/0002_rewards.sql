-- Rewards (爱心有奖) and the money ledger.

-- The anonymous claim secret: only its salted hash is kept (the reporter got the secret).
ALTER TABLE tips ADD COLUMN claim_salt TEXT;
ALTER TABLE tips ADD COLUMN claim_hash TEXT;

CREATE TABLE rewards (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id              INTEGER NOT NULL UNIQUE REFERENCES tips(id),
    reporter_id         INTEGER NOT NULL REFERENCES users(user_id),
    amount              INTEGER NOT NULL,          -- yuan, as promised
    currency            TEXT NOT NULL,
    state               TEXT NOT NULL,             -- pending | approved | paid | rejected
    verified_by         INTEGER,                   -- who recorded the tip's outcome
    approved_by         INTEGER,
    approved_at         TEXT,
    rejected_by         INTEGER,
    rejected_at         TEXT,
    reject_reason       TEXT,
    paid_by             INTEGER,
    paid_at             TEXT,
    paid_amount         INTEGER,
    method              TEXT,                      -- wechat | alipay | bank | cash
    reference           TEXT,
    claim_tries         INTEGER NOT NULL DEFAULT 0,  -- wrong anonymous-claim secrets
    claim_locked        INTEGER NOT NULL DEFAULT 0,
    claim_verified_by   INTEGER,
    claim_verified_at   TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rewards_state ON rewards(state, created_at);
CREATE INDEX rewards_reporter ON rewards(reporter_id, created_at);

-- Append-only: a correction is a reversing entry with a reason, never an edit.
CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reward_id   INTEGER NOT NULL REFERENCES rewards(id),
    tip_id      INTEGER NOT NULL REFERENCES tips(id),
    entry       TEXT NOT NULL,            -- pending | approved | paid | rejected | reversal
    amount      INTEGER NOT NULL,         -- yuan; a reversal carries the negative amount
    currency    TEXT NOT NULL,
    method      TEXT,
    reference   TEXT,
    actor_id    INTEGER,
    reason      TEXT,
    reverses    INTEGER REFERENCES ledger(id),
    at          TEXT NOT NULL
);
CREATE INDEX ledger_at ON ledger(at);
CREATE INDEX ledger_reward ON ledger(reward_id, id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- A staff member's answer the bot is waiting for (a reject reason, a payment reference…).
CREATE TABLE pending_inputs (
    user_id     INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,            -- JSON
    created_at  TEXT NOT NULL
);
