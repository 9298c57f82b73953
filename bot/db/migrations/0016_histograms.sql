-- Duration histograms and station days for a long campaign (issue 16, bench/history.py):
-- the summary's medians and p90s read counts per duration bucket instead of every tip's
-- times, and its counts and the ledger totals read one row per station day (beside the
-- hourly rows of 0015, which the ends of a window still use). Kept by triggers in the
-- transaction that changes the rows (a rolled back transaction leaves them as they were),
-- filled in here from the rows there are. tests/test_histograms.py checks them against a
-- full recount.
--
-- Buckets: bot/domain/histogram.py (the same ladder as the CASE below: 0.1 minute up to
-- 59.95 min, 1 min up to 24 h, 1 h up to 14 days, one bucket beyond). The legs follow
-- bot/domain/campaign.py's Leg.
--
-- A station day: the stored UTC time shifted by rollup_days.shift_minutes (the station's UTC
-- offset on the campaign's first day; bot/db/histograms.py re-aligns the day tables when the
-- configuration gives another offset). 480 = Asia/Shanghai, the default.
CREATE TABLE rollup_days (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    shift_minutes INTEGER NOT NULL
);
INSERT INTO rollup_days (id, shift_minutes) VALUES (1, 480);

-- Every leg of every tip that has both its moments: the tip's hour and station day, the leg
-- and the bucket of its duration (microseconds, exactly: whole seconds by SQLite's date
-- functions given whole seconds only, then the digits).
CREATE VIEW tip_leg_buckets AS
SELECT tip_id, created_at, hour, day, leg,
    CASE WHEN us < 3597000000 THEN MAX(0, (us + 3000000) / 6000000)
         WHEN us < 86370000000 THEN 600 + (us - 3570000000) / 60000000
         WHEN us < 1207800000000 THEN 1980 + (us - 84600000000) / 3600000000
         ELSE 2292 END AS bucket
FROM (
    SELECT t.id AS tip_id, t.created_at AS created_at, substr(t.created_at, 1, 13) AS hour,
        date(substr(t.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes') AS day,
        l.leg AS leg,
        CASE l.leg
            WHEN 'report_claim' THEN ((CAST(strftime('%s', substr(t.claimed_at, 1, 19)) AS INTEGER)
                - CAST(strftime('%s', substr(t.created_at, 1, 19)) AS INTEGER)) * 1000000
                + CAST(substr(t.claimed_at, 21, 6) AS INTEGER) - CAST(substr(t.created_at, 21, 6) AS INTEGER))
            WHEN 'claim_arrival' THEN ((CAST(strftime('%s', substr(t.arrived_at, 1, 19)) AS INTEGER)
                - CAST(strftime('%s', substr(t.claimed_at, 1, 19)) AS INTEGER)) * 1000000
                + CAST(substr(t.arrived_at, 21, 6) AS INTEGER) - CAST(substr(t.claimed_at, 21, 6) AS INTEGER))
            WHEN 'report_arrival' THEN ((CAST(strftime('%s', substr(t.arrived_at, 1, 19)) AS INTEGER)
                - CAST(strftime('%s', substr(t.created_at, 1, 19)) AS INTEGER)) * 1000000
                + CAST(substr(t.arrived_at, 21, 6) AS INTEGER) - CAST(substr(t.created_at, 21, 6) AS INTEGER))
        END AS us
    FROM tips t,
        (SELECT 'report_claim' AS leg UNION ALL SELECT 'claim_arrival' UNION ALL SELECT 'report_arrival') l
)
WHERE us IS NOT NULL;

CREATE TABLE leg_hours (
    hour TEXT NOT NULL,  -- YYYY-MM-DDTHH (UTC) of the tip's arrival
    leg TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, leg, bucket)
) WITHOUT ROWID;
CREATE TABLE leg_days (
    day TEXT NOT NULL,  -- YYYY-MM-DD, station day of the tip's arrival
    leg TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, leg, bucket)
) WITHOUT ROWID;
CREATE TABLE leg_totals (
    leg TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (leg, bucket)
) WITHOUT ROWID;
INSERT INTO leg_hours (hour, leg, bucket, n)
SELECT hour, leg, bucket, COUNT(*) FROM tip_leg_buckets GROUP BY 1, 2, 3;
INSERT INTO leg_days (day, leg, bucket, n)
SELECT day, leg, bucket, COUNT(*) FROM tip_leg_buckets GROUP BY 1, 2, 3;
INSERT INTO leg_totals (leg, bucket, n)
SELECT leg, bucket, SUM(n) FROM leg_hours GROUP BY 1, 2;

