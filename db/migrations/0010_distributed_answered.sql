-- Answered distributed queries (rechecks, enrollment-time checks, live queries) were kept forever; the
-- retention prunes those answered before its cutoff (store/distributed.ts) by this index, not a table walk.
CREATE INDEX `distributed_answered` ON `distributed_queries` (`completed_at`) WHERE completed_at IS NOT NULL;
