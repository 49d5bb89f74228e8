SELECT t.secret_hash,
       t.session_id,
       s.user_id,
       t.used_at IS NOT NULL    AS used,
       t.expires_at <= now()    AS expired,
       s.revoked_at IS NOT NULL AS revoked
FROM ingress.refresh_tokens t
JOIN ingress.sessions s USING (session_id)
WHERE t.token_id = $1
FOR UPDATE OF t
