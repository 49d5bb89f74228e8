//! Login throttling in Redis, keyed three ways.
//!
//! - (account, address): a few failures and that pair waits. An attacker
//!   guessing from one address slows down; the real user, elsewhere, is not
//!   affected.
//! - account: a much higher ceiling across all addresses, against guessing
//!   spread over many addresses. It locks everyone out of that account, so it
//!   is high and lasts one window at most.
//! - address: a ceiling across accounts, against one address trying many.
//!
//! Counters are fixed windows (`INCR` + `EXPIRE`); a refused client is told
//! in `Retry-After` when its window ends. Success clears the pair counter.

use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::config::AuthConfig;
use crate::error::{ApiError, Code};

/// Login failure counters.
#[derive(Clone)]
pub struct Throttle {
    redis: ConnectionManager,
    prefix: String,
    pair_limit: u64,
    account_limit: u64,
    address_limit: u64,
    window_secs: u64,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("pair_limit", &self.pair_limit)
            .field("account_limit", &self.account_limit)
            .field("address_limit", &self.address_limit)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// Counters in `redis` under `prefix`, limits from `config`.
    #[must_use]
    pub fn new(redis: ConnectionManager, prefix: &str, config: &AuthConfig) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            pair_limit: config.pair_failure_limit,
            account_limit: config.account_failure_limit,
            address_limit: config.address_failure_limit,
            window_secs: config.failure_window_secs.max(1),
        }
    }

    fn keys(&self, account: &str, address: &str) -> [(String, u64); 3] {
        let account = account.to_lowercase();
        [
            (
                format!("{}login-fail:pair:{account}:{address}", self.prefix),
                self.pair_limit,
            ),
            (
                format!("{}login-fail:account:{account}", self.prefix),
                self.account_limit,
            ),
            (
                format!("{}login-fail:address:{address}", self.prefix),
                self.address_limit,
            ),
        ]
    }

    /// Refuses with `too_many_attempts` when any counter is at its limit.
    ///
    /// # Errors
    /// `too_many_attempts` with `Retry-After`; `service_unavailable` when
    /// Redis cannot answer.
    pub async fn check(&self, account: &str, address: &str) -> Result<(), ApiError> {
        let keys = self.keys(account, address);
        let mut pipe = redis::pipe();
        for (key, _) in &keys {
            pipe.get(key).ttl(key);
        }
        let mut redis = self.redis.clone();
        let values: Vec<(Option<u64>, i64)> = {
            let raw: Vec<redis::Value> = pipe.query_async(&mut redis).await?;
            raw.chunks(2)
                .map(|pair| {
                    let count = redis::from_redis_value::<Option<u64>>(pair[0].clone())
                        .ok()
                        .flatten();
                    let ttl = redis::from_redis_value::<i64>(pair[1].clone()).unwrap_or(-1);
                    (count, ttl)
                })
                .collect()
        };
        let mut wait = 0i64;
        for ((_, limit), (count, ttl)) in keys.iter().zip(values) {
            if count.unwrap_or(0) >= *limit {
                wait = wait.max(if ttl > 0 { ttl } else { 1 });
            }
        }
        if wait > 0 {
            return Err(ApiError::new(
                Code::TooManyAttempts,
                "too many failed sign-ins; wait before trying again",
            )
            .retry_after(Duration::from_secs(wait.unsigned_abs())));
        }
        Ok(())
    }

    /// Counts one failure on every key.
    ///
    /// # Errors
    /// `service_unavailable` when Redis cannot answer.
    pub async fn failed(&self, account: &str, address: &str) -> Result<(), ApiError> {
        let mut pipe = redis::pipe();
        for (key, _) in self.keys(account, address) {
            // NX: the window starts at the first failure and is not extended.
            pipe.incr(&key, 1u64)
                .ignore()
                .cmd("EXPIRE")
                .arg(&key)
                .arg(self.window_secs)
                .arg("NX")
                .ignore();
        }
        let mut redis = self.redis.clone();
        let () = pipe.query_async(&mut redis).await?;
        Ok(())
    }

    /// Clears the pair counter after a successful sign-in.
    ///
    /// # Errors
    /// `service_unavailable` when Redis cannot answer.
    pub async fn succeeded(&self, account: &str, address: &str) -> Result<(), ApiError> {
        let [(pair, _), _, _] = self.keys(account, address);
        let mut redis = self.redis.clone();
        let () = redis::cmd("DEL").arg(pair).query_async(&mut redis).await?;
        Ok(())
    }
}
