-- Running totals for a long campaign (issue 16, bench/history.py): the daily summary and the
-- ledger totals read one row per UTC hour instead of every tip or ledger entry of the window.
-- Kept by triggers, so they change in the same transaction as the rows they count (a rolled
-- back transaction leaves both as they were); filled in here from the rows there are.
-- The columns follow bot/domain (Outcome, Supply, LedgerEntry): tests/test_rollups.py checks
-- that every value has its column, and that the totals equal a full recount.
-- An hour is the first 13 characters of a stored time (YYYY-MM-DDTHH, UTC).
CREATE TABLE tip_hours (
    hour TEXT PRIMARY KEY,
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
CREATE TABLE ledger_hours (
    hour TEXT PRIMARY KEY,
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
INSERT INTO tip_hours (hour, received, claimed, arrived, o_brought_in, o_hospital, o_supplies_only, o_family, o_not_found, o_gone, o_duplicate, o_invalid, s_coat, s_quilt, s_food, s_drink, s_hotline_card)
SELECT substr(created_at, 1, 13), SUM(1),
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
INSERT INTO ledger_hours (hour, n_pending, y_pending, n_approved, y_approved, n_paid, y_paid, n_rejected, y_rejected, n_reversal, y_reversal)
SELECT substr(at, 1, 13), SUM(entry IS 'pending'), SUM(CASE WHEN entry IS 'pending' THEN amount ELSE 0 END),
    SUM(entry IS 'approved'), SUM(CASE WHEN entry IS 'approved' THEN amount ELSE 0 END),
    SUM(entry IS 'paid'), SUM(CASE WHEN entry IS 'paid' THEN amount ELSE 0 END),
    SUM(entry IS 'rejected'), SUM(CASE WHEN entry IS 'rejected' THEN amount ELSE 0 END),
    SUM(entry IS 'reversal'), SUM(CASE WHEN entry IS 'reversal' THEN amount ELSE 0 END)
FROM ledger GROUP BY 1;
CREATE TRIGGER tip_hours_insert AFTER INSERT ON tips
BEGIN
    INSERT OR IGNORE INTO tip_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    UPDATE tip_hours SET
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
    WHERE hour = substr(NEW.created_at, 1, 13);
END;
CREATE TRIGGER tip_hours_delete AFTER DELETE ON tips
BEGIN
    UPDATE tip_hours SET
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
    WHERE hour = substr(OLD.created_at, 1, 13);
END;
CREATE TRIGGER tip_hours_update AFTER UPDATE OF created_at, claimed_at, arrived_at, outcome, supplies ON tips
BEGIN
    UPDATE tip_hours SET
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
    WHERE hour = substr(OLD.created_at, 1, 13);
    INSERT OR IGNORE INTO tip_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    UPDATE tip_hours SET
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
    WHERE hour = substr(NEW.created_at, 1, 13);
END;
CREATE TRIGGER ledger_hours_insert AFTER INSERT ON ledger
BEGIN
    INSERT OR IGNORE INTO ledger_hours (hour) VALUES (substr(NEW.at, 1, 13));
    UPDATE ledger_hours SET
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
    WHERE hour = substr(NEW.at, 1, 13);
END;
-- (No delete trigger for the ledger: it is append-only, see 0002_rewards.sql.)
