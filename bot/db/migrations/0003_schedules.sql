-- Schedules: reminders, escalations, hand-overs, summaries; the patrol log; station settings.

-- Each scheduled thing happens once per slot: a restart neither loses nor repeats it.
CREATE TABLE schedule_log (
    kind        TEXT NOT NULL,            -- reminder | patrol_check | handover | summary | weather
    slot        TEXT NOT NULL,            -- e.g. the slot's UTC time or duty day
    done_at     TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (kind, slot)
);

CREATE TABLE patrols (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key   TEXT NOT NULL,
    chat_id     INTEGER NOT NULL,
    started_by  INTEGER NOT NULL,
    area        TEXT,
    started_at  TEXT NOT NULL,
    ended_by    INTEGER,
    ended_at    TEXT,
    people_met  INTEGER,
    supplies    TEXT                      -- JSON {"coat": 2, "quilt": 1, ...}
);
CREATE INDEX patrols_group ON patrols(group_key, started_at);

-- Small station-wide settings (cold mode and its source, the group on duty last seen, …).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
