//! Authentication: keys, access tokens, passwords, sessions, throttling.

pub mod keys;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use keys::KeySet;
pub use sessions::Sessions;
pub use throttle::Throttle;
pub use tokens::{Principal, Tokens};
