-- Placeholder only: keeps the migration numbers gapless on the h13b branch, whose own
-- migration is 0011. Drop this file when merging (0010 is another branch's number).
SELECT 1;
