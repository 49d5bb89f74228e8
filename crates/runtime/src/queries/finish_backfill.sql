UPDATE khlang_runtime.backfills SET rows = $2 WHERE name = $1
