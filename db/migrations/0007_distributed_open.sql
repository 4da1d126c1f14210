-- issue #16: the work queue lists the hosts with open queries every 2 s; it read every answered query
-- too (at 100k hosts a 55-75 ms event-loop stall each time). Open queries only, by when they were queued.
CREATE INDEX `distributed_open` ON `distributed_queries` (`created_at`,`host_id`) WHERE completed_at IS NULL;