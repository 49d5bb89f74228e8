UPDATE khlang_runtime.consumer_offsets
SET next_offset = $4, updated_at = now()
WHERE consumer_group = $1 AND topic = $2 AND partition = $3
