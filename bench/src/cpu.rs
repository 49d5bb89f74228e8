//! Where the CPU went: a snapshot of the CPU time (user + system ticks) of
//! every process on the machine, grouped by role, taken before and after
//! each measurement. On a shared two-core machine this shows both what a
//! figure cost and what else was running.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::common::write_json;

/// CPU ticks by group, and the machine's busy and idle ticks.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seconds since boot when taken (from /proc/uptime).
    pub uptime: f64,
    /// Busy ticks of the whole machine (all CPUs).
    pub machine_busy: u64,
    /// Idle (and iowait) ticks of the whole machine.
    pub machine_idle: u64,
    /// Ticks per group of processes.
    pub groups: BTreeMap<String, u64>,
}

/// `(comm, utime + stime)` from a `/proc/<pid>/stat` line.
fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is the state (field 3); utime is field 14, stime field 15
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// Takes a snapshot. `named` maps pids to group names (our binaries, the
/// infrastructure); PostgreSQL backends serving `database` are grouped as
/// `postgres (bench db)`, the other PostgreSQL processes as `postgres
/// (other)`; the rest by command name where it is telling, else `other`.
pub fn snapshot(named: &BTreeMap<u32, String>, database: &str) -> anyhow::Result<Snapshot> {
    let mut snap = Snapshot::default();
    let stat = std::fs::read_to_string("/proc/stat").context("/proc/stat")?;
    if let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) {
        let v: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let get = |i: usize| v.get(i).copied().unwrap_or(0);
        snap.machine_busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
        snap.machine_idle = get(3) + get(4);
    }
    snap.uptime = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(line) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((comm, ticks)) = parse_stat(&line) else {
            continue;
        };
        let group = if let Some(name) = named.get(&pid) {
            name.clone()
        } else if comm == "postgres" {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if !database.is_empty() && cmdline.contains(&format!(" {database} ")) {
                "postgres (bench db)".into()
            } else {
                "postgres (other)".into()
            }
        } else if comm == "redis-server" {
            "redis".into()
        } else if comm == "khlang-bench" {
            "load generator".into()
        } else if comm == "java" {
            "java (perf tools, other)".into()
        } else if comm == "rustc" || comm == "cargo" || comm.starts_with("cc") || comm == "ld" {
            "compilers (other users)".into()
        } else {
            "other".into()
        };
        *snap.groups.entry(group).or_default() += ticks;
    }
    Ok(snap)
}

/// `name=pid` pairs into the map [`snapshot`] takes.
pub fn parse_named(pairs: &[String]) -> anyhow::Result<BTreeMap<u32, String>> {
    let mut named = BTreeMap::new();
    for pair in pairs {
        let (name, pid) = pair.split_once('=').context("--pid takes name=pid")?;
        if let Ok(pid) = pid.trim().parse::<u32>() {
            named.insert(pid, name.to_owned());
        }
    }
    Ok(named)
}

/// Takes a snapshot and writes it to `out`.
pub fn write_snapshot(pairs: &[String], database: &str, out: &Path) -> anyhow::Result<()> {
    let snap = snapshot(&parse_named(pairs)?, database)?;
    write_json(out, &snap)
}

/// Cores used per group between two snapshots (ticks / seconds / `clk_tck`).
pub fn cores(before: &Snapshot, after: &Snapshot, clk_tck: f64) -> (f64, BTreeMap<String, f64>) {
    let seconds = (after.uptime - before.uptime).max(1e-9);
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / clk_tck / seconds;
    let mut groups = BTreeMap::new();
    for (name, ticks) in &after.groups {
        let was = before.groups.get(name).copied().unwrap_or(0);
        groups.insert(name.clone(), per(*ticks, was));
    }
    groups.insert(
        "machine busy".into(),
        per(after.machine_busy, before.machine_busy),
    );
    (seconds, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_spaces_in_the_name() {
        let line = "123 (tokio rt) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(parse_stat(line), Some(("tokio rt".into(), 300)));
    }
}
