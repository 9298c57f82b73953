-- Numbered 0012 as asked (the lead renumbers at merge); on this branch alone it runs as 0007.
-- Anonymous questions (bot/services/relay.py), without their texts (those live only in the
-- purgeable outbox rows): which member was asked to type one, and which questions a reporter
-- may still answer by simply typing (issue 10 #5).
CREATE TABLE questions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tip_id       INTEGER NOT NULL REFERENCES tips(id),
    chat_id      INTEGER NOT NULL,          -- where it is asked: a patrol group or an officer's chat
    member_id    INTEGER NOT NULL,          -- who asks (staff)
    prompt_id    INTEGER,                   -- the bot's "type your question" message there
    state        TEXT NOT NULL,             -- prompted | asked | closed
    created_at   TEXT NOT NULL,
    asked_at     TEXT,                      -- relayed to the reporter
    answered_at  TEXT,                      -- the reporter's latest answer
    nudged_at    TEXT                       -- "no question came": said once
);
CREATE INDEX questions_tip ON questions(tip_id, state);
CREATE INDEX questions_member ON questions(member_id, chat_id, state, created_at);
CREATE INDEX questions_state ON questions(state, created_at);
