-- Blocks of the duration histograms (issue 16, bench/history.py): the counts of 0016's
-- leg_days and leg_totals summed per run of 16 buckets (bucket / 16: bot/domain/histogram.py
-- BLOCK). A quantile reads the window's blocks (at most 144 per leg) to find the block holding
-- each rank it needs, then only those blocks' buckets — two short reads, not every bucket in
-- use (~300 per leg for one day at 1M tips). Kept by triggers on the bucket tables, so in the
-- transaction that changes them (which their own triggers on tips do); filled in here from
-- them. tests/test_histograms.py checks them against a full recount.
CREATE TABLE leg_day_blocks (
    day TEXT NOT NULL,  -- as leg_days.day
    leg TEXT NOT NULL,
    block INTEGER NOT NULL,  -- bucket / 16
    n INTEGER NOT NULL,
    PRIMARY KEY (day, leg, block)
) WITHOUT ROWID;
CREATE TABLE leg_total_blocks (
    leg TEXT NOT NULL,
    block INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (leg, block)
) WITHOUT ROWID;
INSERT INTO leg_day_blocks (day, leg, block, n)
SELECT day, leg, bucket / 16, SUM(n) FROM leg_days WHERE n != 0 GROUP BY 1, 2, 3;
INSERT INTO leg_total_blocks (leg, block, n)
SELECT leg, bucket / 16, SUM(n) FROM leg_totals WHERE n != 0 GROUP BY 1, 2;

-- Every change adds its difference to the block (an upsert: a block row is made when missing).
-- A count changed (the triggers on tips: n ± 1): one statement. A key changed (nothing does
-- that today): out of the old block, into the new one.
CREATE TRIGGER leg_day_blocks_insert AFTER INSERT ON leg_days
BEGIN
    INSERT INTO leg_day_blocks (day, leg, block, n) VALUES (NEW.day, NEW.leg, NEW.bucket / 16, NEW.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_day_blocks_delete AFTER DELETE ON leg_days
BEGIN
    INSERT INTO leg_day_blocks (day, leg, block, n) VALUES (OLD.day, OLD.leg, OLD.bucket / 16, -OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_day_blocks_count AFTER UPDATE OF n ON leg_days
WHEN OLD.day IS NEW.day AND OLD.leg IS NEW.leg AND OLD.bucket IS NEW.bucket
BEGIN
    INSERT INTO leg_day_blocks (day, leg, block, n) VALUES (NEW.day, NEW.leg, NEW.bucket / 16, NEW.n - OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_day_blocks_move AFTER UPDATE OF day, leg, bucket ON leg_days
WHEN OLD.day IS NOT NEW.day OR OLD.leg IS NOT NEW.leg OR OLD.bucket IS NOT NEW.bucket
BEGIN
    INSERT INTO leg_day_blocks (day, leg, block, n) VALUES (OLD.day, OLD.leg, OLD.bucket / 16, -OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO leg_day_blocks (day, leg, block, n) VALUES (NEW.day, NEW.leg, NEW.bucket / 16, NEW.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER leg_total_blocks_insert AFTER INSERT ON leg_totals
BEGIN
    INSERT INTO leg_total_blocks (leg, block, n) VALUES (NEW.leg, NEW.bucket / 16, NEW.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_total_blocks_delete AFTER DELETE ON leg_totals
BEGIN
    INSERT INTO leg_total_blocks (leg, block, n) VALUES (OLD.leg, OLD.bucket / 16, -OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_total_blocks_count AFTER UPDATE OF n ON leg_totals
WHEN OLD.leg IS NEW.leg AND OLD.bucket IS NEW.bucket
BEGIN
    INSERT INTO leg_total_blocks (leg, block, n) VALUES (NEW.leg, NEW.bucket / 16, NEW.n - OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leg_total_blocks_move AFTER UPDATE OF leg, bucket ON leg_totals
WHEN OLD.leg IS NOT NEW.leg OR OLD.bucket IS NOT NEW.bucket
BEGIN
    INSERT INTO leg_total_blocks (leg, block, n) VALUES (OLD.leg, OLD.bucket / 16, -OLD.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO leg_total_blocks (leg, block, n) VALUES (NEW.leg, NEW.bucket / 16, NEW.n)
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;
