SELECT user_id, password_hash, role, active, scopes
FROM users.users
WHERE lower(email) = lower($1) OR lower(username) = lower($1)
LIMIT 1
