//! The users processor: the single writer of khlang's user accounts.
//!
//! It consumes `khlang.users.commands` (keyed by user id, so one partition
//! owns each user), applies RegisterUser / UpdateUser / ChangeRole /
//! DeactivateUser to `users.users` inside the stream runtime's transaction,
//! emits user events on `khlang.users.events`, and keeps a Redis copy of what
//! the ingress looks up on every request (role, active, email and username
//! indexes). Every command ends in exactly one outcome; rejections carry a
//! stable reason code from [`reasons`].

mod cache;
mod config;
pub mod password;
mod processor;
pub mod reasons;
mod store;

pub use cache::UserCache;
pub use config::Config;
pub use processor::UsersProcessor;
pub use store::{User, UserStore};
