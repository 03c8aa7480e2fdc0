//! The `doppel dedup` job: inputs on disk to outputs on disk.
//!
//! The sign pass (`sign`) reads the corpus in batches on a reader thread
//! (`batches`) while rayon parses and signs each batch; only signatures and
//! text lengths are kept in memory. With exact verification each
//! document's exact shingle set is made from the same hashes and logged to
//! an unnamed temporary file (see [`ExactSets`](super::ExactSets)). LSH then
//! yields candidate pairs, confirmed on the logged sets of their documents.
//! The write pass (`write`) copies each kept record to `deduped.jsonl` byte
//! for byte, collecting the ids of clustered documents for
//! `clusters.jsonl`. Texts are never all in memory at once.
//!
//! Under `doppel run` the same passes read the original input with what the
//! cleaner hands over ([`Upstream`]): the sign pass cleans each text before
//! signing it and logs its cuts (see the `cuts` module), and the later
//! passes (`walk`) cut each text the same way before its record is written.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::batches::Rejected;
use super::cleaning::{CleanOptions, CleanSummary};
use super::cuts::CutLog;
use super::engine::{BIN_BUDGET_BYTES, candidate_docs, candidate_pairs, cluster_candidates, map_bins};
use super::options::{DedupSummary, JobOptions, Parameters, StageSeconds};
use super::sign::{Fusing, exact_sets, sign_pass};
use super::write::{Finished, write_outputs};
use crate::clean::Cleaner;
use crate::input::{Corpus, Input};
use crate::minhash::MinHasher;
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::verify::{SimilaritySource, SpilledSets, Verify};
use crate::{Error, Result};

/// Runs `doppel dedup`: reads `inputs`, writes `deduped.jsonl`,
/// `clusters.jsonl`, `rejected.jsonl` and `stats.json` into `out_dir`.
///
/// ```no_run
/// use doppel::{Input, JobOptions, dedup_files};
/// let summary = dedup_files(&[Input::from_arg("news.jsonl.zst")], "out".as_ref(), &JobOptions::default())?;
/// println!("{} of {} documents kept", summary.kept, summary.documents);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dedup_files(inputs: &[Input], out_dir: &Path, opts: &JobOptions) -> Result<DedupSummary> {
    let started = Instant::now();
    opts.check()?;
    let mut opts = opts.clone();
    opts.dedup = opts.dedup.validate()?;
    let mut outputs = OutputSet::new(out_dir)?;
    let corpus = open_corpus(inputs, &mut outputs, opts.max_record_bytes)?;
    let summary = dedup_corpus(&corpus, &opts, &mut outputs, &mut Upstream::default(), started)?;
    write_stats(&mut outputs, out_dir, &summary)?;
    outputs.commit()?;
    Ok(summary)
}

/// Resolves a job's inputs for a run into `outputs`: spools go to its
/// work directory, its output directory is never read, and the directory's
/// old contents are checked (see [`OutputSet::keep_inputs`]) before any
/// work is done.
pub(crate) fn open_corpus(inputs: &[Input], outputs: &mut OutputSet, max_record_bytes: Option<u64>) -> Result<Corpus> {
    let mut corpus = Corpus::open_excluding(inputs, outputs.work_dir(), Some(outputs.dir()))?;
    if let Some(bytes) = max_record_bytes {
        corpus = corpus.with_max_record_bytes(bytes);
    }
    outputs.keep_inputs(&corpus.source_paths())?;
    corpus.restamp();
    Ok(corpus)
}

/// Writes `stats.json` among `outputs`.
pub(crate) fn write_stats<T: Serialize>(outputs: &mut OutputSet, out_dir: &Path, stats: &T) -> Result<()> {
    let file = outputs.create("stats.json")?;
    let mut json = serde_json::to_vec_pretty(stats).map_err(|e| Error::io(out_dir, std::io::Error::other(e)))?;
    json.push(b'\n');
    outputs.file(file).write_all(&json)
}

