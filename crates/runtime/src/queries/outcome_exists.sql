SELECT EXISTS (SELECT 1 FROM khlang_runtime.command_outcomes WHERE command_id = $1)
