CREATE TABLE `account_mappings` (
	`serial` text NOT NULL,
	`account` text NOT NULL,
	`person` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	PRIMARY KEY(`serial`, `account`)
);
--> statement-breakpoint
-- issue #13: break-glass grants count one canonical person (trimmed, lower-cased e-mail) against the limit
UPDATE `break_glass_grants` SET `user` = lower(trim(`user`)) WHERE `user` != lower(trim(`user`));
