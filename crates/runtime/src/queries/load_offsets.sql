SELECT partition, next_offset
FROM khlang_runtime.consumer_offsets
WHERE consumer_group = $1 AND topic = $2 AND partition = ANY($3::int[])
