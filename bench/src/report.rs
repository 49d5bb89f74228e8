//! The Markdown table of one `make bench` run: every result beside the
//! ceiling Kafka's own tools measured in the same run, and the aims.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;

use crate::cpu::Snapshot;
use crate::infra::Applied;
use crate::load::{Closed, EndToEnd};

/// `ProducerPerformance`'s summary line.
#[derive(Debug, Default)]
struct ProducerPerf {
    records: f64,
    per_sec: f64,
    mb_per_sec: f64,
    avg_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn parse_producer(text: &str) -> Option<ProducerPerf> {
    // "200000 records sent, 95011.9 records/sec (22.66 MB/sec), 521.04 ms avg latency,
    //  960.00 ms max latency, 532 ms 50th, 866 ms 95th, 925 ms 99th, 953 ms 99.9th."
    let line = text.lines().rev().find(|l| l.contains("records sent"))?;
    let mut perf = ProducerPerf::default();
    for part in line.trim_end_matches('.').split(", ") {
        let number = |s: &str| s.split_whitespace().next()?.parse::<f64>().ok();
        if part.ends_with("records sent") {
            perf.records = number(part)?;
        } else if part.contains("records/sec") {
            perf.per_sec = number(part)?;
            perf.mb_per_sec = part
                .split('(')
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0);
        } else if part.ends_with("avg latency") {
            perf.avg_ms = number(part)?;
        } else if part.ends_with("50th") {
            perf.p50_ms = number(part)?;
        } else if part.ends_with(" 99th") {
            perf.p99_ms = number(part)?;
        }
    }
    Some(perf)
}

/// `ConsumerPerformance`'s CSV: header and one line of values.
fn parse_consumer(text: &str) -> Option<BTreeMap<String, f64>> {
    let mut lines = text.lines().filter(|l| l.contains(','));
    let header = lines.find(|l| l.contains("nMsg.sec"))?;
    let values = lines.next()?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    Some(
        names
            .iter()
            .zip(values.split(',').map(str::trim))
            .filter_map(|(n, v)| Some(((*n).to_owned(), v.parse::<f64>().ok()?)))
            .collect(),
    )
}

fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(error) => {
            eprintln!("{name}: {error}");
            None
        }
    }
}

fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn ratio(ours: f64, ceiling: Option<f64>) -> String {
    match ceiling {
        Some(c) if c > 0.0 => format!("{:.3}", ours / c),
        _ => "—".into(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "✅ yes"
    } else {
        "❌ no"
    }
}

/// Builds the table from the files of one run in `dir`.
#[allow(clippy::too_many_lines)]
pub fn build(dir: &Path) -> anyhow::Result<String> {
    let producer = std::fs::read_to_string(dir.join("producer-perf.txt"))
        .ok()
        .and_then(|t| parse_producer(&t));
    let consumer = std::fs::read_to_string(dir.join("consumer-perf.txt"))
        .ok()
        .and_then(|t| parse_consumer(&t));
    let prefill: Option<serde_json::Value> = read_json(dir, "prefill.json");
    let applied: Option<Applied> = read_json(dir, "apply.json");
    let single: Option<Closed> = read_json(dir, "ingress.json");
    let scans: Option<Closed> = read_json(dir, "scans.json");
    let e2e: Option<EndToEnd> = read_json(dir, "e2e.json");
    let e2e_low: Option<EndToEnd> = read_json(dir, "e2e-low.json");
    let meta: BTreeMap<String, String> = std::fs::read_to_string(dir.join("meta.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    // "name phase kB" per line: the peak since the previous reading (the
    // script resets VmHWM after each reading)
    let mut memory: Vec<(String, f64)> = Vec::new();
    let mut phases: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for line in std::fs::read_to_string(dir.join("memory.txt"))
        .unwrap_or_default()
        .lines()
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (name, phase, kb) = match parts.as_slice() {
            [name, phase, kb] => (*name, *phase, *kb),
            [name, kb] => (*name, "end", *kb),
            _ => continue,
        };
        let Ok(kb) = kb.parse::<f64>() else { continue };
        let mib = kb / 1024.0;
        phases
            .entry(name.to_owned())
            .or_default()
            .push((phase.to_owned(), mib));
        match memory.iter_mut().find(|(n, _)| n == name) {
            Some((_, peak)) => *peak = peak.max(mib),
            None => memory.push((name.to_owned(), mib)),
        }
    }
    let m = |k: &str| meta.get(k).cloned().unwrap_or_else(|| "?".into());

    let record_size = prefill
        .as_ref()
        .and_then(|p| p["avg_value_bytes"].as_f64())
        .unwrap_or(0.0);
    let ceiling_produce = producer.as_ref().map(|p| p.per_sec);
    let ceiling_consume = consumer
        .as_ref()
        .and_then(|c| c.get("fetch.nMsg.sec").copied());

    let mut t = String::new();
    writeln!(
        t,
        "| # | measurement | ours | ceiling (Kafka tool, same run) | ours / ceiling | latency p50 / p99 | aim | aim met |"
    )?;
    writeln!(t, "|---|---|---:|---:|---:|---|---|---|")?;
    if let Some(p) = &producer {
        writeln!(
            t,
            "| 1a | Kafka `ProducerPerformance`: {} records × {record_size:.0} B, acks=all, idempotent, 12 partitions, `--throughput -1` | — | {} records/s ({:.1} MB/s) | 1 | {:.0} / {:.0} ms (avg {:.0} ms) | — | — |",
            thousands(p.records), thousands(p.per_sec), p.mb_per_sec, p.p50_ms, p.p99_ms, p.avg_ms
        )?;
    }
    if let Some(c) = &consumer {
        writeln!(
            t,
            "| 1b | Kafka `ConsumerPerformance`: the pre-filled stock commands topic ({} records) | — | {} records/s (fetch; {} with group join) | 1 | — | — | — |",
            thousands(c.get("data.consumed.in.nMsg").copied().unwrap_or(0.0)),
            thousands(c.get("fetch.nMsg.sec").copied().unwrap_or(0.0)),
            thousands(c.get("nMsg.sec").copied().unwrap_or(0.0)),
        )?;
    }
    if let Some(s) = &single {
        let aim = 10_000.0;
        writeln!(
            t,
            "| 2a | `POST /v1/stock/receipts`, one command per request, {} connections closed loop, {:.0} s | {} commands/s | {} records/s | {} | {:.1} / {:.1} ms | ≥ 10,000/s | {} |",
            s.concurrency, s.seconds, thousands(s.units_per_sec), ceiling_produce.map_or("—".into(), thousands),
            ratio(s.units_per_sec, ceiling_produce), s.latency.p50, s.latency.p99, verdict(s.units_per_sec >= aim)
        )?;
    }
    if let Some(s) = &scans {
        let aim = 50_000.0;
        writeln!(
            t,
            "| 2b | `POST /v1/scans`, {} lines per batch, {} batches at a time, {:.0} s | {} lines/s | {} records/s | {} | {:.0} / {:.0} ms per batch | ≥ 50,000/s | {} |",
            s.lines_per_request, s.concurrency, s.seconds, thousands(s.units_per_sec), ceiling_produce.map_or("—".into(), thousands),
            ratio(s.units_per_sec, ceiling_produce), s.latency.p50, s.latency.p99, verdict(s.units_per_sec >= aim)
        )?;
    }
    if let Some(a) = &applied {
        let aim = 20_000.0;
        writeln!(
            t,
            "| 3 | `khlang-stock` applying {} pre-filled commands over {} items, effectively once (PG state + offsets + outbox in one transaction) | {} movements/s ({} with start-up) | {} records/s | {} | — | ≥ 20,000/s | {} |",
            thousands(a.expected as f64), m("items"), thousands(a.per_sec), thousands(a.per_sec_wall),
            ceiling_consume.map_or("—".into(), thousands), ratio(a.per_sec, ceiling_consume), verdict(a.per_sec >= aim)
        )?;
    }
    for (label, e, aimed) in [("4a", &e2e, true), ("4b", &e2e_low, false)] {
        let Some(e) = e else { continue };
        let ok = e.visible_after_202.p99 <= 100.0 && e.timed_out == 0 && e.failed == 0;
        writeln!(
            t,
            "| {label} | end to end: `202` → level visible in Redis, {} commands/s offered for {:.0} s over {} items (poll every {:.1} ms); {} of {} answered 202 | p99 {:.1} ms | — | — | {:.1} / {:.1} ms (request → 202: {:.1} / {:.1} ms) | {} | {} |",
            e.rate, e.seconds, e.items, e.poll_interval_us as f64 / 1000.0, thousands(e.accepted as f64), thousands(e.sent as f64),
            e.visible_after_202.p99, e.visible_after_202.p50, e.visible_after_202.p99, e.accept.p50, e.accept.p99,
            if aimed { "p99 ≤ 100 ms at 1,000/s" } else { "(below the aim's rate: the path without overload)" },
            if aimed { verdict(ok && e.rate >= 1000) } else { "—" }
        )?;
    }
    for (name, mib) in &memory {
        writeln!(
            t,
            "| 5 | peak resident memory (VmHWM) of `khlang-{name}`, whole run ({}) | {mib:.1} MiB | — | — | — | < 150 MiB | {} |",
            phases.get(name).map_or(String::new(), |p| p
                .iter()
                .map(|(phase, mib)| format!("{phase}: {mib:.0}"))
                .collect::<Vec<_>>()
                .join(", ")),
            verdict(*mib < 150.0)
        )?;
    }

    let mut notes = String::new();
    writeln!(notes)?;
    writeln!(
        notes,
        "Run {} on {} ({} CPUs, {}), Kafka {}, release binaries (`{}`).",
        m("started"),
        m("host"),
        m("cpus"),
        m("kernel"),
        m("kafka"),
        m("commit")
    )?;
    if let Some(p) = &prefill {
        writeln!(
            notes,
            "Command size: an encoded `StockCommand` Receive is {} B (Confluent wire format, Avro); the pre-filled mix averages {:.0} B values and {:.0} B keys.",
            p["receive_value_bytes"], record_size, p["avg_key_bytes"].as_f64().unwrap_or(0.0)
        )?;
        writeln!(
            notes,
            "Encoding: one `khlang_codec::Codec::encode` of that command takes {:.0} µs on this machine (one core, idle), next to {:.0} µs for composing the subject's schema (JSON parse of the schema and the envelope, then `apache_avro::Schema::parse_str`), which the codec does once per subject and caches.",
            p["encode_us"].as_f64().unwrap_or(0.0), p["compose_us"].as_f64().unwrap_or(0.0)
        )?;
    }
    if let Some(s) = &single {
        if s.failed_requests > 0 {
            writeln!(
                notes,
                "2a: {} requests failed: {:?}",
                s.failed_requests, s.errors
            )?;
        }
    }
    if let Some(s) = &scans {
        if s.failed_requests > 0 || s.units_rejected > 0 {
            writeln!(
                notes,
                "2b: {} batches failed, {} lines not accepted: {:?}",
                s.failed_requests, s.units_rejected, s.errors
            )?;
        }
    }
    if let Some(timeouts) = meta.get("stock_listoffsets_timeouts") {
        writeln!(
            notes,
            "khlang-stock logged {timeouts} `Timed out ListOffsetsRequest` (a broker query timing out; the lag gauge asks for watermarks on a thread of its own)."
        )?;
    }
    if let Some(a) = &applied {
        writeln!(
            notes,
            "3: {} accepted, {} rejected, {} dead-lettered; all applied {:.1} s after the process started; outbox (events and outcomes) empty after {}.",
            a.accepted,
            a.rejected,
            a.dlq,
            a.wall_seconds,
            a.outbox_drained_seconds
                .map_or("—".into(), |s| format!("{s:.1} s"))
        )?;
    }
    for (label, e, file) in [("4a", &e2e, "e2e"), ("4b", &e2e_low, "e2e-low")] {
        let Some(e) = e else { continue };
        let half = e.seconds * 500.0;
        if let Some((n, p50, p99)) = settled(dir, file, half) {
            writeln!(
                notes,
                "{label}: the second half of the run only (commands sent after {:.1} s, {n} of them): 202 → visible p50 {p50:.1} ms, p99 {p99:.1} ms (every command in `{file}-samples.csv`).",
                half / 1000.0
            )?;
        }
        writeln!(
            notes,
            "{label}: {} sent, {} answered 202, {} seen in Redis, {} not seen within 10 s, {} sends started > 5 ms late; Redis poll round trip p50 {:.2} ms; 202 → visible max {:.1} ms.",
            e.sent, e.accepted, e.visible, e.timed_out, e.late_starts, e.poll_rtt_p50_ms, e.visible_after_202.max
        )?;
    }
    let cpu = cpu_table(dir, &meta, &applied, &e2e, &e2e_low, &single, &scans)?;
    Ok(format!("{t}{notes}{cpu}"))
}

/// 202 → visible percentiles of the commands sent after `after_ms`, from
/// the samples CSV of an e2e run.
fn settled(dir: &Path, file: &str, after_ms: f64) -> Option<(usize, f64, f64)> {
    let text = std::fs::read_to_string(dir.join(format!("{file}-samples.csv"))).ok()?;
    let mut v: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let sent: f64 = f.first()?.parse().ok()?;
            (sent >= after_ms).then(|| f.get(3)?.parse().ok())?
        })
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    Some((v.len(), at(0.5), at(0.99)))
}

