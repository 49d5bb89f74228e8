-- Whether rows up to a sequence still wait to be published to a topic (the
-- relay deletes a row only after the Kafka transaction holding it committed).
SELECT EXISTS (SELECT 1 FROM khlang_runtime.outbox WHERE topic = $1 AND seq <= $2)