/// What an earlier stage (the cleaner, in `doppel run`) hands to dedup,
/// which then reads the same corpus.
#[derive(Default)]
pub(crate) struct Upstream<'a> {
    /// Records rejected before dedup, in input order: passed over by every
    /// pass, and listed first in `rejected.jsonl`.
    pub rejected: Vec<Rejected>,
    /// The cuts to take out of each other record's text, in order: handed
    /// over, or logged by the sign pass as it cleans (see `cleaning`).
    pub cuts: Option<CutLog>,
    /// The cleaner, when the sign pass cleans each text as it reads it
    /// (`doppel run`): its cuts go to `cuts`, which is then empty.
    pub cleaning: Option<Cleaning<'a>>,
    /// For the report: cuts and characters removed per rule upstream.
    pub cuts_per_rule: Vec<(String, u64, u64)>,
    /// For the report: the sites cut from most upstream, as `(site,
    /// documents, characters, characters removed)`.
    pub cuts_per_site: Vec<(String, u64, u64, u64)>,
}

/// `doppel run`'s cleaning, done by the sign pass: each text is cleaned as
/// it is read and signed at once, rather than read, parsed and cut again
/// from a log of the cuts a separate pass made.
pub(crate) struct Cleaning<'a> {
    /// The cleaner, with its table learned.
    pub cleaner: &'a Cleaner,
    /// Its options (for the summary's warnings).
    pub opts: &'a CleanOptions,
    /// `removed.jsonl`, among the outputs.
    pub removed: usize,
    /// The figures of the cleaning, filled in by the sign pass.
    pub summary: CleanSummary,
}

