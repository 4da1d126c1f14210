CREATE TABLE `host_seen` (
	`host_id` integer PRIMARY KEY NOT NULL,
	`last_seen_at` integer NOT NULL,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `host_seen` (`host_id`, `last_seen_at`) SELECT `id`, `last_seen_at` FROM `hosts`;
--> statement-breakpoint
ALTER TABLE `hosts` DROP COLUMN `last_seen_at`;