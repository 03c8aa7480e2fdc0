//! The `doppel dedup` job: inputs on disk to outputs on disk.
//!
//! Pass 1 reads the corpus in batches on a reader thread while rayon parses
//! and signs each batch; only signatures and text lengths are kept. After
//! LSH and clustering, pass 2 reads the corpus again and copies each kept
//! record to `deduped.jsonl` byte for byte, collecting the ids of clustered
//! documents for `clusters.jsonl`. Texts are never all in memory at once.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::engine::{DedupOutcome, Signatures, find_clusters};
use super::progress::Progress;
use crate::cluster::DocIndex;
use crate::config::{DedupConfig, KeepRule};
use crate::input::{
    Batch, BatchReader, Corpus, FieldNames, Input, SourceKind, fallback_id, parse_id, parse_record,
};
use crate::minhash::{MinHasher, SignScratch};
use crate::output::OutputSet;
use crate::shingle::Shingling;
use crate::{Error, Result};

/// Options of a file-to-file job.
#[derive(Debug, Clone, Default)]
pub struct JobOptions {
    /// Deduplication settings (validated by the job).
    pub dedup: DedupConfig,
    /// Names of the text and id fields.
    pub fields: FieldNames,
    /// Reject bad records and go on, instead of stopping at the first.
    pub skip_bad: bool,
    /// Draw progress bars on stderr.
    pub progress: bool,
}

/// The parameters a run used, as written to `stats.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    /// Jaccard threshold.
    pub threshold: f64,
    /// N-gram size.
    pub ngram: usize,
    /// `word` or `char`.
    pub ngram_unit: &'static str,
    /// Values per signature.
    pub num_perm: usize,
    /// LSH bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// Hash seed.
    pub seed: u64,
    /// Keep rule.
    pub keep: KeepRule,
}

impl Parameters {
    fn of(c: &DedupConfig) -> Parameters {
        let (ngram, ngram_unit) = match c.shingling {
            Shingling::Words(n) => (n, "word"),
            Shingling::Chars(n) => (n, "char"),
        };
        Parameters {
            threshold: c.jaccard_threshold,
            ngram,
            ngram_unit,
            num_perm: c.num_perm,
            bands: c.bands(),
            rows: c.rows(),
            seed: c.seed,
            keep: c.keep,
        }
    }
}

/// Wall-clock seconds per stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageSeconds {
    /// Reading, parsing, normalising, shingling and signing.
    pub read_and_sign: f64,
    /// LSH banding, confirmation and union-find.
    pub cluster: f64,
    /// Second pass: writing the outputs.
    pub write: f64,
    /// The whole job.
    pub total: f64,
}

/// Figures of a finished run, also written as `stats.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DedupSummary {
    /// Records read: `kept + duplicates + rejected`.
    pub documents: u64,
    /// Documents written to `deduped.jsonl`.
    pub kept: u64,
    /// Documents removed as near-duplicates.
    pub duplicates: u64,
    /// Records that could not be read.
    pub rejected: u64,
    /// Clusters of two or more documents.
    pub clusters: u64,
    /// Documents with no words (kept, never clustered).
    pub empty_documents: u64,
    /// Pairs that shared an LSH band.
    pub candidate_pairs: u64,
    /// Candidate pairs confirmed as near-duplicates.
    pub confirmed_pairs: u64,
    /// Parameters used.
    pub parameters: Parameters,
    /// Bytes read from disk in the first pass (compressed size for compressed input).
    pub input_bytes: u64,
    /// Wall-clock seconds per stage.
    pub seconds: StageSeconds,
    /// `input_bytes` over total seconds.
    pub bytes_per_second: f64,
    /// Documents over total seconds.
    pub documents_per_second: f64,
    /// Number of files read.
    pub input_files: usize,
}

/// A record that could not be used.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Rejected {
    #[serde(skip)]
    pub source: u32,
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Runs a batch reader on its own thread and hands each batch to `each`, in
/// order. Stops at the first error `each` returns.
pub(crate) fn for_each_batch(
    corpus: &Corpus,
    counter: &Arc<AtomicU64>,
    mut each: impl FnMut(Batch) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        // Two batches in flight: the reader stays one ahead of the signers
        // without holding more than a few batches of text.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        let mut reader = BatchReader::new(corpus, counter.clone());
        scope.spawn(move || {
            while let Some(batch) = reader.next_batch() {
                if tx.send(batch).is_err() {
                    return;
                }
            }
        });
        for batch in rx {
            each(batch)?;
        }
        Ok(())
    })
}

enum Outcome {
    Doc { chars: usize, empty: bool },
    Bad(String),
}

