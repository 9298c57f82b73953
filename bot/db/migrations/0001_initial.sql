-- warmline schema, version 1. Times are UTC ISO-8601 text ("2026-11-30T12:00:00.000000Z").

CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,      -- Telegram user id
    first_name  TEXT NOT NULL DEFAULT '',
    username    TEXT,
    language    TEXT,                     -- chosen with /language; NULL = from Telegram
    tg_language TEXT,                     -- the Telegram app's language_code, last seen
    phone       TEXT,                     -- only when shared for a reward payout (issue 3)
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Staff as configured (synced from config.toml at start-up), for names and audit.
CREATE TABLE staff (
    user_id     INTEGER PRIMARY KEY,
    role        TEXT NOT NULL,            -- member | leader | officer
    group_key   TEXT,
    synced_at   TEXT NOT NULL
);

-- A report in progress (one per user): survives restarts.
CREATE TABLE drafts (
    user_id     INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,            -- reporter | hotline
    step        TEXT NOT NULL,
    data        TEXT NOT NULL,            -- JSON
    updated_at  TEXT NOT NULL
);

CREATE TABLE tips (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    source          TEXT NOT NULL,        -- reporter | hotline
    reporter_id     INTEGER REFERENCES users(user_id),
    logged_by       INTEGER,              -- officer who logged a hotline tip
    lat             REAL NOT NULL,
    lon             REAL NOT NULL,
    address         TEXT,
    place_label     TEXT,
    district        TEXT,
    seen            TEXT NOT NULL,
    people          TEXT NOT NULL,
    flags           TEXT NOT NULL DEFAULT '',
    urgent          INTEGER NOT NULL DEFAULT 0,
    description     TEXT,
    state           TEXT NOT NULL,
    outcome         TEXT,
    duplicate_of    INTEGER REFERENCES tips(id),
    supplies        TEXT,
    group_key       TEXT NOT NULL,
    claimed_by      INTEGER,
    closed_by       INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    dispatched_at   TEXT,
    claimed_at      TEXT,
    arrived_at      TEXT,
    closed_at       TEXT,
    version         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tips_state ON tips(state, created_at);
CREATE INDEX tips_position ON tips(lat, lon);
CREATE INDEX tips_reporter ON tips(reporter_id, created_at);
CREATE INDEX tips_group ON tips(group_key, state);

-- Photos from the reporter and evidence from the patrol.
CREATE TABLE media (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id          INTEGER NOT NULL REFERENCES tips(id),
    kind            TEXT NOT NULL,        -- report_photo | photo | voice | video | video_note | document
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT,
    added_by        INTEGER,
    created_at      TEXT NOT NULL,
    UNIQUE (tip_id, file_unique_id)
);
CREATE INDEX media_tip ON media(tip_id);

-- Messages the bot sent about a tip (to edit cards, and to map evidence replies to tips).
CREATE TABLE messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    tip_id      INTEGER NOT NULL REFERENCES tips(id),
    kind        TEXT NOT NULL,            -- card | location | photo
    created_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX messages_tip ON messages(tip_id, kind);

-- Append-only audit trail: every transition and every refused attempt.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id      INTEGER REFERENCES tips(id),
    actor_id    INTEGER,
    actor_role  TEXT,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    detail      TEXT,                     -- JSON
    at          TEXT NOT NULL
);
CREATE INDEX events_tip ON events(tip_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Outbox: every message warmline must deliver is recorded here before it is sent.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,            -- card | card_edit | notice
    chat_id     INTEGER,
    tip_id      INTEGER REFERENCES tips(id),
    payload     TEXT NOT NULL,            -- JSON
    status      TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_at);

-- Chats the bot can no longer reach (blocked, kicked).
CREATE TABLE chats (
    chat_id     INTEGER PRIMARY KEY,
    active      INTEGER NOT NULL DEFAULT 1,
    note        TEXT,
    updated_at  TEXT NOT NULL
);
