INSERT INTO khlang_runtime.command_outcomes
    (command_id, consumer_group, command_type, aggregate_id, status, reason_code, message,
     correlation_id, source_topic, source_partition, source_offset)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (command_id) DO NOTHING
