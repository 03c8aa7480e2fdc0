//! Exact ground truth and the `doppel eval` job.
//!
//! [`exact_pairs`] is an all-pairs similarity join in the AllPairs/PPJoin
//! family: a pair with Jaccard at least `t` must share a shingle within the
//! first `|x| - ceil(t |x|) + 1` shingles of each set, under any one global
//! order. Ordering shingles by document frequency (rarest first) makes
//! those prefixes hit short lists, and shingles that occur in one document
//! only (most of them) need no index entry at all. Candidates also pass a
//! size filter (`|y| >= t |x|`) and are then verified exactly, so the result
//! is exact: no sampling, no estimate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::batches::{Rejects, for_each_batch, record_text};
use super::cleaning::{CleanOptions, build_cleaner, cleaned_text};
use super::files::open_corpus;
use super::options::JobOptions;
use crate::clean::Cleaner;
use crate::eval::{self, CurvePoint, PrecisionRecall};
use crate::input::{Corpus, Input, fallback_id, own_id};
use crate::lsh::{pack_pair, unpack_pair};
use crate::progress::Progress;
use crate::verify::{PairSimilarity, ShingleSets};
use crate::{Error, Result};

/// A pair of documents and their exact Jaccard similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthPair {
    /// The earlier document.
    pub a: u32,
    /// The later document.
    pub b: u32,
    /// Exact Jaccard similarity.
    pub jaccard: f64,
    /// Exact containment: the shared shingles over the smaller set's.
    pub containment: f64,
}

/// Every pair of sets in `sets` (documents `0..n`, all stored) with
/// Jaccard at least `threshold`, sorted by `(a, b)`.
pub fn exact_pairs(sets: &ShingleSets, n: u32, threshold: f64) -> Vec<TruthPair> {
    let common = shared_shingles(sets, n);

    // Index entries: (shingle, doc) for the shared shingles in each prefix.
    let entries: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|d| {
            let set = sets.get(d).unwrap_or(&[]);
            rarest_prefix(set, &common, threshold).into_iter().map(move |h| (h, d))
        })
        .collect();
    let mut entries = entries;
    entries.par_sort_unstable();

    let size = |d: u32| sets.get(d).map_or(0, <[u64]>::len);
    let candidates: Vec<u64> = entries
        .par_chunk_by(|a, b| a.0 == b.0)
        .flat_map_iter(|run| {
            let mut docs: Vec<(usize, u32)> = run.iter().map(|&(_, d)| (size(d), d)).collect();
            docs.sort_unstable();
            let mut out = Vec::new();
            for i in 0..docs.len() {
                for j in i + 1..docs.len() {
                    // Sizes ascend: once the larger is too large, stop.
                    if (docs[i].0 as f64) < threshold * docs[j].0 as f64 - 1e-9 {
                        break;
                    }
                    out.push(pack_pair(docs[i].1, docs[j].1));
                }
            }
            out
        })
        .collect();
    verified(candidates, sets, |s| s.jaccard >= threshold)
}

/// The shared shingles of `set` (sorted hashes) that a set sharing at
/// least `share` of its shingles with another must hold one of: its first
/// `|set| - ceil(share |set|) + 1` shingles, rarest first (`common` from
/// [`shared_shingles`]), less those met in `set` alone, which no other set
/// holds.
fn rarest_prefix(set: &[u64], common: &[(u64, u32)], share: f64) -> Vec<u64> {
    let df = |h: u64| common.binary_search_by_key(&h, |&(x, _)| x).ok().map(|i| common[i].1);
    let mut shared: Vec<(u32, u64)> = set.iter().filter_map(|&h| df(h).map(|f| (f, h))).collect();
    shared.sort_unstable();
    let min_overlap = (share * set.len() as f64 - 1e-9).ceil().max(1.0) as usize;
    let prefix = (set.len() + 1).saturating_sub(min_overlap);
    let take = prefix.saturating_sub(set.len() - shared.len());
    shared.into_iter().take(take).map(|(_, h)| h).collect()
}

