-- issue #16: the certificate index (devices/cert-index.ts) re-read every active host every 30 s to pick up
-- changes made by another process (the CLI approving, holding or unenrolling a device, revoking a
-- certificate): at 100k hosts, 100k rows into the heap and a full collection every 30 s, with nothing changed.
-- The database now counts the changes the index depends on, whichever process makes them: a host added or
-- removed; a host's serial, enrollment state or bound certificate changed; an issued certificate recorded,
-- revoked or removed. The index reads this one number and rebuilds only when it moved.
INSERT INTO `sequences` (`name`, `value`) VALUES ('device_identity', 0) ON CONFLICT (`name`) DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER `hosts_identity_insert` AFTER INSERT ON `hosts` BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
--> statement-breakpoint
CREATE TRIGGER `hosts_identity_delete` AFTER DELETE ON `hosts` BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
--> statement-breakpoint
CREATE TRIGGER `hosts_identity_update` AFTER UPDATE OF `serial`, `enroll_state`, `cert_sha256`, `cert_sha1`, `cert_serial`,
  `cert_not_after` ON `hosts`
WHEN OLD.`serial` IS NOT NEW.`serial`
  OR OLD.`enroll_state` IS NOT NEW.`enroll_state`
  OR OLD.`cert_sha256` IS NOT NEW.`cert_sha256`
  OR OLD.`cert_sha1` IS NOT NEW.`cert_sha1`
  OR OLD.`cert_serial` IS NOT NEW.`cert_serial`
  OR OLD.`cert_not_after` IS NOT NEW.`cert_not_after`
BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
--> statement-breakpoint
CREATE TRIGGER `device_certs_identity_insert` AFTER INSERT ON `device_certs` BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
--> statement-breakpoint
CREATE TRIGGER `device_certs_identity_update` AFTER UPDATE ON `device_certs` BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
--> statement-breakpoint
CREATE TRIGGER `device_certs_identity_delete` AFTER DELETE ON `device_certs` BEGIN
  UPDATE `sequences` SET `value` = `value` + 1 WHERE `name` = 'device_identity';
END;
