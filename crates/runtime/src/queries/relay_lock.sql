SELECT pg_try_advisory_lock(hashtextextended('khlang.relay.' || $1, 0))
