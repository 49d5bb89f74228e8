SELECT EXISTS (SELECT 1 FROM users.users WHERE lower(email) = lower($1) AND user_id <> $2)
