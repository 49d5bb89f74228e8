SELECT count(*) FROM khlang_runtime.outbox WHERE relay = $1
