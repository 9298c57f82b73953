-- Issue 13 (h13c): live locations and revisits.

-- The last position of each live location the bot is following: a reporter's moving pin
-- (tip_id: the tip it became, once submitted) or a staff member's (tip_id: the card they
-- shared it in reply to, if any). Staff positions are staff-only data: shown to the patrol
-- side only, never logged, and deleted once their live period is over.
CREATE TABLE live_positions (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL,            -- reporter | staff
    tip_id      INTEGER REFERENCES tips(id),
    group_key   TEXT,                     -- a staff member's patrol group
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,            -- started_at + live_period
    shown_at    TEXT,                     -- when a card edit last showed it (edits throttled)
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX live_positions_tip ON live_positions(tip_id);
CREATE INDEX live_positions_expiry ON live_positions(role, expires_at);

-- A revisit: a light task made from an outcome where someone refused help or had gone,
-- posted to the on-duty group when cold mode next starts (due_at NULL) or at due_at.
-- Each outcome makes at most one: from a tip's close, or from the revisit before.
CREATE TABLE revisits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id      INTEGER NOT NULL REFERENCES tips(id),
    previous_id INTEGER REFERENCES revisits(id),
    reason      TEXT NOT NULL,            -- the outcome that made it
    supplies    TEXT NOT NULL DEFAULT '', -- what was handed out then (csv)
    reason_at   TEXT NOT NULL,            -- when that outcome was recorded
    created_at  TEXT NOT NULL,
    due_at      TEXT,                     -- NULL: when cold mode next starts
    state       TEXT NOT NULL,            -- waiting | posted | claimed | closed
    group_key   TEXT,
    chat_id     INTEGER,                  -- where its card is
    message_id  INTEGER,
    posted_at   TEXT,
    claimed_by  INTEGER,
    claimed_at  TEXT,
    outcome     TEXT,
    closed_by   INTEGER,
    closed_at   TEXT,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX revisits_first ON revisits(tip_id, reason_at) WHERE previous_id IS NULL;
CREATE UNIQUE INDEX revisits_next ON revisits(previous_id) WHERE previous_id IS NOT NULL;
CREATE INDEX revisits_state ON revisits(state);

-- When cold mode was switched on (a revisit waits for the next time): read on every tick.
CREATE INDEX events_action_at ON events(action, at);
