CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_unique` ON `api_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`actor` text NOT NULL,
	`serial` text,
	`data` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_type` ON `audit_log` (`type`);--> statement-breakpoint
CREATE INDEX `audit_serial` ON `audit_log` (`serial`);--> statement-breakpoint
CREATE TABLE `break_glass_grants` (
	`id` text PRIMARY KEY NOT NULL,
	`serial` text NOT NULL,
	`user` text NOT NULL,
	`resource` text NOT NULL,
	`tier` text NOT NULL,
	`reason` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`activated_at` integer,
	`expires_at` integer,
	`requested_by` text NOT NULL,
	`approved_by` text,
	`revoked_by` text,
	`reviewed_by` text,
	`reviewed_at` integer
);
--> statement-breakpoint
CREATE INDEX `break_glass_user` ON `break_glass_grants` (`user`,`created_at`);--> statement-breakpoint
CREATE INDEX `break_glass_serial` ON `break_glass_grants` (`serial`);--> statement-breakpoint
CREATE TABLE `carve_blocks` (
	`session_id` text NOT NULL,
	`block_id` integer NOT NULL,
	`data` blob NOT NULL,
	PRIMARY KEY(`session_id`, `block_id`),
	FOREIGN KEY (`session_id`) REFERENCES `carves`(`session_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `carves` (
	`session_id` text PRIMARY KEY NOT NULL,
	`host_id` integer NOT NULL,
	`carve_id` text NOT NULL,
	`request_id` text NOT NULL,
	`block_count` integer NOT NULL,
	`block_size` integer NOT NULL,
	`carve_size` integer NOT NULL,
	`blocks_received` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `check_states` (
	`host_id` integer NOT NULL,
	`check_id` text NOT NULL,
	`status` text NOT NULL,
	`observed` text NOT NULL,
	`message` text NOT NULL,
	`observed_at` integer,
	`first_failed_at` integer,
	`last_passed_at` integer,
	`error` text,
	PRIMARY KEY(`host_id`, `check_id`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `distributed_queries` (
	`id` text PRIMARY KEY NOT NULL,
	`host_id` integer NOT NULL,
	`sql` text NOT NULL,
	`kind` text NOT NULL,
	`ref` text NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`completed_at` integer,
	`status` integer,
	`message` text,
	`rows` text,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `distributed_pending` ON `distributed_queries` (`host_id`,`completed_at`);--> statement-breakpoint
CREATE INDEX `distributed_ref` ON `distributed_queries` (`ref`);--> statement-breakpoint
CREATE TABLE `enroll_secrets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `enroll_secrets_name_unique` ON `enroll_secrets` (`name`);--> statement-breakpoint
CREATE TABLE `hosts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`serial` text NOT NULL,
	`hardware_uuid` text NOT NULL,
	`host_identifier` text NOT NULL,
	`hostname` text NOT NULL,
	`platform` text NOT NULL,
	`os_platform` text NOT NULL,
	`os_name` text NOT NULL,
	`os_version` text NOT NULL,
	`osquery_version` text NOT NULL,
	`hardware_vendor` text NOT NULL,
	`hardware_model` text NOT NULL,
	`details` text NOT NULL,
	`node_key_hash` text,
	`enroll_secret_name` text NOT NULL,
	`serial_conflict` integer DEFAULT 0 NOT NULL,
	`enrolled_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `hosts_serial_uuid` ON `hosts` (`serial`,`hardware_uuid`);--> statement-breakpoint
CREATE UNIQUE INDEX `hosts_node_key_hash` ON `hosts` (`node_key_hash`);--> statement-breakpoint
CREATE INDEX `hosts_serial` ON `hosts` (`serial`);--> statement-breakpoint
CREATE TABLE `latest_results` (
	`host_id` integer NOT NULL,
	`query_key` text NOT NULL,
	`rows` text NOT NULL,
	`observed_at` integer NOT NULL,
	`epoch` integer NOT NULL,
	`counter` integer NOT NULL,
	`error` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`host_id`, `query_key`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `latest_results_query` ON `latest_results` (`query_key`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `status_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`host_id` integer NOT NULL,
	`unix_time` integer NOT NULL,
	`severity` integer NOT NULL,
	`filename` text NOT NULL,
	`line` integer NOT NULL,
	`message` text NOT NULL,
	`version` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `status_logs_host` ON `status_logs` (`host_id`,`id`);