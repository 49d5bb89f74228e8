//! Stable reason codes of rejected user commands. Documented in
//! `docs/users.md`; a test there keeps the list and the page in step.

/// A user with this id already exists.
pub const USER_EXISTS: &str = "user_exists";
/// No user with this id.
pub const USER_NOT_FOUND: &str = "user_not_found";
/// The user is deactivated.
pub const USER_INACTIVE: &str = "user_inactive";
/// Another user has this email.
pub const EMAIL_TAKEN: &str = "email_taken";
/// Another user has this username.
pub const USERNAME_TAKEN: &str = "username_taken";
/// The email is not a valid address.
pub const INVALID_EMAIL: &str = "invalid_email";
/// The username is not 3–32 of `a-z 0-9 . _ -`.
pub const INVALID_USERNAME: &str = "invalid_username";
/// The display name is empty or longer than 100 characters.
pub const INVALID_DISPLAY_NAME: &str = "invalid_display_name";
/// The role is not one of khlang's roles.
pub const INVALID_ROLE: &str = "invalid_role";
/// The password hash is not an argon2id PHC string.
pub const INVALID_PASSWORD_HASH: &str = "invalid_password_hash";
/// The command has no payload, or several.
pub const INVALID_COMMAND: &str = "invalid_command";

/// Every reason code.
pub const ALL: [&str; 11] = [
    USER_EXISTS,
    USER_NOT_FOUND,
    USER_INACTIVE,
    EMAIL_TAKEN,
    USERNAME_TAKEN,
    INVALID_EMAIL,
    INVALID_USERNAME,
    INVALID_DISPLAY_NAME,
    INVALID_ROLE,
    INVALID_PASSWORD_HASH,
    INVALID_COMMAND,
];
