-- One message may now stand for several tips (a digest of new tips when a group's backlog
-- grows), so a sent message is keyed by chat, message *and* tip.
CREATE TABLE messages_new (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    tip_id      INTEGER NOT NULL REFERENCES tips(id),
    kind        TEXT NOT NULL,            -- card | location | photo | digest | ask_prompt | question
    created_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id, tip_id)
);
INSERT INTO messages_new (chat_id, message_id, tip_id, kind, created_at)
    SELECT chat_id, message_id, tip_id, kind, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_tip ON messages(tip_id, kind);
