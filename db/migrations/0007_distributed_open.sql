-- issue #16: the work queue lists the hosts with open queries every 2 s; without this index that walked every
-- answered query too (at 100k hosts a 55-75 ms event-loop stall each time)
CREATE INDEX `distributed_open` ON `distributed_queries` (`host_id`,`completed_at`) WHERE completed_at IS NULL;