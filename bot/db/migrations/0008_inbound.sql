-- The inbound journal (bot/inbound.py): every update from Telegram is written here before it
-- is confirmed to Telegram (polling: before the next getUpdates offset; webhook: before the
-- HTTP 200), and marked done once its handlers have finished. What a crash left unfinished
-- is handled again on the next start, in order.
CREATE TABLE inbound (
    update_id INTEGER PRIMARY KEY,
    -- The update as Telegram sent it (JSON). Dropped once handled: it may hold personal data.
    body TEXT,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'done', 'abandoned')),
    done_at TEXT,
    -- Starts of the bot that found it unfinished (a poison update is given up after a few).
    starts INTEGER NOT NULL DEFAULT 0,
    -- Non-idempotent writes its handling committed, {"effect": "ref"}, each recorded in the
    -- write's own transaction, so that a replay does not apply them twice.
    effects TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX inbound_pending ON inbound(update_id) WHERE status = 'pending';
CREATE INDEX inbound_done_at ON inbound(done_at) WHERE status != 'pending';
