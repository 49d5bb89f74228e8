INSERT INTO users.users (user_id, email, username, display_name, password_hash, role, active, version, scopes)
VALUES ($1, $2, $3, $4, $5, $6, true, 1, $7)
ON CONFLICT DO NOTHING
