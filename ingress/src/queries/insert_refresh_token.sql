INSERT INTO ingress.refresh_tokens (token_id, session_id, secret_hash, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
