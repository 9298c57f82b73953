-- The field flow (issue 13, items 4-6): the claimer's arrival time, the reporter's
-- "still there?" and "not found" follow-ups, and reopened attempts of one incident.
--
-- eta_at: when the claimer said they would be there (cleared by a release or a reopen);
-- eta_asked_at: when the claimer was asked because that time + the grace passed with nobody
-- on scene (set once per arrival time: choosing a new one clears it).
-- attempt: 1 for a tip as reported; a "not found" reopened by the reporter's new pin or
-- words is the same tip (one incident, one reward) with attempt + 1.
ALTER TABLE tips ADD COLUMN eta_at TEXT;
ALTER TABLE tips ADD COLUMN eta_asked_at TEXT;
ALTER TABLE tips ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;

-- Each attempt that ended without finding the person, as it was when it ended (the tip's
-- row then holds the new attempt).
CREATE TABLE tip_attempts (
    tip_id INTEGER NOT NULL REFERENCES tips(id),
    attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    claimed_at TEXT,
    arrived_at TEXT,
    closed_at TEXT NOT NULL,
    closed_by INTEGER,
    reopened_at TEXT NOT NULL,
    PRIMARY KEY (tip_id, attempt)
);

-- What the reporter was asked about a tip and what they said: "still there?" when it was
-- claimed, "can you add anything?" after "not found". One row per (tip, kind, attempt).
CREATE TABLE reporter_asks (
    id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tips(id),
    kind TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    asked_at TEXT NOT NULL,
    open_until TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT,
    words TEXT,
    UNIQUE (tip_id, kind, attempt)
);
CREATE INDEX reporter_asks_tip ON reporter_asks (tip_id);
