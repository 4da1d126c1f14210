CREATE TABLE `sequences` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `check_states` ADD `result_seq` integer;--> statement-breakpoint
ALTER TABLE `latest_results` ADD `seq` integer DEFAULT 0 NOT NULL;