-- State of the users processor. Email and username are unique without
-- regard to case; the unique indexes are what makes "exactly one wins" hold
-- when two registrations of one email arrive on different partitions.
CREATE SCHEMA IF NOT EXISTS users;

CREATE TABLE users.users (
    user_id       uuid PRIMARY KEY,
    email         text    NOT NULL,
    username      text    NOT NULL,
    display_name  text    NOT NULL,
    password_hash text    NOT NULL,
    role          text    NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    version       bigint  NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users.users (lower(email));
CREATE UNIQUE INDEX users_username_unique ON users.users (lower(username));
