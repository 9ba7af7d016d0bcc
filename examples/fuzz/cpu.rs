//! CPU time, the fuzzer's clock: a niced run on a busy machine gets little wall time,
//! and neither its budget nor a case's time limit should depend on that.

use std::time::Instant;

/// This process's user + system CPU time (Linux `/proc`); elsewhere, wall time since
/// the first call.
pub fn seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    of("self").unwrap_or_else(|| start.elapsed().as_secs_f64())
}

/// The CPU time of process `pid` (`"self"` or a number), while it is alive.
pub fn of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based), in
    // clock ticks of 1/100 s.
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}
