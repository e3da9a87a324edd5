-- The outbox is a queue: empty most of the time, thousands of rows in a burst. A VACUUM
-- that finds it empty truncates it to no pages, and a statement prepared then (every
-- connection prepares once) keeps a sequential scan as its plan: at a few thousand replies
-- waiting, every look-up of one reply by id read them all (0.5 ms each on a grown database,
-- BENCHMARKS.md, "Replicas on PostgreSQL"). Kept pages keep the planner on the indexes.
-- The erasure marks are looked up by key the same way.
ALTER TABLE outboxid_outbound SET (vacuum_truncate = false);
ALTER TABLE citizenkey_erasing SET (vacuum_truncate = false);
-- A key waiting for its citizen's last reply is looked up by pseudonym after every reply
-- sent (`MARKED_SLOT`); the index on states other than live held every erased key too.
CREATE INDEX keyring_slots_marked ON keyring_slots (pseudonym) WHERE state = 3;
