CREATE TABLE `device_certs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`sha1` text,
	`cert_serial` text,
	`device_serial` text,
	`not_before` integer,
	`not_after` integer,
	`issued_at` integer,
	`revoked_at` integer,
	`revoked_by` text,
	`revoke_reason` text
);
--> statement-breakpoint
CREATE INDEX `device_certs_device` ON `device_certs` (`device_serial`);--> statement-breakpoint
CREATE INDEX `device_certs_revoked` ON `device_certs` (`revoked_at`);--> statement-breakpoint
CREATE TABLE `devices` (
	`serial` text PRIMARY KEY NOT NULL,
	`hardware_uuid` text,
	`owners` text DEFAULT '[]' NOT NULL,
	`asset_tag` text,
	`source` text NOT NULL,
	`imported_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `enroll_rejections` (
	`serial` text NOT NULL,
	`hardware_uuid` text NOT NULL,
	`rejected_at` integer NOT NULL,
	`rejected_by` text NOT NULL,
	PRIMARY KEY(`serial`, `hardware_uuid`)
);
--> statement-breakpoint
ALTER TABLE `hosts` ADD `enroll_state` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `hosts` ADD `pending_reason` text;--> statement-breakpoint
ALTER TABLE `hosts` ADD `cert_sha256` text;--> statement-breakpoint
ALTER TABLE `hosts` ADD `cert_sha1` text;--> statement-breakpoint
ALTER TABLE `hosts` ADD `cert_serial` text;--> statement-breakpoint
ALTER TABLE `hosts` ADD `cert_not_after` integer;--> statement-breakpoint
CREATE INDEX `hosts_enroll_state` ON `hosts` (`enroll_state`);--> statement-breakpoint
CREATE INDEX `hosts_enroll_secret` ON `hosts` (`enroll_secret_name`);--> statement-breakpoint
-- A serial two machines reported was kept apart with both records denied (serial_conflict). Now the
-- first record enrolled stays established and the later ones wait, pending, for an admin.
UPDATE `hosts` SET `enroll_state` = 'pending', `pending_reason` = 'serial_conflict'
  WHERE `serial_conflict` = 1 AND `id` NOT IN (SELECT min(`id`) FROM `hosts` GROUP BY `serial`);--> statement-breakpoint
UPDATE `hosts` SET `serial_conflict` = 0 WHERE `serial_conflict` = 1;
