//! Failpoints for the fault tests. With `DOPPEL_FAILPOINT=NAME` (or
//! `NAME:N`), a debug build aborts, as a kill would, the first (or N-th)
//! time it reaches the point `NAME`: no destructor runs, no temporary file
//! is removed. `NAME=touch:PATH` instead rewrites the file `PATH` in place
//! there (the same bytes: only its times change), as a writer that is not
//! done with an input would. Release builds compile the points away.
//!
//! `NAME=enospc` makes the I/O at a point of [`io`] fail as a full disk
//! does.
//!
//! Points: `commit` (outputs synced, not yet in place), `rename` (before
//! each rename of an in-place commit), `spill` (before each spill file is
//! made), `spool` (stdin copied, the run not started), `write_pass` (the
//! input read once, about to be read again for the outputs); and for
//! [`io`], `spool_write` (each write of a spool) and `output_sync` (the
//! outputs flushed to disk).

/// Marks the point `name` of an I/O step: fails as a full disk does when
/// `DOPPEL_FAILPOINT=NAME=enospc` (debug builds).
#[inline]
pub fn io(name: &str) -> std::io::Result<()> {
    #[cfg(debug_assertions)]
    if std::env::var("DOPPEL_FAILPOINT").is_ok_and(|spec| spec == format!("{name}=enospc")) {
        // ENOSPC, as the kernel says it.
        return Err(std::io::Error::from_raw_os_error(28));
    }
    let _ = name;
    Ok(())
}

/// Marks the point `name`.
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static HITS: AtomicU64 = AtomicU64::new(0);
        let Ok(spec) = std::env::var("DOPPEL_FAILPOINT") else { return };
        let (point, action) = spec.split_once('=').unwrap_or((spec.as_str(), "abort"));
        let (point, nth) = match point.split_once(':') {
            Some((p, n)) => (p, n.parse::<u64>().unwrap_or(1)),
            None => (point, 1),
        };
        if point != name || HITS.fetch_add(1, Ordering::SeqCst) + 1 != nth {
            return;
        }
        match action.strip_prefix("touch:") {
            Some(path) => {
                // Another second on the clock, so that a coarse file system
                // sees a new modification time too.
                std::thread::sleep(std::time::Duration::from_millis(20));
                if let Ok(bytes) = std::fs::read(path) {
                    let _ = std::fs::write(path, bytes);
                }
            }
            None => {
                eprintln!("doppel: failpoint {name} reached: aborting");
                std::process::abort();
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
