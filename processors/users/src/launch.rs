//! What the runtime's `launch` needs to run the users processor.

use async_trait::async_trait;
use khlang_contract::topics::{
    USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS, USER_COMMAND_SUBJECT, USER_EVENT_SUBJECT,
};
use khlang_contract::{Subject, TopicName};
use khlang_runtime::launch::BoxError;
use khlang_runtime::{LaunchContext, NoExtension, ProcessorSpec, RedisCopy};
use sqlx::migrate::MigrateError;
use sqlx::PgPool;

use crate::{UserCache, UsersProcessor};

/// The users processor, as `khlang_runtime::launch` runs it: service
/// `users`, telemetry on port 9101, no keys of its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Users;

#[async_trait]
impl ProcessorSpec for Users {
    type Extension = NoExtension;
    type Cache = UserCache;
    type Processor = UsersProcessor;

    const NAME: &'static str = "users";
    const TELEMETRY_PORT: u16 = 9101;
    const COMMANDS: TopicName = USERS_COMMANDS;
    const COMMANDS_DLQ: TopicName = USERS_COMMANDS_DLQ;
    const EVENTS: TopicName = USERS_EVENTS;
    const COMMAND_SUBJECT: Subject = USER_COMMAND_SUBJECT;
    const EVENT_SUBJECT: Subject = USER_EVENT_SUBJECT;

    async fn migrate(&self, pool: &PgPool) -> Result<(), MigrateError> {
        crate::migrate(pool).await
    }

    async fn processor(
        &self,
        ctx: &LaunchContext<NoExtension>,
        cache: Option<UserCache>,
    ) -> Result<UsersProcessor, BoxError> {
        Ok(UsersProcessor::new(
            ctx.pool.clone(),
            cache,
            ctx.topics.events,
        ))
    }
}

#[async_trait]
impl RedisCopy for UserCache {
    const WHAT: &'static str = "users";

    async fn connect(url: &str, prefix: &str) -> Result<Self, BoxError> {
        Ok(UserCache::connect(url, prefix).await?)
    }

    async fn rebuild(&self, pool: &PgPool) -> Result<usize, BoxError> {
        Ok(UserCache::rebuild(self, pool).await?)
    }
}
