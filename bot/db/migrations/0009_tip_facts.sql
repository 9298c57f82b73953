-- Two facts about a tip, kept on its row instead of being worked out by counting events:
-- when every patrol group was alerted (the second escalation: from then on a member of any
-- group may take the tip on), and when it was first claimed (a claim after a release is no
-- news to the reporter). Filled in from the event log for the tips there are.
ALTER TABLE tips ADD COLUMN widened_at TEXT;
ALTER TABLE tips ADD COLUMN first_claimed_at TEXT;
UPDATE tips SET widened_at = (
    SELECT MIN(at) FROM events WHERE events.tip_id = tips.id AND events.action = 'escalate_2'
);
UPDATE tips SET first_claimed_at = (
    SELECT MIN(at) FROM events WHERE events.tip_id = tips.id AND events.action = 'claim'
);
