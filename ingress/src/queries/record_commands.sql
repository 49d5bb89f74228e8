-- Published commands of a group of requests, one statement (see
-- command_log.rs). A repeated id is skipped and reported by its absence.
INSERT INTO ingress.commands (command_id, principal, command_type, aggregate_id, correlation_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (command_id) DO NOTHING
RETURNING command_id
