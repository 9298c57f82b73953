-- Issue 14: the dashboard's sign-in. A one-time link (sent privately by the bot) and the
-- session it opens are both kept only as SHA-256 hashes of their random tokens: a copy of
-- the database lets no one in.
CREATE TABLE dashboard_links (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
