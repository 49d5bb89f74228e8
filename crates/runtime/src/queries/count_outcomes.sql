SELECT count(*) FROM khlang_runtime.command_outcomes
