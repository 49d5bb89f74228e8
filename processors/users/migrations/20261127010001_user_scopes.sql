-- Scopes granted to service and device accounts (upstream systems and
-- scanners). People have none: their role decides what they may do.
ALTER TABLE users.users ADD COLUMN scopes text[] NOT NULL DEFAULT '{}';
