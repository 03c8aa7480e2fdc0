//! The `doppel run` job: `clean` then `dedup`, without a cleaned copy of
//! the corpus in between. After the learning pass, dedup's sign pass
//! cleans each text as it reads it and signs the cleaned text at once,
//! logging the cuts as byte spans (see the `cuts` module) for the later
//! passes, which cut each original text the same way. (A separate cleaning
//! pass followed by a signing pass read and parsed every record once more.)
//! `run` signs exactly the texts `clean` writes, so it gives the same
//! clusters as `clean` followed by `dedup` on `cleaned.jsonl`, and its
//! `deduped.jsonl` holds the records `clean` would write.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::cleaning::{CleanOptions, CleanSeconds, CleanSummary, build_cleaner, table_figures};
use super::cuts::CutLog;
use super::files::{Upstream, dedup_corpus, open_corpus, write_stats};
use super::options::{DedupSummary, JobOptions};
use crate::input::{FieldNames, Input};
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::{Error, Result};

/// Figures of `doppel run`: the dedup figures, with the cleaning figures inside.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Deduplication of the cleaned text (documents and rejects count the whole input).
    #[serde(flatten)]
    pub dedup: DedupSummary,
    /// Cleaning.
    pub clean: CleanSummary,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.dedup;
        write!(
            f,
            "read {} documents ({:.1} MB) in {:.2} s ({:.1} MB/s); cleaning removed {:.1}% of the characters from {} \
             documents; kept {}, removed {} near-duplicates in {} clusters, rejected {}.",
            s.documents,
            s.input_bytes as f64 / 1e6,
            s.seconds.total,
            s.bytes_per_second / 1e6,
            self.clean.percent_removed(),
            self.clean.documents_changed,
            s.kept,
            s.duplicates,
            s.clusters,
            s.rejected,
        )
    }
}

/// Runs `doppel run`: cleans, then deduplicates the cleaned text. Writes
/// `deduped.jsonl` (kept records with cleaned text), `clusters.jsonl`,
/// `removed.jsonl`, `rejected.jsonl` and `stats.json` into `out_dir`.
pub fn run_files(inputs: &[Input], out_dir: &Path, clean: &CleanOptions, dedup: &JobOptions) -> Result<RunSummary> {
    let started = Instant::now();
    dedup.check()?;
    let mut dedup = dedup.clone();
    dedup.dedup = dedup.dedup.validate()?;
    // The sign pass reads each record once, cleans its text and signs it:
    // it rejects bad records as the cleaning would.
    dedup.skip_bad = clean.skip_bad;
    // Dedup reads the texts the cleaner cuts: the same fields (and its date).
    dedup.fields = FieldNames { date: dedup.fields.date.clone(), ..clean.fields.clone() };
    let progress = Progress { enabled: clean.progress };
    let mut outputs = OutputSet::new(out_dir)?;
    let corpus = open_corpus(inputs, &mut outputs, clean.max_record_bytes)?;
    let (cleaner, learned, learn_seconds) = build_cleaner(&corpus, clean, progress)?;
    let cuts = CutLog::create(outputs.work_dir()).map_err(|e| Error::io(out_dir, e))?;
    let removed = outputs.create("removed.jsonl")?;
    let cleaning = super::files::Cleaning { cleaner: &cleaner, opts: clean, removed, summary: CleanSummary::default() };
    let mut upstream = Upstream { cuts: Some(cuts), cleaning: Some(cleaning), ..Upstream::default() };
    let mut summary = dedup_corpus(&corpus, &dedup, &mut outputs, &mut upstream, started)?;
    let total = started.elapsed().as_secs_f64();
    summary.seconds.total = total;
    summary.bytes_per_second = corpus.total_bytes() as f64 / total.max(1e-9);
    summary.documents_per_second = summary.documents as f64 / total.max(1e-9);
    let mut clean_summary = upstream.cleaning.map(|c| c.summary).unwrap_or_default();
    table_figures(&mut clean_summary, &cleaner, learned, &corpus);
    // Cleaning is done in the sign pass, whose time is dedup's `read_and_sign`.
    let clean_seconds = summary.seconds.read_and_sign;
    clean_summary.seconds =
        CleanSeconds { learn: learn_seconds, clean: clean_seconds, total: learn_seconds + clean_seconds };
    clean_summary.bytes_per_second = corpus.total_bytes() as f64 / clean_summary.seconds.total.max(1e-9);
    let run = RunSummary { dedup: summary, clean: clean_summary };
    write_stats(&mut outputs, out_dir, &run)?;
    outputs.commit()?;
    Ok(run)
}
