-- Reserved: this number belongs to another branch of this session (see issue 16's report).
-- The lead drops this file when merging that branch's own 0013 migration.
SELECT 1;