CREATE TRIGGER tip_legs_insert AFTER INSERT ON tips
WHEN NEW.claimed_at IS NOT NULL OR NEW.arrived_at IS NOT NULL
BEGIN
    INSERT INTO leg_hours (hour, leg, bucket, n)
        SELECT hour, leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO leg_days (day, leg, bucket, n)
        SELECT day, leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO leg_totals (leg, bucket, n)
        SELECT leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tip_legs_delete BEFORE DELETE ON tips
WHEN OLD.claimed_at IS NOT NULL OR OLD.arrived_at IS NOT NULL
BEGIN
    UPDATE leg_hours SET n = n - 1
        WHERE (hour, leg, bucket) IN (SELECT hour, leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
    UPDATE leg_days SET n = n - 1
        WHERE (day, leg, bucket) IN (SELECT day, leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
    UPDATE leg_totals SET n = n - 1
        WHERE (leg, bucket) IN (SELECT leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
END;
-- An update that moves a moment: its old legs out before it, its new legs in after it.
-- (The WHEN clauses only skip what would change nothing: a tip without legs, or a moment
-- written again as it was.)
CREATE TRIGGER tip_legs_unset BEFORE UPDATE OF created_at, claimed_at, arrived_at ON tips
WHEN (OLD.claimed_at IS NOT NULL OR OLD.arrived_at IS NOT NULL)
    AND (OLD.created_at IS NOT NEW.created_at OR OLD.claimed_at IS NOT NEW.claimed_at
        OR OLD.arrived_at IS NOT NEW.arrived_at)
BEGIN
    UPDATE leg_hours SET n = n - 1
        WHERE (hour, leg, bucket) IN (SELECT hour, leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
    UPDATE leg_days SET n = n - 1
        WHERE (day, leg, bucket) IN (SELECT day, leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
    UPDATE leg_totals SET n = n - 1
        WHERE (leg, bucket) IN (SELECT leg, bucket FROM tip_leg_buckets WHERE tip_id = OLD.id);
END;
CREATE TRIGGER tip_legs_set AFTER UPDATE OF created_at, claimed_at, arrived_at ON tips
WHEN (NEW.claimed_at IS NOT NULL OR NEW.arrived_at IS NOT NULL)
    AND (OLD.created_at IS NOT NEW.created_at OR OLD.claimed_at IS NOT NEW.claimed_at
        OR OLD.arrived_at IS NOT NEW.arrived_at)
BEGIN
    INSERT INTO leg_hours (hour, leg, bucket, n)
        SELECT hour, leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO leg_days (day, leg, bucket, n)
        SELECT day, leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO leg_totals (leg, bucket, n)
        SELECT leg, bucket, 1 FROM tip_leg_buckets WHERE tip_id = NEW.id
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The counts of tip_hours (0015) by station day too: a campaign's counts read ~110 rows.
CREATE TABLE tip_days (
    day TEXT PRIMARY KEY,  -- station day (rollup_days)
    received INTEGER NOT NULL DEFAULT 0,
    claimed INTEGER NOT NULL DEFAULT 0,
    arrived INTEGER NOT NULL DEFAULT 0,
    o_brought_in INTEGER NOT NULL DEFAULT 0,
    o_hospital INTEGER NOT NULL DEFAULT 0,
    o_supplies_only INTEGER NOT NULL DEFAULT 0,
    o_family INTEGER NOT NULL DEFAULT 0,
    o_not_found INTEGER NOT NULL DEFAULT 0,
    o_gone INTEGER NOT NULL DEFAULT 0,
    o_duplicate INTEGER NOT NULL DEFAULT 0,
    o_invalid INTEGER NOT NULL DEFAULT 0,
    s_coat INTEGER NOT NULL DEFAULT 0,
    s_quilt INTEGER NOT NULL DEFAULT 0,
    s_food INTEGER NOT NULL DEFAULT 0,
    s_drink INTEGER NOT NULL DEFAULT 0,
    s_hotline_card INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO tip_days (day, received, claimed, arrived, o_brought_in, o_hospital, o_supplies_only, o_family, o_not_found, o_gone, o_duplicate, o_invalid, s_coat, s_quilt, s_food, s_drink, s_hotline_card)
SELECT date(substr(created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes'), SUM(1),
    SUM((tips.claimed_at IS NOT NULL)),
    SUM((tips.arrived_at IS NOT NULL)),
    SUM((tips.outcome IS 'brought_in')),
    SUM((tips.outcome IS 'hospital')),
    SUM((tips.outcome IS 'supplies_only')),
    SUM((tips.outcome IS 'family')),
    SUM((tips.outcome IS 'not_found')),
    SUM((tips.outcome IS 'gone')),
    SUM((tips.outcome IS 'duplicate')),
    SUM((tips.outcome IS 'invalid')),
    SUM((instr(',' || COALESCE(tips.supplies, '') || ',', ',coat,') > 0)),
    SUM((instr(',' || COALESCE(tips.supplies, '') || ',', ',quilt,') > 0)),
    SUM((instr(',' || COALESCE(tips.supplies, '') || ',', ',food,') > 0)),
    SUM((instr(',' || COALESCE(tips.supplies, '') || ',', ',drink,') > 0)),
    SUM((instr(',' || COALESCE(tips.supplies, '') || ',', ',hotline_card,') > 0))
FROM tips GROUP BY 1;
CREATE TRIGGER tip_days_insert AFTER INSERT ON tips
BEGIN
    INSERT OR IGNORE INTO tip_days (day) VALUES (date(substr(NEW.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes'));
    UPDATE tip_days SET
        received = received + 1,
        claimed = claimed + (NEW.claimed_at IS NOT NULL),
        arrived = arrived + (NEW.arrived_at IS NOT NULL),
        o_brought_in = o_brought_in + (NEW.outcome IS 'brought_in'),
        o_hospital = o_hospital + (NEW.outcome IS 'hospital'),
        o_supplies_only = o_supplies_only + (NEW.outcome IS 'supplies_only'),
        o_family = o_family + (NEW.outcome IS 'family'),
        o_not_found = o_not_found + (NEW.outcome IS 'not_found'),
        o_gone = o_gone + (NEW.outcome IS 'gone'),
        o_duplicate = o_duplicate + (NEW.outcome IS 'duplicate'),
        o_invalid = o_invalid + (NEW.outcome IS 'invalid'),
        s_coat = s_coat + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',coat,') > 0),
        s_quilt = s_quilt + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',quilt,') > 0),
        s_food = s_food + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',food,') > 0),
        s_drink = s_drink + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',drink,') > 0),
        s_hotline_card = s_hotline_card + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',hotline_card,') > 0)
    WHERE day = date(substr(NEW.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes');
END;
CREATE TRIGGER tip_days_delete AFTER DELETE ON tips
BEGIN
    UPDATE tip_days SET
        received = received - 1,
        claimed = claimed - (OLD.claimed_at IS NOT NULL),
        arrived = arrived - (OLD.arrived_at IS NOT NULL),
        o_brought_in = o_brought_in - (OLD.outcome IS 'brought_in'),
        o_hospital = o_hospital - (OLD.outcome IS 'hospital'),
        o_supplies_only = o_supplies_only - (OLD.outcome IS 'supplies_only'),
        o_family = o_family - (OLD.outcome IS 'family'),
        o_not_found = o_not_found - (OLD.outcome IS 'not_found'),
        o_gone = o_gone - (OLD.outcome IS 'gone'),
        o_duplicate = o_duplicate - (OLD.outcome IS 'duplicate'),
        o_invalid = o_invalid - (OLD.outcome IS 'invalid'),
        s_coat = s_coat - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',coat,') > 0),
        s_quilt = s_quilt - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',quilt,') > 0),
        s_food = s_food - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',food,') > 0),
        s_drink = s_drink - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',drink,') > 0),
        s_hotline_card = s_hotline_card - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',hotline_card,') > 0)
    WHERE day = date(substr(OLD.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes');
END;
CREATE TRIGGER tip_days_update AFTER UPDATE OF created_at, claimed_at, arrived_at, outcome, supplies ON tips
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.claimed_at IS NOT NEW.claimed_at
        OR OLD.arrived_at IS NOT NEW.arrived_at
    OR OLD.outcome IS NOT NEW.outcome OR OLD.supplies IS NOT NEW.supplies
BEGIN
    UPDATE tip_days SET
        received = received - 1,
        claimed = claimed - (OLD.claimed_at IS NOT NULL),
        arrived = arrived - (OLD.arrived_at IS NOT NULL),
        o_brought_in = o_brought_in - (OLD.outcome IS 'brought_in'),
        o_hospital = o_hospital - (OLD.outcome IS 'hospital'),
        o_supplies_only = o_supplies_only - (OLD.outcome IS 'supplies_only'),
        o_family = o_family - (OLD.outcome IS 'family'),
        o_not_found = o_not_found - (OLD.outcome IS 'not_found'),
        o_gone = o_gone - (OLD.outcome IS 'gone'),
        o_duplicate = o_duplicate - (OLD.outcome IS 'duplicate'),
        o_invalid = o_invalid - (OLD.outcome IS 'invalid'),
        s_coat = s_coat - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',coat,') > 0),
        s_quilt = s_quilt - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',quilt,') > 0),
        s_food = s_food - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',food,') > 0),
        s_drink = s_drink - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',drink,') > 0),
        s_hotline_card = s_hotline_card - (instr(',' || COALESCE(OLD.supplies, '') || ',', ',hotline_card,') > 0)
    WHERE day = date(substr(OLD.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes');
    INSERT OR IGNORE INTO tip_days (day) VALUES (date(substr(NEW.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes'));
    UPDATE tip_days SET
        received = received + 1,
        claimed = claimed + (NEW.claimed_at IS NOT NULL),
        arrived = arrived + (NEW.arrived_at IS NOT NULL),
        o_brought_in = o_brought_in + (NEW.outcome IS 'brought_in'),
        o_hospital = o_hospital + (NEW.outcome IS 'hospital'),
        o_supplies_only = o_supplies_only + (NEW.outcome IS 'supplies_only'),
        o_family = o_family + (NEW.outcome IS 'family'),
        o_not_found = o_not_found + (NEW.outcome IS 'not_found'),
        o_gone = o_gone + (NEW.outcome IS 'gone'),
        o_duplicate = o_duplicate + (NEW.outcome IS 'duplicate'),
        o_invalid = o_invalid + (NEW.outcome IS 'invalid'),
        s_coat = s_coat + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',coat,') > 0),
        s_quilt = s_quilt + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',quilt,') > 0),
        s_food = s_food + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',food,') > 0),
        s_drink = s_drink + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',drink,') > 0),
        s_hotline_card = s_hotline_card + (instr(',' || COALESCE(NEW.supplies, '') || ',', ',hotline_card,') > 0)
    WHERE day = date(substr(NEW.created_at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes');
END;

-- The ledger by station day (beside ledger_hours of 0015): a campaign's totals read ~110 rows.
CREATE TABLE ledger_days (
    day TEXT PRIMARY KEY,
    n_pending INTEGER NOT NULL DEFAULT 0,
    y_pending INTEGER NOT NULL DEFAULT 0,
    n_approved INTEGER NOT NULL DEFAULT 0,
    y_approved INTEGER NOT NULL DEFAULT 0,
    n_paid INTEGER NOT NULL DEFAULT 0,
    y_paid INTEGER NOT NULL DEFAULT 0,
    n_rejected INTEGER NOT NULL DEFAULT 0,
    y_rejected INTEGER NOT NULL DEFAULT 0,
    n_reversal INTEGER NOT NULL DEFAULT 0,
    y_reversal INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO ledger_days (day, n_pending, y_pending, n_approved, y_approved, n_paid, y_paid, n_rejected, y_rejected, n_reversal, y_reversal)
SELECT date(substr(at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes'), SUM(entry IS 'pending'), SUM(CASE WHEN entry IS 'pending' THEN amount ELSE 0 END),
    SUM(entry IS 'approved'), SUM(CASE WHEN entry IS 'approved' THEN amount ELSE 0 END),
    SUM(entry IS 'paid'), SUM(CASE WHEN entry IS 'paid' THEN amount ELSE 0 END),
    SUM(entry IS 'rejected'), SUM(CASE WHEN entry IS 'rejected' THEN amount ELSE 0 END),
    SUM(entry IS 'reversal'), SUM(CASE WHEN entry IS 'reversal' THEN amount ELSE 0 END)
FROM ledger GROUP BY 1;
CREATE TRIGGER ledger_days_insert AFTER INSERT ON ledger
BEGIN
    INSERT OR IGNORE INTO ledger_days (day) VALUES (date(substr(NEW.at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes'));
    UPDATE ledger_days SET
        n_pending = n_pending + (NEW.entry IS 'pending'),
        y_pending = y_pending + (CASE WHEN NEW.entry IS 'pending' THEN NEW.amount ELSE 0 END),
        n_approved = n_approved + (NEW.entry IS 'approved'),
        y_approved = y_approved + (CASE WHEN NEW.entry IS 'approved' THEN NEW.amount ELSE 0 END),
        n_paid = n_paid + (NEW.entry IS 'paid'),
        y_paid = y_paid + (CASE WHEN NEW.entry IS 'paid' THEN NEW.amount ELSE 0 END),
        n_rejected = n_rejected + (NEW.entry IS 'rejected'),
        y_rejected = y_rejected + (CASE WHEN NEW.entry IS 'rejected' THEN NEW.amount ELSE 0 END),
        n_reversal = n_reversal + (NEW.entry IS 'reversal'),
        y_reversal = y_reversal + (CASE WHEN NEW.entry IS 'reversal' THEN NEW.amount ELSE 0 END)
    WHERE day = date(substr(NEW.at, 1, 19), (SELECT shift_minutes FROM rollup_days) || ' minutes');
END;

-- How many rewards are in each state now (the summary's "pending" count).
CREATE TABLE reward_states (
    state TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO reward_states (state, n) SELECT state, COUNT(*) FROM rewards GROUP BY state;
CREATE TRIGGER reward_states_insert AFTER INSERT ON rewards
BEGIN
    INSERT INTO reward_states (state, n) VALUES (NEW.state, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER reward_states_delete AFTER DELETE ON rewards
BEGIN
    UPDATE reward_states SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER reward_states_update AFTER UPDATE OF state ON rewards
BEGIN
    UPDATE reward_states SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO reward_states (state, n) VALUES (NEW.state, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
