DELETE FROM khlang_runtime.outbox WHERE relay = $1 AND seq <= $2
