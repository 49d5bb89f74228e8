SELECT EXISTS (SELECT 1 FROM users.users WHERE lower(username) = lower($1) AND user_id <> $2)
