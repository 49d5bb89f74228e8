-- The ingress's own state: sessions and refresh tokens, idempotency keys,
-- and which commands it accepted for whom. No domain state lives here.
CREATE SCHEMA IF NOT EXISTS ingress;

-- A session is one sign-in; its refresh tokens form a family. Revoking the
-- session revokes every token of the family and the access tokens that
-- name it (through Redis, checked on every request).
CREATE TABLE ingress.sessions (
    session_id  uuid PRIMARY KEY,
    user_id     uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_why text
);
CREATE INDEX sessions_user ON ingress.sessions (user_id);

-- Only a SHA-256 of each refresh token is kept. A token is used once: the
-- refresh that uses it issues the next one of the family.
CREATE TABLE ingress.refresh_tokens (
    token_id    uuid PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES ingress.sessions (session_id),
    secret_hash bytea NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session ON ingress.refresh_tokens (session_id);

-- Idempotency-Key: the first answer to a (principal, key), kept at least
-- 24 hours. `response_status` is null while the first request is in flight.
CREATE TABLE ingress.idempotency_keys (
    principal        text  NOT NULL,
    idempotency_key  text  NOT NULL,
    request_hash     bytea NOT NULL,
    response_status  int,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON ingress.idempotency_keys (created_at);

-- Commands the ingress published (after Kafka acknowledged them), so that
-- GET /v1/commands/{id} knows "pending" from "never heard of it" and who
-- may see it. The outcome itself is the processor's
-- (khlang_runtime.command_outcomes).
CREATE TABLE ingress.commands (
    command_id     text PRIMARY KEY,
    principal      text NOT NULL,
    command_type   text NOT NULL,
    aggregate_id   text NOT NULL,
    correlation_id text NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now()
);
