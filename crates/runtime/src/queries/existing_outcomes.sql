-- Which of a batch's command ids already have their one outcome.
SELECT command_id FROM khlang_runtime.command_outcomes WHERE command_id = ANY($1::text[])
