-- Personal data removed by `warmline purge` (anonymous statistics stay).
ALTER TABLE tips ADD COLUMN purged_at TEXT;
