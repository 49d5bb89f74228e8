SELECT role, active, scopes FROM users.users WHERE user_id = $1
