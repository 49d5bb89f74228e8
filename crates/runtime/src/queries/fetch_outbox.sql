SELECT seq, topic, key, payload, headers
FROM khlang_runtime.outbox
WHERE relay = $1
ORDER BY seq
LIMIT $2