/// The candidate pairs (packed, in any order, repeats allowed) whose exact
/// similarity `holds`, sorted by `(a, b)`.
fn verified(
    mut candidates: Vec<u64>,
    sets: &ShingleSets,
    holds: impl Fn(&PairSimilarity) -> bool + Sync,
) -> Vec<TruthPair> {
    candidates.par_sort_unstable();
    candidates.dedup();
    candidates
        .par_iter()
        .filter_map(|&p| {
            let (a, b) = unpack_pair(p);
            let s = PairSimilarity::exact(sets.get(a)?, sets.get(b)?);
            holds(&s).then_some(TruthPair { a, b, jaccard: s.jaccard, containment: s.containment })
        })
        .collect()
}

/// The shingles of `sets` (documents `0..n`) met in two or more documents,
/// sorted, each with its document frequency.
fn shared_shingles(sets: &ShingleSets, n: u32) -> Vec<(u64, u32)> {
    let mut all: Vec<u64> = (0..n).flat_map(|d| sets.get(d).unwrap_or(&[]).iter().copied()).collect();
    all.par_sort_unstable();
    let mut common: Vec<(u64, u32)> = Vec::new();
    for run in all.chunk_by(|a, b| a == b) {
        if run.len() >= 2 {
            common.push((run[0], run.len() as u32));
        }
    }
    common
}

