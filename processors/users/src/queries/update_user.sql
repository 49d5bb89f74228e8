UPDATE users.users
SET email = $2, display_name = $3, password_hash = $4, role = $5, active = $6,
    version = version + 1, updated_at = now()
WHERE user_id = $1
RETURNING version
