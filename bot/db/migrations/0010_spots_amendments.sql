-- Where exactly (issue 13): the exact spot within the place, as a quick choice
-- (bot/domain/spots.py) and/or typed words; and what a reporter added to a tip after
-- submitting it (words, a photo, flags), one row per addition, shown on the card as "补充".
ALTER TABLE tips ADD COLUMN spot TEXT;
ALTER TABLE tips ADD COLUMN spot_text TEXT;
CREATE TABLE amendments (
    id          INTEGER PRIMARY KEY,
    tip_id      INTEGER NOT NULL REFERENCES tips(id),
    at          TEXT NOT NULL,
    words       TEXT,
    photo       INTEGER NOT NULL DEFAULT 0,
    flags       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX amendments_tip ON amendments (tip_id, id);