/// Cores used per group of processes during each measurement.
fn cpu_table(
    dir: &Path,
    meta: &BTreeMap<String, String>,
    applied: &Option<Applied>,
    e2e: &Option<EndToEnd>,
    e2e_low: &Option<EndToEnd>,
    single: &Option<Closed>,
    scans: &Option<Closed>,
) -> anyhow::Result<String> {
    let clk_tck: f64 = meta
        .get("clk_tck")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0);
    let phases = [
        (
            "3 stock apply",
            "apply",
            applied.as_ref().map(|a| a.expected as f64),
            None,
        ),
        (
            "4a e2e",
            "e2e",
            e2e.as_ref().map(|e| e.accepted as f64),
            e2e.as_ref().map(|e| e.generator_cpu_ticks),
        ),
        (
            "4b e2e",
            "e2e-low",
            e2e_low.as_ref().map(|e| e.accepted as f64),
            e2e_low.as_ref().map(|e| e.generator_cpu_ticks),
        ),
        (
            "2a single commands",
            "ingress",
            single.as_ref().map(|s| s.units as f64),
            single.as_ref().map(|s| s.generator_cpu_ticks),
        ),
        (
            "2b scan lines",
            "scans",
            scans.as_ref().map(|s| s.units as f64),
            scans.as_ref().map(|s| s.generator_cpu_ticks),
        ),
    ];
    let mut rows = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for (label, file, units, generator) in phases {
        let before: Option<Snapshot> = read_json(dir, &format!("cpu-{file}-before.json"));
        let after: Option<Snapshot> = read_json(dir, &format!("cpu-{file}-after.json"));
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        let (seconds, mut groups) = crate::cpu::cores(&before, &after, clk_tck);
        // processes that ended within the phase (compilers, tools) are in
        // the machine's busy time only
        let named: f64 = groups
            .iter()
            .filter(|(k, _)| k.as_str() != "machine busy")
            .map(|(_, v)| v)
            .sum();
        let busy = groups.get("machine busy").copied().unwrap_or(0.0);
        groups.insert(
            "exited processes (by difference)".into(),
            (busy - named).max(0.0),
        );
        // the load generator has exited by the second snapshot; it reports
        // its own CPU time
        if let Some(ticks) = generator.filter(|t| *t > 0) {
            groups.insert(
                "load generator (khlang-bench)".into(),
                ticks as f64 / clk_tck / seconds,
            );
        }
        for name in groups.keys() {
            if name != "machine busy" && !columns.contains(name) {
                columns.push(name.clone());
            }
        }
        rows.push((label, seconds, units, groups));
    }
    if rows.is_empty() {
        return Ok(String::new());
    }
    // the biggest consumers first
    let total = |name: &String| -> f64 {
        rows.iter()
            .map(|(_, _, _, g)| g.get(name).copied().unwrap_or(0.0))
            .sum()
    };
    columns.sort_by(|a, b| total(b).total_cmp(&total(a)));
    columns.retain(|c| total(c) >= 0.005);
    let mut t = String::new();
    writeln!(t)?;
    writeln!(
        t,
        "CPU used during each measurement, in cores (2 = both cores busy the whole time), from /proc:"
    )?;
    writeln!(t)?;
    write!(
        t,
        "| measurement | s | machine busy | CPU µs per unit, whole machine |"
    )?;
    for c in &columns {
        write!(t, " {c} |")?;
    }
    writeln!(t)?;
    write!(t, "|---|---:|---:|---:|")?;
    for _ in &columns {
        write!(t, "---:|")?;
    }
    writeln!(t)?;
    for (label, seconds, units, groups) in &rows {
        let busy = groups.get("machine busy").copied().unwrap_or(0.0);
        let per_unit = units
            .filter(|u| *u > 0.0)
            .map_or("—".into(), |u| format!("{:.0}", busy * seconds * 1e6 / u));
        write!(t, "| {label} | {seconds:.1} | {busy:.2} | {per_unit} |")?;
        for c in &columns {
            write!(t, " {:.2} |", groups.get(c).copied().unwrap_or(0.0))?;
        }
        writeln!(t)?;
    }
    Ok(t)
}

