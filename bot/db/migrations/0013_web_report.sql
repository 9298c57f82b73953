-- The public web report form (issue 15). A web reporter has no Telegram chat: they get a
-- reporter id of their own (bot/domain/webreport.py WEB_REPORTER_BASE + web_reporters.id),
-- one per phone number when they give one, a fresh one per tip otherwise; their notices
-- (what a Telegram reporter would be sent) are kept for the status page at /t/CODE.
-- No client address is stored anywhere (the rate limits are in memory).
CREATE TABLE web_reporters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    phone_key   TEXT UNIQUE,               -- HMAC of the number (NULL: none given)
    language    TEXT NOT NULL,             -- zh | en: the status page's and notices' language
    created_at  TEXT NOT NULL
);

-- The status page of a web tip: wrong secrets counted (5 lock it, as a counter claim).
CREATE TABLE web_tips (
    tip_id      INTEGER PRIMARY KEY REFERENCES tips(id),
    wrong_tries INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

-- What the bot would have sent a web reporter (the outbox's notice payload, no secret).
CREATE TABLE web_notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id      INTEGER REFERENCES tips(id),
    user_id     INTEGER NOT NULL,
    payload     TEXT NOT NULL,             -- JSON (bot/domain/outbox.py encode)
    created_at  TEXT NOT NULL
);
CREATE INDEX web_notices_tip ON web_notices(tip_id, id);

-- A web reporter's photo (EXIF stripped) until the outbox has uploaded it to Telegram; the
-- media row's file_id is "web:<ref>" until then, Telegram's file id afterwards.
CREATE TABLE web_photos (
    ref         TEXT PRIMARY KEY,
    tip_id      INTEGER REFERENCES tips(id),
    data        BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

-- A web photo once uploaded: Telegram's file id for "web:<ref>", for the messages queued with
-- that name (an added photo goes to each chat with the card; the first upload serves all).
CREATE TABLE web_uploads (
    ref         TEXT PRIMARY KEY,
    file_id     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
