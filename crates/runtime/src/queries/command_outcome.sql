SELECT command_id, status, reason_code, message
FROM khlang_runtime.command_outcomes
WHERE command_id = $1