/// Every pair of sets in `sets` (documents `0..n`, all stored) whose
/// smaller set has at least `containment` of its shingles in the other,
/// sorted by `(a, b)`: the truth of a run with `--containment`.
///
/// The smaller set `x` shares at least `ceil(c |x|)` shingles with the
/// larger, so one of them is among the first `|x| - ceil(c |x|) + 1` of
/// `x`'s shingles, rarest first: only that prefix is looked up, in an index
/// of every shared shingle of every document (the larger set's may be
/// anywhere in it).
pub fn containment_pairs(sets: &ShingleSets, n: u32, containment: f64) -> Vec<TruthPair> {
    let common = shared_shingles(sets, n);
    let is_shared = |h: u64| common.binary_search_by_key(&h, |&(x, _)| x).is_ok();
    let size = |d: u32| sets.get(d).map_or(0, <[u64]>::len);
    let mut index: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|d| sets.get(d).unwrap_or(&[]).iter().filter(|&&h| is_shared(h)).map(move |&h| (h, d)))
        .collect();
    index.par_sort_unstable();
    let candidates: Vec<u64> = (0..n)
        .into_par_iter()
        .flat_map_iter(|x| {
            let set = sets.get(x).unwrap_or(&[]);
            let mut out = Vec::new();
            for h in rarest_prefix(set, &common, containment) {
                let from = index.partition_point(|&(g, _)| g < h);
                for &(_, y) in index[from..].iter().take_while(|&&(g, _)| g == h) {
                    // Each pair once, from its smaller set (the earlier on a tie).
                    if (size(y), y) > (set.len(), x) {
                        out.push(pack_pair(x.min(y), x.max(y)));
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect();
    verified(candidates, sets, |s| s.containment >= containment)
}

/// Every document's id (canonical JSON) and exact shingle set.
///
/// With `cleaner`, each text is cleaned first, as `doppel run` cleans it
/// (`clean` names its fields), so that the truth is that of the text `run`
/// compares.
pub(crate) fn read_all_sets(
    corpus: &Corpus,
    opts: &JobOptions,
    cleaner: Option<(&Cleaner, &CleanOptions)>,
    progress: Progress,
) -> Result<(Vec<String>, ShingleSets)> {
    let config = &opts.dedup;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "truth");
    let mut ids = Vec::new();
    let mut sets = ShingleSets::new();
    let mut rejects = Rejects::new(corpus, opts.skip_bad);
    for_each_batch(corpus, &counter, |batch| {
        let built: Vec<std::result::Result<(String, Vec<u64>), String>> = batch
            .records
            .par_iter()
            .map(|rec| {
                let source = &corpus.sources[rec.source as usize];
                let bytes = batch.bytes(rec);
                let text = match cleaner {
                    Some((cleaner, clean)) => cleaned_text(cleaner, &source.kind, bytes, &clean.fields)?.into(),
                    None => record_text(&source.kind, bytes, &opts.fields)?,
                };
                let id = own_id(source, bytes, &opts.fields).unwrap_or_else(|| fallback_id(source, rec.line));
                Ok((canonical_id(&id), crate::shingle::shingle_set(&text, config.shingling, config.seed)))
            })
            .collect();
        for (rec, b) in batch.records.iter().zip(built) {
            match b {
                Ok((id, set)) => {
                    sets.push(ids.len() as u32, &set);
                    ids.push(id);
                }
                // The truth covers readable records; dedup reports the rest.
                Err(reason) => rejects.record(rec.source, rec.line, reason)?,
            }
        }
        if let Some(f) = batch.failure {
            rejects.failure(f)?;
        }
        bar.set_position(counter.load(std::sync::atomic::Ordering::Relaxed));
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok((ids, sets))
}

/// An id as canonical JSON text, so `"a"` written two ways compares equal.
fn canonical_id(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw).map_or_else(|_| raw.to_string(), |v| v.to_string())
}

/// Options of `doppel eval`.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Shingling, threshold and the run's parameters; fields; progress.
    pub job: JobOptions,
    /// Score this `clusters.jsonl` instead of running doppel.
    pub clusters: Option<PathBuf>,
    /// Reuse truth pairs written by an earlier `doppel eval`.
    pub pairs: Option<PathBuf>,
    /// Human cluster labels, `{"id", "cluster"}` per line.
    pub labels: Option<PathBuf>,
    /// Score `doppel run` with these cleaning options: the truth is computed
    /// on the cleaned text, and the run scored (unless `clusters` is given)
    /// is `run`, not `dedup`.
    pub clean: Option<CleanOptions>,
}

/// Scores against human labels.
#[derive(Debug, Clone, Serialize)]
pub struct LabelScores {
    /// Adjusted Rand index of the run's clusters against the labels.
    pub adjusted_rand_index: f64,
    /// Pairs sharing a cluster, against pairs sharing a label.
    pub pairs: PrecisionRecall,
    /// F1 of `pairs`.
    pub pair_f1: f64,
}

/// What `doppel eval` measured, also written as `eval.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Documents in the corpus.
    pub documents: u64,
    /// Jaccard threshold of the truth.
    pub threshold: f64,
    /// Containment threshold of the truth, when the run removed contained
    /// copies (`--containment`): a pair is true at either threshold.
    pub containment: Option<f64>,
    /// Whether the truth was computed on the cleaned text (`eval --clean`).
    pub cleaned_text: bool,
    /// True pairs (Jaccard >= threshold).
    pub truth_pairs: u64,
    /// Documents with at least one true partner.
    pub truth_documents: u64,
    /// Document level: flagged (kept head or duplicate) vs having a true partner.
    pub document_level: PrecisionRecall,
    /// Reported kept/duplicate pairs that are true pairs (precision), and
    /// true pairs that ended up in one cluster (recall).
    pub pair_level: PrecisionRecall,
    /// Reported duplicates whose exact similarity with their kept document
    /// is below the threshold (and below the containment threshold, if any).
    pub duplicates_below_threshold: u64,
    /// True pairs whose two documents were both kept: near-duplicates left
    /// in the output (0 is the goal).
    pub residual_pairs: u64,
    /// LSH layout of the run and its S-curve.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// Probability of becoming a candidate against Jaccard similarity.
    pub lsh_curve: Vec<CurvePoint>,
    /// Against human labels, when given.
    pub labels: Option<LabelScores>,
    /// Seconds to compute the truth.
    pub truth_seconds: f64,
    /// Seconds of the doppel run scored (0 when clusters were given).
    pub run_seconds: f64,
}

/// The scores as a table a person reads.
impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |x: f64| x * 100.0;
        writeln!(f, "documents            {}", self.documents)?;
        let containment = self.containment.map(|c| format!(" or containment >= {c}")).unwrap_or_default();
        let cleaned = if self.cleaned_text { ", on the cleaned text" } else { "" };
        writeln!(
            f,
            "truth pairs          {} (Jaccard >= {}{containment}{cleaned}), {} documents with a partner",
            self.truth_pairs, self.threshold, self.truth_documents
        )?;
        let (d, p) = (&self.document_level, &self.pair_level);
        writeln!(
            f,
            "document level       precision {:.2}%  recall {:.2}%  ({} flagged, {} correct)",
            pct(d.precision),
            pct(d.recall),
            d.predicted,
            d.correct
        )?;
        writeln!(
            f,
            "pair level           precision {:.2}%  recall {:.2}%  ({} reported, {} below threshold)",
            pct(p.precision),
            pct(p.recall),
            p.predicted,
            self.duplicates_below_threshold
        )?;
        writeln!(f, "residual             {} true pairs with both documents kept", self.residual_pairs)?;
        if let Some(l) = &self.labels {
            writeln!(f, "labels               ARI {:.4}  pair F1 {:.4}", l.adjusted_rand_index, l.pair_f1)?;
        }
        writeln!(f, "LSH {} bands x {} rows: P(candidate) at Jaccard", self.bands, self.rows)?;
        for c in self.lsh_curve.iter().filter(|c| c.jaccard >= 0.3 - 1e-9) {
            writeln!(f, "  {:.2}  {:.4}", c.jaccard, c.candidate_probability)?;
        }
        write!(f, "truth {:.2} s, run {:.2} s", self.truth_seconds, self.run_seconds)
    }
}

