-- issue #16: the certificate index's refresh (every 30 s) read each active host's certificate columns
-- from the hosts' wide rows, 1,000 hosts (~500 pages) per read, 10-25 ms each under load at 10k hosts.
-- A covering index holds the columns it reads; its prefix serves the lookups by state as before.
DROP INDEX `hosts_enroll_state`;--> statement-breakpoint
CREATE INDEX `hosts_enroll_state_certs` ON `hosts` (`enroll_state`,`id`,`serial`,`cert_sha256`,`cert_sha1`,`cert_serial`,`cert_not_after`);