-- The next offset of every partition a batch advanced, in one statement.
UPDATE khlang_runtime.consumer_offsets AS c
SET next_offset = n.next_offset, updated_at = now()
FROM unnest($2::text[], $3::int[], $4::bigint[]) AS n (topic, partition, next_offset)
WHERE c.consumer_group = $1 AND c.topic = n.topic AND c.partition = n.partition