/// The text of a raw record, or why it cannot be used.
pub(crate) fn record_text<'a>(
    kind: &SourceKind,
    bytes: &'a [u8],
    fields: &FieldNames,
) -> std::result::Result<std::borrow::Cow<'a, str>, String> {
    match kind {
        SourceKind::Text { .. } => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1;
                format!("invalid UTF-8 on line {line}")
            }),
        SourceKind::Jsonl => parse_record(bytes, fields).map(|f| f.text),
    }
}

struct SignPass {
    signatures: Signatures,
    rejected: Vec<Rejected>,
    empty: u64,
}

fn sign_pass(
    corpus: &Corpus,
    opts: &JobOptions,
    hasher: &MinHasher,
    progress: Progress,
) -> Result<SignPass> {
    let k = opts.dedup.num_perm;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "signing");
    let mut pass = SignPass {
        signatures: Signatures::new(k),
        rejected: Vec::new(),
        empty: 0,
    };
    let mut sigs = Vec::new();
    for_each_batch(corpus, &counter, |batch| {
        sigs.clear();
        sigs.resize(batch.records.len() * k, 0u32);
        let outcomes: Vec<Outcome> = sigs
            .par_chunks_mut(k)
            .zip(batch.records.par_iter())
            .map_init(SignScratch::default, |scratch, (sig, rec)| {
                let kind = &corpus.sources[rec.source as usize].kind;
                match record_text(kind, batch.bytes(rec), &opts.fields) {
                    Ok(text) => {
                        let shingles = hasher.sign_into(&text, scratch, sig);
                        Outcome::Doc {
                            chars: text.chars().count(),
                            empty: shingles == 0,
                        }
                    }
                    Err(reason) => Outcome::Bad(reason),
                }
            })
            .collect();
        for ((outcome, rec), sig) in outcomes.into_iter().zip(&batch.records).zip(sigs.chunks(k)) {
            match outcome {
                Outcome::Doc { chars, empty } => {
                    pass.signatures.push(sig, chars);
                    pass.empty += u64::from(empty);
                }
                Outcome::Bad(reason) => {
                    let file = corpus.sources[rec.source as usize].name.clone();
                    if !opts.skip_bad {
                        return Err(Error::BadRecord {
                            file,
                            line: rec.line,
                            reason,
                        });
                    }
                    pass.rejected.push(Rejected {
                        source: rec.source,
                        file,
                        line: rec.line,
                        reason,
                    });
                }
            }
        }
        if let Some(f) = batch.failure {
            let file = corpus.sources[f.source as usize].name.clone();
            if !opts.skip_bad {
                return Err(Error::Read {
                    file,
                    line: f.line,
                    source: f.error,
                });
            }
            let reason = format!("cannot read input from this line on: {}", f.error);
            pass.rejected.push(Rejected {
                source: f.source,
                file,
                line: f.line,
                reason,
            });
        }
        bar.set_position(counter.load(Ordering::Relaxed));
        bar.set_message(format!("{} docs", pass.signatures.len()));
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(pass)
}

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
    let mut opts = opts.clone();
    opts.dedup = opts.dedup.validate()?;
    let config = &opts.dedup;
    let progress = Progress {
        enabled: opts.progress,
    };
    let mut outputs = OutputSet::new(out_dir)?;
    let corpus = Corpus::open(inputs, out_dir)?;
    let hasher = MinHasher::new(config.num_perm, config.shingling, config.seed);

    let pass = sign_pass(&corpus, &opts, &hasher, progress)?;
    let input_bytes = corpus.total_bytes();
    let signed_at = Instant::now();

    let stage = progress.stage("clustering");
    let outcome = find_clusters(config, &pass.signatures);
    stage.finish_and_clear();
    let clustered_at = Instant::now();

    let writing = write_outputs(&corpus, &opts, &pass, &outcome, &mut outputs, progress)?;
    let rejected = pass.rejected.len() as u64;
    let documents = pass.signatures.len() as u64 + rejected;
    let duplicates = outcome.num_duplicates() as u64;
    let total = started.elapsed().as_secs_f64();
    let summary = DedupSummary {
        documents,
        kept: pass.signatures.len() as u64 - duplicates,
        duplicates,
        rejected,
        clusters: outcome.clusters.len() as u64,
        empty_documents: pass.empty,
        candidate_pairs: outcome.candidate_pairs,
        confirmed_pairs: outcome.confirmed_pairs,
        parameters: Parameters::of(config),
        input_bytes,
        seconds: StageSeconds {
            read_and_sign: (signed_at - started).as_secs_f64(),
            cluster: (clustered_at - signed_at).as_secs_f64(),
            write: writing.as_secs_f64(),
            total,
        },
        bytes_per_second: input_bytes as f64 / total.max(1e-9),
        documents_per_second: documents as f64 / total.max(1e-9),
        input_files: corpus.num_sources(),
    };
    let stats = outputs.create("stats.json")?;
    let mut json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| Error::io(out_dir, std::io::Error::other(e)))?;
    json.push(b'\n');
    outputs.file(stats).write_all(&json)?;
    outputs.commit()?;
    Ok(summary)
}

