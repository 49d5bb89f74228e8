SELECT user_id, email, username, display_name, role, active, scopes, version, created_at, updated_at
FROM users.users
WHERE user_id = $1