/// The dedup job on an opened corpus, writing into `outputs` (not committed,
/// no stats). `opts.dedup` must be validated.
pub(crate) fn dedup_corpus(
    corpus: &Corpus,
    opts: &JobOptions,
    outputs: &mut OutputSet,
    upstream: &mut Upstream<'_>,
    started: Instant,
) -> Result<DedupSummary> {
    let config = &opts.dedup;
    let progress = Progress { enabled: opts.progress };
    let hasher = MinHasher::new(config.num_perm, config.shingling, config.seed);
    let phase_start = Instant::now();
    let spill_dir = outputs.work_dir().to_path_buf();
    // `run`: the sign pass cleans each text and fills the (empty) cut log.
    let mut log = upstream.cleaning.as_ref().and(upstream.cuts.take());
    let fusing = match (&upstream.cleaning, log.as_mut()) {
        (Some(c), Some(log)) => Some(Fusing { cleaner: c.cleaner, log, removed: outputs.file(c.removed) }),
        _ => None,
    };
    let fused = fusing.is_some();
    let pass = sign_pass(corpus, opts, &hasher, progress, &spill_dir, upstream, fusing);
    if fused {
        // Each worker's memo and cleaner are of no use past the pass.
        super::cleaning::free_worker_state();
    }
    let mut pass = pass?;
    upstream.cuts = upstream.cuts.take().or(log);
    if let (Some(c), Some(mut tally)) = (upstream.cleaning.as_mut(), pass.cleaned.take()) {
        tally.summary.rejected = pass.rejected.len() as u64;
        tally.summary.documents = pass.signatures.len() as u64 + tally.summary.rejected;
        let summary = tally.finish(c.opts);
        let mut per_rule: Vec<(String, u64, u64)> =
            summary.rules.iter().map(|(rule, s)| (rule.clone(), s.cuts, s.characters)).collect();
        per_rule.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        upstream.cuts_per_rule = per_rule;
        upstream.cuts_per_site =
            summary.sites.iter().map(|s| (s.site.clone(), s.documents, s.characters, s.characters_removed)).collect();
        c.summary = summary;
    }
    let input_bytes = corpus.total_bytes();
    let signed_at = Instant::now();

    let stage = progress.stage("banding");
    let candidates = match pass.signatures.spilled_candidate_pairs().map_err(|e| Error::io(&spill_dir, e))? {
        Some(pairs) => pairs,
        None => candidate_pairs(config, &pass.signatures),
    };
    stage.finish_and_clear();
    let banded_at = Instant::now();

    let (band_runs, band_spill_bytes) = pass.signatures.band_spill();
    // Band keys are done with; free them before the exact-set pass.
    pass.signatures.release_band_keys();
    let (band_runs, band_spill_bytes) = (band_runs as u64, band_spill_bytes);
    let docs = candidate_docs(&candidates);
    let (mut sets, exact_set_source) = match (config.verify, pass.sets.take()) {
        (Verify::Exact, Some(log)) => {
            let sets = log.into_sets(&docs, |d| pass.signatures.shingles(d)).map_err(|e| Error::io(&spill_dir, e))?;
            (Some(sets), "sign_pass")
        }
        (Verify::Exact, None) => {
            (Some(exact_sets(corpus, opts, &pass, upstream, &docs, progress, &spill_dir)?), "second_read")
        }
        (Verify::Estimate, _) => (None, "none"),
    };
    if let Some(sets) = &mut sets {
        let budget_bytes = opts.memory_limit_bytes.map_or(BIN_BUDGET_BYTES, |limit| limit.min(BIN_BUDGET_BYTES));
        map_bins(sets, config, candidates.len(), budget_bytes).map_err(|e| Error::io(&spill_dir, e))?;
    }
    let exact_sets_in_memory_bytes = sets.as_ref().map_or(0, SpilledSets::memory_bytes);
    let sets_at = Instant::now();

    let stage = progress.stage("clustering");
    let source = match &sets {
        Some(sets) => SimilaritySource::Spilled(sets),
        None => SimilaritySource::Estimate(&pass.signatures),
    };
    let outcome = cluster_candidates(config, &pass.signatures, &candidates, source);
    stage.finish_and_clear();
    let clustered_at = Instant::now();
    let exact_set_bytes = sets.as_ref().map_or(0, SpilledSets::file_bytes);
    if let Some(e) = sets.as_ref().and_then(SpilledSets::take_error) {
        return Err(Error::io(&spill_dir, e));
    }
    drop(sets);

    let job = Finished { corpus, opts, pass: &pass, outcome: &outcome, progress, upstream };
    let writing = write_outputs(&job, outputs)?;
    let dropped = pass.dropped.len() as u64;
    let rejected = (pass.rejected.len() + upstream.rejected.len()) as u64 + dropped;
    let documents = pass.signatures.len() as u64 + rejected - dropped;
    let duplicates = outcome.num_duplicates() as u64;
    let total = started.elapsed().as_secs_f64();
    Ok(DedupSummary {
        documents,
        kept: pass.signatures.len() as u64 - duplicates - dropped,
        duplicates,
        rejected,
        clusters: outcome.clusters.len() as u64,
        empty_documents: pass.empty,
        candidate_pairs: outcome.candidate_pairs,
        judged_pairs: outcome.judged_pairs,
        confirmed_pairs: outcome.confirmed_pairs,
        candidate_documents: docs.len() as u64,
        exact_set_bytes,
        exact_set_source,
        exact_sets_in_memory_bytes,
        warnings: pass.warnings,
        band_runs,
        band_spill_bytes,
        parameters: Parameters::of(config),
        input_bytes,
        seconds: StageSeconds {
            read_and_sign: (signed_at - phase_start).as_secs_f64(),
            lsh: (banded_at - signed_at).as_secs_f64(),
            exact_sets: (sets_at - banded_at).as_secs_f64(),
            cluster: (clustered_at - sets_at).as_secs_f64(),
            write: writing.as_secs_f64(),
            total,
        },
        bytes_per_second: input_bytes as f64 / total.max(1e-9),
        documents_per_second: documents as f64 / total.max(1e-9),
        input_files: corpus.num_sources(),
    })
}
