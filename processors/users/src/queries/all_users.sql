SELECT user_id, email, username, display_name, password_hash, role, active, version, scopes
FROM users.users
