//! What the subcommands share: the item grid, percentiles, signing in,
//! waiting for outcomes, writing results.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use khlang_contract::values::Ean13;
use serde::Serialize;
use serde_json::{json, Value};

/// The SKU of product `i` (`BENCH-0000`…).
pub fn sku(i: usize) -> String {
    format!("BENCH-{i:04}")
}

/// The code of warehouse `j` (`BW00`…).
pub fn warehouse(j: usize) -> String {
    format!("BW{j:02}")
}

/// Item `k` of a grid of `products` × `warehouses`: the first `products`
/// items are every product at the first warehouse, and so on.
pub fn item(k: usize, products: usize, warehouses: usize) -> (String, String) {
    let k = k % (products * warehouses).max(1);
    (sku(k % products), warehouse(k / products))
}

/// A valid EAN-13 per index (`885` then the index + 1, then the check digit).
pub fn ean13(i: usize) -> String {
    Ean13::from_body(885_000_000_000 + i as u64 + 1).into_inner()
}

/// Latency percentiles of a sample, milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Sample size.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 90th.
    pub p90: f64,
    /// 99th.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Percentiles of `sample` (nearest rank), milliseconds.
pub fn percentiles(mut sample: Vec<Duration>) -> Percentiles {
    if sample.is_empty() {
        return Percentiles::default();
    }
    sample.sort_unstable();
    let at = |q: f64| {
        let i = ((sample.len() as f64 * q).ceil() as usize).clamp(1, sample.len()) - 1;
        sample[i].as_secs_f64() * 1000.0
    };
    Percentiles {
        n: sample.len(),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// An HTTP client for load: keep-alive, many idle connections.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Signs in; returns the access token.
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login as {login}: {}", response.status());
    }
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")
}

/// Signs in, retrying for up to `patience` (the bootstrap admin exists
/// only once the users processor has applied it).
pub async fn login_eventually(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
    patience: Duration,
) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match login(http, base, user, password).await {
            Ok(token) => return Ok(token),
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Waits until a command is no longer pending; returns its status.
pub async fn outcome(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    command_id: &str,
) -> anyhow::Result<String> {
    for _ in 0..12 {
        let body: Value = http
            .get(format!("{base}/v1/commands/{command_id}?wait=5"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let status = body["status"].as_str().unwrap_or("?");
        if status != "pending" {
            return Ok(status.to_owned());
        }
    }
    bail!("command {command_id} stayed pending for a minute")
}

/// Writes `value` as pretty JSON to `path` (and creates the directory).
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// CPU time this process has used so far (user + system, all threads), in
/// clock ticks (`/proc/self/stat`); the load generator reports it because it
/// exits before the CPU snapshot after its phase is taken.
pub fn own_cpu_ticks() -> u64 {
    let Ok(line) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    let Some(rest) = line.rfind(')').and_then(|i| line.get(i + 1..)) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tick(11) + tick(12)
}

/// Reads a secret from a file (trailing newline removed).
pub fn read_secret(path: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim_end_matches(['\n', '\r'])
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13s_are_valid_and_distinct() {
        assert_eq!(ean13(0), "8850000000010");
        assert!(Ean13::parse(&ean13(41)).is_ok());
        assert_ne!(ean13(1), ean13(2));
    }

    #[test]
    fn percentiles_nearest_rank() {
        let sample: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = percentiles(sample);
        assert_eq!(p.n, 100);
        assert!((p.p50 - 50.0).abs() < 1e-9);
        assert!((p.p99 - 99.0).abs() < 1e-9);
        assert!((p.max - 100.0).abs() < 1e-9);
    }

    #[test]
    fn items_cover_the_grid() {
        assert_eq!(item(0, 200, 5), ("BENCH-0000".into(), "BW00".into()));
        assert_eq!(item(201, 200, 5), ("BENCH-0001".into(), "BW01".into()));
        assert_eq!(item(1000, 200, 5), item(0, 200, 5));
    }
}
