SELECT user_id, email, username, display_name, role, active, scopes, version, created_at, updated_at
FROM users.users
WHERE ($1::text IS NULL OR role = $1)
  AND ($2::boolean IS NULL OR active = $2)
  AND ($3::text IS NULL
       OR email ILIKE '%' || $3 || '%'
       OR username ILIKE '%' || $3 || '%'
       OR display_name ILIKE '%' || $3 || '%')
  AND ($4::uuid IS NULL OR user_id > $4)
ORDER BY user_id
LIMIT $5
