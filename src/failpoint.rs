//! Failpoints for the fault tests: with `DOPPEL_FAILPOINT=NAME` (or
//! `NAME:N`), a debug build aborts, as a kill would, the first (or N-th)
//! time it reaches the point `NAME`: no destructor runs, no temporary file
//! is removed. Release builds compile the points away.
//!
//! Points: `commit` (outputs synced, not yet in place), `rename` (before
//! each rename of an in-place commit), `spill` (before each spill file is
//! written), `spool` (stdin copied, the run not started).

/// Marks the point `name`.
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static HITS: AtomicU64 = AtomicU64::new(0);
        let Ok(spec) = std::env::var("DOPPEL_FAILPOINT") else { return };
        let (point, nth) = match spec.split_once(':') {
            Some((p, n)) => (p.to_string(), n.parse::<u64>().unwrap_or(1)),
            None => (spec, 1),
        };
        if point == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == nth {
            eprintln!("doppel: failpoint {name} reached: aborting");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
