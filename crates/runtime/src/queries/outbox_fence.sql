-- The newest outbox row (any relay) waiting to be published to a topic.
SELECT max(seq) FROM khlang_runtime.outbox WHERE topic = $1
