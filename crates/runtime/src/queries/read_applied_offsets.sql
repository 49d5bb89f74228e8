-- The next offset of each partition of $1 stored with a processor's state.
SELECT partition, max(next_offset) AS next_offset
FROM khlang_runtime.consumer_offsets
WHERE topic = $1
GROUP BY partition
