//! Load through the ingress, as clients would: catalog set-up, single
//! stock commands (closed loop), scanner batches (closed loop), and the
//! end-to-end latency from `202` to the level in Redis (open loop).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::stream::{self, StreamExt as _};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::common::{
    ean13, http_client, item, login, login_eventually, outcome, percentiles, sku, warehouse,
    write_json, Percentiles,
};

/// Makes the catalog the stock commands need (warehouses and products, all
/// through the ingress, waiting for their outcomes) and a scanner device;
/// writes the device's login and secret to `device_out` (mode 0600).
pub async fn seed(
    base: &str,
    admin: &str,
    password: &str,
    products: usize,
    warehouses: usize,
    device_out: &Path,
) -> anyhow::Result<()> {
    let http = http_client()?;
    let token = login_eventually(&http, base, admin, password, Duration::from_secs(60)).await?;
    let started = Instant::now();
    let mut writes: Vec<(reqwest::Method, String, Value)> = Vec::new();
    for j in 0..warehouses {
        let code = warehouse(j);
        writes.push((
            reqwest::Method::PUT,
            format!("/v1/warehouses/{code}"),
            json!({"name_th": format!("คลังทดสอบ {code}"), "name_en": format!("Bench {code}"),
                   "address": "-", "active": true}),
        ));
    }
    for i in 0..products {
        let code = sku(i);
        writes.push((
            reqwest::Method::POST,
            "/v1/products".into(),
            json!({"sku": code, "name_th": format!("สินค้าทดสอบ {code}"), "name_en": code,
                   "category": "bench", "unit": "piece", "barcodes": [ean13(i)],
                   "price": "10.00", "cost": "7.50", "min_stock": 5}),
        ));
    }
    let total = writes.len();
    let results: Vec<anyhow::Result<()>> = stream::iter(writes)
        .map(|(method, path, body)| {
            let (http, token) = (http.clone(), token.clone());
            async move {
                let response = http
                    .request(method, format!("{base}{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status();
                if status != reqwest::StatusCode::ACCEPTED {
                    bail!("{path}: {status} {}", response.text().await?);
                }
                let body: Value = response.json().await?;
                let id = body["command_id"].as_str().context("no command_id")?;
                match outcome(&http, base, &token, id).await?.as_str() {
                    "accepted" => Ok(()),
                    other => bail!("{path}: {other}"),
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result?;
    }
    eprintln!(
        "catalog: {warehouses} warehouses and {products} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let username = "bench-scanner";
    let response = http
        .post(format!("{base}/v1/service-accounts"))
        .bearer_auth(&token)
        .json(
            &json!({"username": username, "display_name": "Bench scanner",
                      "kind": "device", "scopes": ["scans:write"]}),
        )
        .send()
        .await?;
    let status = response.status();
    if status != reqwest::StatusCode::ACCEPTED {
        bail!("device account: {status} {}", response.text().await?);
    }
    let body: Value = response.json().await?;
    let id = body["command_id"].as_str().context("no command_id")?;
    let secret = body["client_secret"]
        .as_str()
        .context("no client_secret")?
        .to_owned();
    let status = outcome(&http, base, &token, id).await?;
    if status != "accepted" {
        bail!("device account: {status}");
    }
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(device_out)?;
        writeln!(file, "{username}\n{secret}")?;
    }
    eprintln!(
        "device account {username} made ({} writes in all)",
        total + 1
    );
    Ok(())
}

/// Result of a closed-loop run.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Closed {
    /// What was measured.
    pub what: String,
    /// Concurrent requests.
    pub concurrency: usize,
    /// Lines per request (1 for single commands).
    pub lines_per_request: usize,
    /// Measured seconds (after the warm-up).
    pub seconds: f64,
    /// Requests answered with the expected status.
    pub ok_requests: u64,
    /// Requests answered otherwise (or failed).
    pub failed_requests: u64,
    /// Units accepted (commands, or accepted scan lines).
    pub units: u64,
    /// Lines not accepted inside otherwise good batches.
    pub units_rejected: u64,
    /// units / seconds.
    pub units_per_sec: f64,
    /// Latency per request, ms.
    pub latency: Percentiles,
    /// A sample of failures.
    pub errors: Vec<String>,
    /// CPU ticks the load generator used (its whole run).
    #[serde(default)]
    pub generator_cpu_ticks: u64,
}

struct Sample {
    ok: bool,
    units: u64,
    rejected: u64,
    took: Duration,
    error: Option<String>,
}

/// Runs `concurrency` workers, each sending `request` back to back, for
/// `warmup + seconds`; only requests started after the warm-up count.
async fn closed_loop<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    seconds: Duration,
    request: F,
) -> (Vec<Sample>, Duration)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Sample> + Send + 'static,
{
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let stop_at = measure_from + seconds;
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut n: u64 = w as u64;
            loop {
                let sent = Instant::now();
                if sent >= stop_at {
                    break;
                }
                let sample = request(n).await;
                n += concurrency as u64;
                if sent >= measure_from {
                    samples.push(sample);
                }
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        if let Ok(samples) = worker.await {
            all.extend(samples);
        }
    }
    // the last requests end a little after stop_at; count the real span
    let span = Instant::now().duration_since(measure_from);
    (all, span)
}

fn summarize(
    what: String,
    concurrency: usize,
    lines: usize,
    samples: Vec<Sample>,
    span: Duration,
) -> Closed {
    let seconds = span.as_secs_f64();
    let ok = samples.iter().filter(|s| s.ok).count() as u64;
    let units: u64 = samples.iter().map(|s| s.units).sum();
    let units_rejected: u64 = samples.iter().map(|s| s.rejected).sum();
    let mut errors: Vec<String> = samples.iter().filter_map(|s| s.error.clone()).collect();
    errors.sort();
    errors.dedup();
    errors.truncate(5);
    let latency = percentiles(samples.iter().filter(|s| s.ok).map(|s| s.took).collect());
    Closed {
        what,
        concurrency,
        lines_per_request: lines,
        seconds,
        ok_requests: ok,
        failed_requests: samples.len() as u64 - ok,
        units,
        units_rejected,
        units_per_sec: units as f64 / seconds,
        latency,
        errors,
        generator_cpu_ticks: crate::common::own_cpu_ticks(),
    }
}

fn report(result: &Closed) {
    eprintln!(
        "{}: {:.0}/s over {:.1} s ({} ok, {} failed requests; p50 {:.1} ms, p99 {:.1} ms){}",
        result.what,
        result.units_per_sec,
        result.seconds,
        result.ok_requests,
        result.failed_requests,
        result.latency.p50,
        result.latency.p99,
        if result.errors.is_empty() {
            String::new()
        } else {
            format!("; errors: {:?}", result.errors)
        }
    );
}

/// Single stock commands, one per request: `POST /v1/stock/receipts`.
#[allow(clippy::too_many_arguments)]
pub async fn ingress_load(
    base: &str,
    admin: &str,
    password: &str,
    concurrency: usize,
    warmup: Duration,
    seconds: Duration,
    products: usize,
    warehouses: usize,
    out: &Path,
) -> anyhow::Result<()> {
    let http = http_client()?;
    let token = Arc::new(login(&http, base, admin, password).await?);
    let url = Arc::new(format!("{base}/v1/stock/receipts"));
    let request = move |n: u64| {
        let (http, token, url) = (http.clone(), token.clone(), url.clone());
        async move {
            let (sku, wh) = item(n as usize, products, warehouses);
            let sent = Instant::now();
            let result = http
                .post(url.as_str())
                .bearer_auth(token.as_str())
                .json(&json!({"sku": sku, "warehouse": wh, "quantity": 1, "reference": "BENCH"}))
                .send()
                .await;
            let (ok, error) = match result {
                Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => {
                    // read the body: a client would, and the connection is reused
                    let _ = r.bytes().await;
                    (true, None)
                }
                Ok(r) => (false, Some(format!("HTTP {}", r.status()))),
                Err(e) => (false, Some(e.to_string())),
            };
            Sample {
                ok,
                units: u64::from(ok),
                rejected: 0,
                took: sent.elapsed(),
                error,
            }
        }
    };
    let (samples, span) = closed_loop(concurrency, warmup, seconds, request).await;
    let result = summarize(
        format!("POST /v1/stock/receipts ×{concurrency}"),
        concurrency,
        1,
        samples,
        span,
    );
    report(&result);
    write_json(out, &result)
}

/// Scanner batches: `POST /v1/scans`, `batch` NDJSON lines each.
#[allow(clippy::too_many_arguments)]
pub async fn scans_load(
    base: &str,
    device: &str,
    secret: &str,
    batch: usize,
    concurrency: usize,
    warmup: Duration,
    seconds: Duration,
    products: usize,
    warehouses: usize,
    out: &Path,
) -> anyhow::Result<()> {
    let http = http_client()?;
    let token = Arc::new(login(&http, base, device, secret).await?);
    let url = Arc::new(format!("{base}/v1/scans"));
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let run = Arc::new(run);
    let request = move |n: u64| {
        let (http, token, url, run) = (http.clone(), token.clone(), url.clone(), run.clone());
        async move {
            let mut body = String::with_capacity(batch * 110);
            for line in 0..batch {
                let (sku, wh) = item(n as usize * batch + line, products, warehouses);
                body.push_str(
                    &json!({"scan_id": format!("{run}-{n}-{line}"), "type": "receive",
                            "sku": sku, "warehouse": wh, "quantity": 1})
                    .to_string(),
                );
                body.push('\n');
            }
            let sent = Instant::now();
            let result = http
                .post(url.as_str())
                .bearer_auth(token.as_str())
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await;
            let (ok, units, rejected, error) = match result {
                Ok(r) if r.status() == reqwest::StatusCode::OK => match r.json::<Value>().await {
                    Ok(answer) => {
                        let accepted = answer["accepted"].as_u64().unwrap_or(0);
                        let rejected = answer["rejected"].as_u64().unwrap_or(0);
                        (true, accepted, rejected, None)
                    }
                    Err(e) => (false, 0, 0, Some(e.to_string())),
                },
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    (false, 0, 0, Some(format!("HTTP {status} {text:.200}")))
                }
                Err(e) => (false, 0, 0, Some(e.to_string())),
            };
            Sample {
                ok,
                units,
                rejected,
                took: sent.elapsed(),
                error,
            }
        }
    };
    let (samples, span) = closed_loop(concurrency, warmup, seconds, request).await;
    let result = summarize(
        format!("POST /v1/scans {batch} lines ×{concurrency}"),
        concurrency,
        batch,
        samples,
        span,
    );
    report(&result);
    write_json(out, &result)
}

/// Result of the end-to-end run.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct EndToEnd {
    /// Offered rate, commands per second.
    pub rate: u64,
    /// Items the commands go to.
    pub items: usize,
    /// Seconds of offered load.
    pub seconds: f64,
    /// Commands sent.
    pub sent: u64,
    /// Answered 202.
    pub accepted: u64,
    /// Answered otherwise.
    pub failed: u64,
    /// Seen in Redis.
    pub visible: u64,
    /// Not seen in Redis within the patience.
    pub timed_out: u64,
    /// Requests that started more than 5 ms late (the generator fell behind).
    pub late_starts: u64,
    /// Poll interval of the Redis watcher, microseconds.
    pub poll_interval_us: u64,
    /// Median time of one Redis poll (a pipeline of HGETs), ms.
    pub poll_rtt_p50_ms: f64,
    /// Request → 202.
    pub accept: Percentiles,
    /// 202 → visible in Redis.
    pub visible_after_202: Percentiles,
    /// Request → visible in Redis.
    pub visible_after_request: Percentiles,
    /// CPU ticks the load generator used (its whole run).
    #[serde(default)]
    pub generator_cpu_ticks: u64,
}

/// A command's answer, sent to the watcher.
struct Answer {
    item: usize,
    /// 1-based position among the commands sent to this item.
    seq: u64,
    ok: bool,
    sent: Instant,
    answered: Instant,
}

struct Watch {
    item: usize,
    seq: u64,
    sent: Instant,
    accepted: Instant,
}

/// Per item: which of its commands were answered 202, in send order, so a
/// command's target level counts only the accepted ones before it.
#[derive(Default)]
struct ItemAnswers {
    known: std::collections::BTreeMap<u64, bool>,
    resolved: u64,
    accepted: i64,
    targets: HashMap<u64, i64>,
}

impl ItemAnswers {
    fn record(&mut self, seq: u64, ok: bool, base: i64) {
        self.known.insert(seq, ok);
        while let Some(ok) = self.known.remove(&(self.resolved + 1)) {
            self.resolved += 1;
            if ok {
                self.accepted += 1;
                self.targets.insert(self.resolved, base + self.accepted);
            }
        }
    }
}

/// Open loop at `rate` commands/s for `seconds`: each a receipt of 1 unit,
/// round robin over the first `items` items; after each `202` a watcher
/// polls Redis until that item's `on_hand` reaches what it must be once the
/// command is applied: the level before the run plus the number of
/// accepted commands to that item up to and including this one. (Receipts
/// of one item are sent `items / rate` seconds apart, so they reach Kafka
/// in the order they were sent unless the ingress is overloaded.)
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
pub async fn e2e(
    base: &str,
    admin: &str,
    password: &str,
    redis_url: &str,
    prefix: &str,
    rate: u64,
    seconds: f64,
    items: usize,
    products: usize,
    warehouses: usize,
    poll: Duration,
    out: &Path,
    samples: Option<&Path>,
) -> anyhow::Result<()> {
    let http = http_client()?;
    let token = Arc::new(login(&http, base, admin, password).await?);
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = (0..items)
        .map(|k| {
            let (s, w) = item(k, products, warehouses);
            format!("{prefix}stock:{s}@{w}")
        })
        .collect();
    // where each item stands now (the stock processor is idle)
    let mut pipe = redis::pipe();
    for key in &keys {
        pipe.cmd("HGET").arg(key).arg("on_hand");
    }
    let base_levels: Vec<Option<i64>> = pipe.query_async(&mut conn).await?;
    let base_levels: Vec<i64> = base_levels.into_iter().map(|v| v.unwrap_or(0)).collect();

    let (answer_tx, mut answer_rx) = mpsc::unbounded_channel::<Answer>();
    let started = Instant::now();
    let watcher = {
        let keys = keys.clone();
        let base_levels = base_levels.clone();
        tokio::spawn(async move {
            let patience = Duration::from_secs(10);
            let mut answers: Vec<ItemAnswers> =
                (0..keys.len()).map(|_| ItemAnswers::default()).collect();
            let mut watching: Vec<Watch> = Vec::new();
            let mut accept_times = Vec::new();
            let mut failed = 0u64;
            let mut after_202 = Vec::new();
            let mut after_request = Vec::new();
            let mut rtts = Vec::new();
            let mut timed_out = 0u64;
            let mut open = true;
            let mut ticker = tokio::time::interval(poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                loop {
                    match answer_rx.try_recv() {
                        Ok(a) => {
                            answers[a.item].record(a.seq, a.ok, base_levels[a.item]);
                            if a.ok {
                                accept_times.push(a.answered.duration_since(a.sent));
                                watching.push(Watch {
                                    item: a.item,
                                    seq: a.seq,
                                    sent: a.sent,
                                    accepted: a.answered,
                                });
                            } else {
                                failed += 1;
                            }
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                }
                if watching.is_empty() {
                    if open {
                        continue;
                    }
                    break;
                }
                let mut wanted: Vec<usize> = watching.iter().map(|w| w.item).collect();
                wanted.sort_unstable();
                wanted.dedup();
                let mut pipe = redis::pipe();
                for &i in &wanted {
                    pipe.cmd("HGET").arg(&keys[i]).arg("on_hand");
                }
                let polled = Instant::now();
                let levels: Vec<Option<i64>> = match pipe.query_async(&mut conn).await {
                    Ok(levels) => levels,
                    Err(error) => {
                        eprintln!("redis poll: {error}");
                        continue;
                    }
                };
                let now = Instant::now();
                rtts.push(now.duration_since(polled));
                let level: HashMap<usize, i64> = wanted
                    .iter()
                    .zip(levels)
                    .map(|(&i, v)| (i, v.unwrap_or(0)))
                    .collect();
                watching.retain(|w| {
                    // the target is known once every earlier command to
                    // the item has been answered
                    let target = answers[w.item].targets.get(&w.seq).copied();
                    let seen = level.get(&w.item).copied().unwrap_or(0);
                    if target.is_some_and(|t| seen >= t) {
                        answers[w.item].targets.remove(&w.seq);
                        after_202.push(now.duration_since(w.accepted));
                        after_request.push((
                            w.sent.duration_since(started).as_secs_f64() * 1000.0,
                            w.item,
                            now.duration_since(w.sent),
                        ));
                        false
                    } else if now.duration_since(w.accepted) > patience {
                        timed_out += 1;
                        false
                    } else {
                        true
                    }
                });
            }
            (
                accept_times,
                failed,
                after_202,
                after_request,
                rtts,
                timed_out,
            )
        })
    };

    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let total = (rate as f64 * seconds).round() as u64;
    let mut sequence = vec![0u64; items];
    let mut late = 0u64;
    let url = Arc::new(format!("{base}/v1/stock/receipts"));
    for n in 0..total {
        let due = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        if Instant::now().duration_since(due) > Duration::from_millis(5) {
            late += 1;
        }
        let k = (n as usize) % items;
        sequence[k] += 1;
        let seq = sequence[k];
        let (s, w) = item(k, products, warehouses);
        let (http, token, answer_tx, url) =
            (http.clone(), token.clone(), answer_tx.clone(), url.clone());
        tokio::spawn(async move {
            let sent = Instant::now();
            let response = http
                .post(url.as_str())
                .bearer_auth(token.as_str())
                .json(&json!({"sku": s, "warehouse": w, "quantity": 1, "reference": "E2E"}))
                .send()
                .await;
            let answered = Instant::now();
            let ok = matches!(&response, Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED);
            let _ = answer_tx.send(Answer {
                item: k,
                seq,
                ok,
                sent,
                answered,
            });
            if let Ok(r) = response {
                let _ = r.bytes().await;
            }
        });
    }
    drop(answer_tx);
    let (accept_times, failed, after_202, after_request, rtts, timed_out) = watcher.await?;
    let result = EndToEnd {
        rate,
        items,
        seconds,
        sent: total,
        accepted: accept_times.len() as u64,
        failed,
        visible: after_202.len() as u64,
        timed_out,
        late_starts: late,
        poll_interval_us: poll.as_micros() as u64,
        poll_rtt_p50_ms: percentiles(rtts).p50,
        accept: percentiles(accept_times),
        visible_after_202: percentiles(after_202.clone()),
        visible_after_request: percentiles(after_request.iter().map(|(_, _, d)| *d).collect()),
        generator_cpu_ticks: crate::common::own_cpu_ticks(),
    };
    if let Some(path) = samples {
        let mut csv = String::from("sent_at_ms,item,request_to_202_ms,visible_after_202_ms\n");
        let mut rows: Vec<_> = after_request.iter().zip(&after_202).collect();
        rows.sort_by(|a, b| a.0 .0.total_cmp(&b.0 .0));
        for ((sent_at, item, to_visible), after) in rows {
            let to_202 = to_visible.saturating_sub(*after);
            csv.push_str(&format!(
                "{sent_at:.1},{item},{:.2},{:.2}\n",
                to_202.as_secs_f64() * 1000.0,
                after.as_secs_f64() * 1000.0
            ));
        }
        std::fs::write(path, csv)?;
    }
    eprintln!(
        "e2e at {rate}/s: {} sent, {} 202, {} visible, {} timed out; 202→redis p50 {:.1} ms p99 {:.1} ms; request→202 p50 {:.1} ms p99 {:.1} ms",
        result.sent, result.accepted, result.visible, result.timed_out,
        result.visible_after_202.p50, result.visible_after_202.p99,
        result.accept.p50, result.accept.p99
    );
    if result.failed > 0 {
        eprintln!(
            "warning: {} commands were not accepted; later targets of their items are unreachable",
            result.failed
        );
    }
    write_json(out, &result)
}
