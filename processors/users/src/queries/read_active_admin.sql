SELECT EXISTS (SELECT 1 FROM users.users WHERE lower(email) = lower($1) AND role = 'admin' AND active)