/// Runs `doppel eval`: exact truth for `inputs`, then scores a run against
/// it. Writes `truth_pairs.jsonl` and `eval.json` into `out_dir` (and the
/// run's outputs into `out_dir/run` when doppel is run).
pub fn eval_files(inputs: &[Input], out_dir: &Path, opts: &EvalOptions) -> Result<EvalReport> {
    opts.job.check()?;
    let mut job = opts.job.clone();
    job.dedup = job.dedup.validate()?;
    let threshold = job.dedup.jaccard_threshold;
    let progress = Progress { enabled: job.progress };
    let mut outputs = crate::output::OutputSet::new(out_dir)?;
    let started = Instant::now();
    let corpus = open_corpus(inputs, &mut outputs, opts.job.max_record_bytes)?;
    let cleaner = match &opts.clean {
        Some(clean) => Some(build_cleaner(&corpus, clean, progress)?.0),
        None => None,
    };
    let (ids, sets) = read_all_sets(&corpus, &job, cleaner.as_ref().zip(opts.clean.as_ref()), progress)?;
    drop(cleaner);
    let n = ids.len() as u32;
    let index: HashMap<&str, u32> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i as u32)).collect();
    if index.len() != ids.len() {
        return Err(Error::config("document ids are not unique: eval needs unique ids to match clusters"));
    }
    let lookup = |id: &serde_json::Value, path: &Path, line: usize| -> Result<u32> {
        index.get(id.to_string().as_str()).copied().ok_or_else(|| Error::BadRecord {
            file: path.display().to_string(),
            line: line as u64,
            reason: format!("id {id} is not in the corpus"),
        })
    };
    let truth: Vec<TruthPair> = match &opts.pairs {
        None => {
            let stage = progress.stage("joining");
            let mut t = exact_pairs(&sets, n, threshold);
            // A run with --containment also removes contained copies.
            if let Some(c) = job.dedup.containment {
                t.extend(containment_pairs(&sets, n, c));
                t.sort_by_key(|p| (p.a, p.b));
                t.dedup_by_key(|p| (p.a, p.b));
            }
            stage.finish_and_clear();
            t
        }
        Some(path) => {
            let mut t = Vec::new();
            for (i, v) in read_json_lines(path)?.into_iter().enumerate() {
                let (a, b) = (lookup(&v["a"], path, i + 1)?, lookup(&v["b"], path, i + 1)?);
                let jaccard = v["jaccard"].as_f64().unwrap_or(0.0);
                let containment = v["containment"].as_f64().unwrap_or(0.0);
                if (PairSimilarity { jaccard, containment }).matches(&job.dedup.thresholds()) {
                    t.push(TruthPair { a: a.min(b), b: a.max(b), jaccard, containment });
                }
            }
            t
        }
    };
    let truth_seconds = started.elapsed().as_secs_f64();
    let pairs_file = outputs.create("truth_pairs.jsonl")?;
    for p in &truth {
        let mut line = format!(
            "{{\"a\":{},\"b\":{},\"jaccard\":{}",
            ids[p.a as usize],
            ids[p.b as usize],
            super::write::format_similarity(p.jaccard)
        );
        if job.dedup.containment.is_some() {
            line.push_str(&format!(",\"containment\":{}", super::write::format_similarity(p.containment)));
        }
        line.push_str("}\n");
        outputs.file(pairs_file).write_all(line.as_bytes())?;
    }

    let run_started = Instant::now();
    let clusters_path = match &opts.clusters {
        Some(p) => p.clone(),
        None => {
            let run_dir = outputs.work_dir().join("run");
            match &opts.clean {
                Some(clean) => drop(super::run_job::run_files(inputs, &run_dir, clean, &job)?),
                None => drop(super::files::dedup_files(inputs, &run_dir, &job)?),
            }
            run_dir.join("clusters.jsonl")
        }
    };
    let run_seconds = if opts.clusters.is_some() { 0.0 } else { run_started.elapsed().as_secs_f64() };
    let mut clusters: Vec<Vec<u32>> = Vec::new();
    let mut below = 0u64;
    let mut reported = 0u64;
    for (i, v) in read_json_lines(&clusters_path)?.into_iter().enumerate() {
        let kept = lookup(&v["kept"], &clusters_path, i + 1)?;
        let mut members = vec![kept];
        for d in v["duplicates"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let doc = lookup(&d["id"], &clusters_path, i + 1)?;
            members.push(doc);
            reported += 1;
            if let (Some(x), Some(y)) = (sets.get(kept), sets.get(doc))
                && !PairSimilarity::exact(x, y).matches(&job.dedup.thresholds())
            {
                below += 1;
            }
        }
        clusters.push(members);
    }
    let truth_ab: Vec<(u32, u32)> = truth.iter().map(|p| (p.a, p.b)).collect();
    let document_level = eval::document_scores(n as usize, &truth_ab, &clusters);
    let (found, total) = eval::pair_recall(n as usize, &truth_ab, &clusters);
    let pair_level = PrecisionRecall::new(reported, total, reported - below, found);
    let labels = match &opts.labels {
        Some(path) => Some(label_scores(path, n, &clusters, &lookup)?),
        None => None,
    };
    let mut removed = vec![false; n as usize];
    for c in &clusters {
        for &d in &c[1..] {
            removed[d as usize] = true;
        }
    }
    let residual_pairs = truth.iter().filter(|p| !removed[p.a as usize] && !removed[p.b as usize]).count() as u64;
    let (bands, rows) = (job.dedup.bands(), job.dedup.rows());
    let report = EvalReport {
        documents: n as u64,
        threshold,
        containment: job.dedup.containment,
        cleaned_text: opts.clean.is_some(),
        truth_pairs: truth.len() as u64,
        truth_documents: document_level.truth,
        document_level,
        pair_level,
        duplicates_below_threshold: below,
        residual_pairs,
        bands,
        rows,
        lsh_curve: eval::lsh_curve(bands, rows),
        labels,
        truth_seconds,
        run_seconds,
    };
    let file = outputs.create("eval.json")?;
    let mut json = serde_json::to_vec_pretty(&report).map_err(|e| Error::io(out_dir, std::io::Error::other(e)))?;
    json.push(b'\n');
    outputs.file(file).write_all(&json)?;
    outputs.commit()?;
    Ok(report)
}