/// Second pass: kept records, cluster ids, rejects.
fn write_outputs(
    corpus: &Corpus,
    opts: &JobOptions,
    pass: &SignPass,
    outcome: &DedupOutcome,
    outputs: &mut OutputSet,
    progress: Progress,
) -> Result<std::time::Duration> {
    let started = Instant::now();
    let deduped = outputs.create("deduped.jsonl")?;
    let n = pass.signatures.len();
    // Ids are needed only for clustered documents: collect them on the way.
    let mut clustered: Vec<u32> = outcome
        .clusters
        .iter()
        .flat_map(|c| std::iter::once(c.kept.0).chain(c.duplicates.iter().map(|d| d.doc.0)))
        .collect();
    clustered.sort_unstable();
    let mut ids: Vec<String> = Vec::with_capacity(clustered.len());
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "writing");
    let mut doc: u32 = 0;
    let mut next_reject = 0usize;
    let mut line_buf = Vec::new();
    for_each_batch(corpus, &counter, |batch| {
        for rec in &batch.records {
            if let Some(r) = pass.rejected.get(next_reject)
                && r.source == rec.source
                && r.line == rec.line
            {
                next_reject += 1;
                continue;
            }
            if doc as usize >= n {
                return Err(changed(
                    corpus,
                    rec.source,
                    "more records than in the first pass",
                ));
            }
            let source = &corpus.sources[rec.source as usize];
            let bytes = batch.bytes(rec);
            let in_cluster = clustered.get(ids.len()) == Some(&doc);
            if in_cluster {
                let id = match &source.kind {
                    SourceKind::Jsonl => {
                        parse_id(bytes, &opts.fields).map(|raw| raw.get().to_owned())
                    }
                    SourceKind::Text { .. } => None,
                };
                ids.push(id.unwrap_or_else(|| fallback_id(source, rec.line)));
            }
            if !outcome.is_duplicate(DocIndex(doc)) {
                let out = outputs.file(deduped);
                match &source.kind {
                    SourceKind::Jsonl => out.write_all(bytes)?,
                    SourceKind::Text { id } => {
                        let text = std::str::from_utf8(bytes).map_err(|_| {
                            changed(corpus, rec.source, "text is no longer valid UTF-8")
                        })?;
                        line_buf.clear();
                        serde_json::to_writer(&mut line_buf, &TextRecord { id, text })
                            .map_err(|e| Error::io(&source.path, std::io::Error::other(e)))?;
                        out.write_all(&line_buf)?;
                    }
                }
                out.write_all(b"\n")?;
            }
            doc += 1;
        }
        if let Some(f) = batch.failure {
            match pass.rejected.get(next_reject) {
                Some(r) if r.source == f.source && r.line == f.line => next_reject += 1,
                _ => {
                    return Err(Error::Read {
                        file: corpus.sources[f.source as usize].name.clone(),
                        line: f.line,
                        source: f.error,
                    });
                }
            }
        }
        bar.set_position(counter.load(Ordering::Relaxed));
        Ok(())
    })?;
    bar.finish_and_clear();
    if doc as usize != n {
        return Err(Error::InputChanged {
            file: corpus
                .sources
                .last()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            comment: format!("{doc} records on the second pass, {n} on the first"),
        });
    }

    let clusters = outputs.create("clusters.jsonl")?;
    let id_of = |d: DocIndex| -> &str {
        // Every clustered document had its id collected above.
        let i = clustered.binary_search(&d.0).unwrap_or(0);
        &ids[i]
    };
    let mut line = String::new();
    for c in &outcome.clusters {
        use std::fmt::Write as _;
        line.clear();
        line.push_str("{\"kept\":");
        line.push_str(id_of(c.kept));
        line.push_str(",\"duplicates\":[");
        for (i, d) in c.duplicates.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(
                line,
                "{{\"id\":{},\"jaccard\":{}}}",
                id_of(d.doc),
                format_similarity(d.jaccard)
            );
        }
        line.push_str("]}\n");
        outputs.file(clusters).write_all(line.as_bytes())?;
    }

    let rejected = outputs.create("rejected.jsonl")?;
    for r in &pass.rejected {
        outputs.file(rejected).write_json_line(r)?;
    }
    Ok(started.elapsed())
}

#[derive(Serialize)]
struct TextRecord<'a> {
    id: &'a str,
    text: &'a str,
}

/// Similarities are written with at most 6 decimals: enough to read, and
/// stable across platforms.
pub(crate) fn format_similarity(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0');
    s.strip_suffix('.')
        .map_or_else(|| s.to_string(), |t| format!("{t}.0"))
}

fn changed(corpus: &Corpus, source: u32, comment: &str) -> Error {
    Error::InputChanged {
        file: corpus.sources[source as usize].name.clone(),
        comment: comment.into(),
    }
}
