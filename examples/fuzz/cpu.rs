//! CPU time, the fuzzer's clock: a niced run on a busy machine gets little wall time,
//! and neither its budget nor a case's time limit should depend on that.

use std::time::Instant;

/// This process's user + system CPU time (Linux `/proc`); elsewhere, wall time since
/// the first call.
pub fn seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            // After the command name: state is field 3, utime 14 and stime 15 (1-based).
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        });
    match ticks {
        Some(ticks) => ticks / 100.0,
        None => start.elapsed().as_secs_f64(),
    }
}
