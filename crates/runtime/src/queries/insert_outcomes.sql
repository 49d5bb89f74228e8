-- The outcomes of a whole batch in one statement, one array per column.
INSERT INTO khlang_runtime.command_outcomes
    (command_id, consumer_group, command_type, aggregate_id, status, reason_code, message,
     correlation_id, source_topic, source_partition, source_offset)
SELECT o.command_id, $1, o.command_type, o.aggregate_id, o.status, o.reason_code, o.message,
    o.correlation_id, o.source_topic, o.source_partition, o.source_offset
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::int[], $11::bigint[])
    AS o (command_id, command_type, aggregate_id, status, reason_code, message, correlation_id,
        source_topic, source_partition, source_offset)
ON CONFLICT (command_id) DO NOTHING
