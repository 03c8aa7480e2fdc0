//! The floor: the least work any deduplicator of this corpus must do.
//!
//! Read the corpus, parse each record's text, normalise it and hash every
//! shingle with seeded XXH3, in parallel on the same reader and thread pool
//! as `doppel dedup`, and nothing else: no signatures, no bands, no second
//! pass, no output. doppel's end-to-end time is measured against it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::batches::{for_each_batch, record_text};
use super::options::JobOptions;
use crate::Result;
use crate::input::{Corpus, Input};
use crate::shingle::{for_each_shingle_hash, normalize_bytes};

/// What the floor measured.
#[derive(Debug, Clone, Serialize)]
pub struct FloorSummary {
    /// Records whose text was hashed.
    pub documents: u64,
    /// Shingles hashed.
    pub shingles: u64,
    /// Bytes read from disk.
    pub input_bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Input bytes over seconds.
    pub bytes_per_second: f64,
    /// XOR of every shingle hash, so the work cannot be optimised away.
    pub checksum: String,
}

/// Runs the floor measurement over `inputs` with the shingling of `opts`.
pub fn floor(inputs: &[Input], opts: &JobOptions) -> Result<FloorSummary> {
    if opts.memory_limit_bytes.is_some() {
        return Err(crate::Error::config("--memory-limit does not apply to the floor, which keeps nothing"));
    }
    let started = Instant::now();
    let config = &opts.dedup;
    let spool = std::env::temp_dir();
    let corpus = Corpus::open(inputs, &spool)?;
    let counter = Arc::new(AtomicU64::new(0));
    let (mut documents, mut shingles, mut checksum) = (0u64, 0u64, 0u64);
    for_each_batch(&corpus, &counter, |batch| {
        let (d, s, x) = batch
            .records
            .par_iter()
            .map_init(Vec::new, |buf, rec| {
                let kind = &corpus.sources[rec.source as usize].kind;
                let Ok(text) = record_text(kind, batch.bytes(rec), &opts.fields) else { return (0, 0, 0) };
                normalize_bytes(&text, buf);
                let mut x = 0u64;
                let n = for_each_shingle_hash(buf, config.shingling, config.seed, |h| x ^= h);
                (1u64, n as u64, x)
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 ^ b.2));
        documents += d;
        shingles += s;
        checksum ^= x;
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(FloorSummary {
        documents,
        shingles,
        input_bytes: corpus.total_bytes(),
        seconds,
        bytes_per_second: corpus.total_bytes() as f64 / seconds.max(1e-9),
        checksum: format!("{checksum:016x}"),
    })
}