fn label_scores(
    path: &Path,
    n: u32,
    clusters: &[Vec<u32>],
    lookup: &dyn Fn(&serde_json::Value, &Path, usize) -> Result<u32>,
) -> Result<LabelScores> {
    // Unlabelled documents and documents outside any cluster are singletons.
    let mut gold: Vec<u64> = (0..n as u64).map(|d| u64::MAX - d).collect();
    let mut names: HashMap<String, u64> = HashMap::new();
    for (i, v) in read_json_lines(path)?.into_iter().enumerate() {
        let d = lookup(&v["id"], path, i + 1)?;
        let next = names.len() as u64;
        gold[d as usize] = *names.entry(v["cluster"].to_string()).or_insert(next);
    }
    let mut pred: Vec<u64> = (0..n as u64).map(|d| u64::MAX - d).collect();
    for (i, c) in clusters.iter().enumerate() {
        for &d in c {
            pred[d as usize] = i as u64;
        }
    }
    let pairs = eval::pair_f1(&pred, &gold);
    Ok(LabelScores { adjusted_rand_index: eval::adjusted_rand_index(&pred, &gold), pair_f1: pairs.f1(), pairs })
}

fn read_json_lines(path: &Path) -> Result<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::BadRecord {
                file: path.display().to_string(),
                line: i as u64 + 1,
                reason: format!("malformed JSON: {e}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::splitmix64;
    use proptest::prelude::*;

    /// `n` sets drawn from overlapping windows of a small universe (starts
    /// below `starts`, lengths from `min_len` up to `min_len + spread`), so
    /// many pairs sit near any threshold; every third has a shingle of its own.
    fn window_sets(seed: u64, n: u32, starts: u64, min_len: u64, spread: u64) -> (ShingleSets, Vec<Vec<u64>>) {
        let mut sets = ShingleSets::new();
        let mut raw = Vec::new();
        for d in 0..n {
            let base = splitmix64(seed ^ u64::from(d)) % starts;
            let len = min_len + splitmix64(seed ^ u64::from(d) << 8) % spread;
            let mut s: Vec<u64> = (base..base + len).map(|x| x * 7919).collect();
            if d % 3 == 0 {
                s.push(1_000_000 + u64::from(d));
            }
            s.sort_unstable();
            sets.push(d, &s);
            raw.push(s);
        }
        (sets, raw)
    }

    /// The pairs `(a, b)`, `a < b`, of `raw` whose similarity `holds`.
    fn brute_force(raw: &[Vec<u64>], holds: impl Fn(PairSimilarity) -> bool) -> Vec<(u32, u32)> {
        let n = raw.len() as u32;
        (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .filter(|&(a, b)| holds(PairSimilarity::exact(&raw[a as usize], &raw[b as usize])))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        /// The join finds exactly the pairs a brute-force comparison finds.
        #[test]
        fn join_equals_brute_force(seed in any::<u64>(), n in 2u32..40, t in 0.3f64..0.95) {
            let (sets, raw) = window_sets(seed, n, 30, 5, 25);
            let got: Vec<(u32, u32)> = exact_pairs(&sets, n, t).iter().map(|p| (p.a, p.b)).collect();
            prop_assert_eq!(got, brute_force(&raw, |s| s.jaccard >= t));
        }

        /// The containment join finds exactly the pairs a brute-force
        /// comparison finds, contained copies of every size included.
        #[test]
        fn containment_join_equals_brute_force(seed in any::<u64>(), n in 2u32..40, c in 0.3f64..1.0) {
            // Windows of very different lengths: short ones sit inside long ones.
            let (sets, raw) = window_sets(seed, n, 40, 2, 40);
            let got: Vec<(u32, u32)> = containment_pairs(&sets, n, c).iter().map(|p| (p.a, p.b)).collect();
            prop_assert_eq!(got, brute_force(&raw, |s| s.containment >= c));
        }
    }
}
