-- Indexes for a long campaign (bench/history.py: 10k → 1M tips).
-- The daily summary counts the tips created in a window (yesterday, campaign to date): without
-- this index every summary read the whole table.
CREATE INDEX tips_created ON tips(created_at);
-- Ledger totals (/ledger, the summary) sum entries by kind over a time window: with the kind
-- and the amount in the index, the sums never touch the table.
CREATE INDEX ledger_totals ON ledger(at, entry, amount);