/// Prints the table and writes it to `out`.
pub fn report(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let table = build(dir)?;
    println!("{table}");
    std::fs::write(out, table).with_context(|| format!("writing {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_producer_performance() {
        let text = "1000 records sent, 200.0 records/sec\n200000 records sent, 95011.9 records/sec (22.66 MB/sec), 521.04 ms avg latency, 960.00 ms max latency, 532 ms 50th, 866 ms 95th, 925 ms 99th, 953 ms 99.9th.\n";
        let p = parse_producer(text).expect("parsed");
        assert!((p.per_sec - 95011.9).abs() < 1e-6);
        assert!((p.mb_per_sec - 22.66).abs() < 1e-6);
        assert!((p.p50_ms - 532.0).abs() < 1e-6);
        assert!((p.p99_ms - 925.0).abs() < 1e-6);
    }

    #[test]
    fn parses_consumer_performance() {
        let text = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2025-01-01 00:00:00:000, 2025-01-01 00:00:03:000, 11.9, 3.9, 50000, 16666.6, 2900, 100, 119.0, 500000.0\n";
        let c = parse_consumer(text).expect("parsed");
        assert_eq!(c.get("fetch.nMsg.sec").copied(), Some(500000.0));
        assert_eq!(c.get("data.consumed.in.nMsg").copied(), Some(50000.0));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }
}
