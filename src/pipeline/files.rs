//! The `doppel dedup` job: inputs on disk to outputs on disk.
//!
//! Pass 1 reads the corpus in batches on a reader thread while rayon parses
//! and signs each batch; only signatures and text lengths are kept in
//! memory. With exact verification each document's exact shingle set is
//! made from the same hashes and logged to an unnamed temporary file (see
//! [`ExactSets`]). LSH then yields candidate pairs, confirmed on the logged
//! sets of their documents. The last pass copies each kept record to
//! `deduped.jsonl` byte for byte, collecting the ids of clustered documents
//! for `clusters.jsonl`. Texts are never all in memory at once.
//!
//! Under `doppel run` the same passes read the original input with what the
//! cleaner handed over ([`Upstream`]): the records it rejected are passed
//! over, and each other text loses the byte spans the cleaner cut (see the
//! `cuts` module) before it is signed, and before its record is written.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use super::clean_job::{ChunkPool, CleanOptions, CleanSummary, CleanTally, CleanedChunk, clean_for_signing};
use super::cuts::{BatchCuts, CutLog, CutReader};
use super::engine::{
    BIN_BUDGET_BYTES, DedupOutcome, Signatures, candidate_docs, candidate_pairs, cluster_candidates, map_bins,
};
use crate::clean::Cleaner;
use crate::cluster::{ClusterMode, DocIndex};
use crate::config::{DedupConfig, KeepRule};
use crate::input::{
    Batch, BatchReader, Corpus, FieldNames, Input, RawRecord, SourceKind, fallback_id, own_id, parse_record,
    push_json_string,
};
use crate::minhash::{MinHasher, SignScratch};
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::shingle::Shingling;
use crate::verify::{SetLog, SimilaritySource, SpilledSets, Verify};
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
    /// Reject records over this many bytes (default
    /// [`crate::input::DEFAULT_MAX_RECORD_BYTES`]).
    pub max_record_bytes: Option<u64>,
    /// Draw progress bars on stderr.
    pub progress: bool,
    /// Hold at most this many bytes of LSH band keys in memory, spilling
    /// sorted runs to an unnamed file in the output directory beyond it. The
    /// output is byte-identical with or without a limit. Needs exact
    /// verification: estimate verification keeps every signature in memory.
    pub memory_limit_bytes: Option<u64>,
    /// Write only the lists (`clusters.jsonl`, `rejected.jsonl` and
    /// `stats.json`), not `deduped.jsonl`: every document is still
    /// accounted for, a kept one by not being listed. Spares copying the
    /// corpus for a user who wants the duplicates, not a second corpus.
    pub duplicates_only: bool,
    /// Where exact verification gets the shingle sets of candidates.
    pub exact_sets: ExactSets,
    /// Remove documents with no words (placeholders, pages the cleaner
    /// emptied): not written, listed in `rejected.jsonl` with the reason
    /// `empty`, counted as rejected.
    pub drop_empty: bool,
    /// Write every record to `annotated.jsonl` with its cluster
    /// (`"doppel_cluster"`: the 0-based line of `clusters.jsonl`, or null)
    /// and whether it is kept (`"doppel_kept"`), instead of the kept ones
    /// to `deduped.jsonl`.
    pub annotate: bool,
    /// Fields of each clustered record written beside its id in
    /// `clusters.jsonl` (`"fields": {...}`), e.g. site, title, date.
    pub show_fields: Vec<String>,
    /// Keep a record whose field holds an earlier value of a list before
    /// the keep rule is asked (`--keep-priority site=wire.example,...`).
    pub keep_priority: Option<KeepPriority>,
}

/// A priority list: records whose `field` holds `values[0]` are kept first,
/// then those holding `values[1]`, and so on; then every other record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepPriority {
    /// The field read.
    pub field: String,
    /// Its values, most wanted first.
    pub values: Vec<String>,
}

impl KeepPriority {
    /// Parses `FIELD=V1,V2,...`.
    pub fn parse(spec: &str) -> Result<KeepPriority> {
        let (field, values) = spec
            .split_once('=')
            .ok_or_else(|| Error::config(format!("--keep-priority wants FIELD=VALUE,VALUE,..., got {spec:?}")))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if field.trim().is_empty() || values.is_empty() {
            return Err(Error::config(format!("--keep-priority wants a field and at least one value, got {spec:?}")));
        }
        Ok(KeepPriority { field: field.trim().to_string(), values })
    }

    /// The rank of a record whose field holds `raw` (raw JSON): the place
    /// of its value in the list, or the list's length for any other value
    /// or none. A string is compared by its value, anything else by its JSON.
    pub fn rank(&self, raw: Option<&str>) -> u32 {
        let Some(raw) = raw else { return self.values.len() as u32 };
        let value = match raw.starts_with('"') {
            true => crate::input::json_string_value(raw).unwrap_or(std::borrow::Cow::Borrowed(raw)),
            false => std::borrow::Cow::Borrowed(raw),
        };
        self.values.iter().position(|v| *v == value).unwrap_or(self.values.len()) as u32
    }
}

/// Where exact verification gets the shingle sets of candidate documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExactSets {
    /// Log every document's shingle hashes during the sign pass, the ones
    /// that sign it, as 32-bit fingerprints, to an unnamed temporary file
    /// in the output directory (4 bytes a shingle: about 0.6x a news corpus
    /// with word 5-grams, and about 4x with character n-grams). No second
    /// read of the corpus.
    /// Should the disk fill up while the log is written, the log is dropped
    /// and the job falls back to [`ExactSets::Reread`], saying so in its
    /// warnings; a disk that fills up under another temporary file (band
    /// runs under a memory limit, the id log) ends the run with an error.
    #[default]
    Keep,
    /// Read the corpus a second time and build the sets of candidate
    /// documents only: disk for their sets alone, at the cost of reading,
    /// parsing and hashing them again.
    Reread,
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
    /// How candidates were confirmed.
    pub verify: Verify,
    /// How clusters were formed.
    pub cluster: ClusterMode,
    /// Containment threshold, if any.
    pub containment: Option<f64>,
    /// The Jaccard similarity LSH was tuned for.
    pub lsh_threshold: f64,
}

/// One paragraph a person reads at the end of a run (without the output
/// directory, which the caller names).
impl std::fmt::Display for DedupSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read {} documents from {} file(s) ({:.1} MB) in {:.2} s ({:.1} MB/s, {:.0} docs/s); kept {}, removed {} \
             near-duplicates in {} clusters (threshold {}, {} bands x {} rows), rejected {}.",
            self.documents,
            self.input_files,
            self.input_bytes as f64 / 1e6,
            self.seconds.total,
            self.bytes_per_second / 1e6,
            self.documents_per_second,
            self.kept,
            self.duplicates,
            self.clusters,
            self.parameters.threshold,
            self.parameters.bands,
            self.parameters.rows,
            self.rejected,
        )
    }
}

impl JobOptions {
    /// Checks the options that go together; the settings alone are checked
    /// by [`DedupConfig::validate`]. Jobs call it before any work.
    pub fn check(&self) -> Result<()> {
        if self.memory_limit_bytes.is_some() && self.dedup.verify == Verify::Estimate {
            return Err(Error::config(
                "--memory-limit needs --verify exact: estimate verification keeps every full signature in memory",
            ));
        }
        if self.annotate && self.duplicates_only {
            return Err(Error::config("--annotate writes every record and --duplicates-only none: give one"));
        }
        let by_date = matches!(self.dedup.keep, KeepRule::Earliest | KeepRule::Latest);
        if by_date && self.fields.date.is_none() {
            return Err(Error::config("--keep earliest and --keep latest need --date-field FIELD"));
        }
        if !by_date && self.fields.date.is_some() {
            return Err(Error::config("--date-field is read only by --keep earliest or --keep latest"));
        }
        Ok(())
    }
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
            verify: c.verify,
            cluster: c.cluster,
            containment: c.containment,
            lsh_threshold: c.lsh_threshold(),
        }
    }
}

/// Wall-clock seconds per stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageSeconds {
    /// Reading, parsing, normalising, shingling and signing.
    pub read_and_sign: f64,
    /// LSH banding into candidate pairs.
    pub lsh: f64,
    /// Exact shingle sets of candidate documents: indexing the sets logged
    /// in the sign pass, or the second read of the corpus that builds them.
    pub exact_sets: f64,
    /// Confirmation and clustering.
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
    /// Candidate pairs judged: those whose documents pairs confirmed before
    /// them had not joined already (the rest need no judging).
    pub judged_pairs: u64,
    /// Judged pairs confirmed as near-duplicates.
    pub confirmed_pairs: u64,
    /// Documents in at least one candidate pair.
    pub candidate_documents: u64,
    /// Bytes of exact shingle sets spilled to disk for verification.
    pub exact_set_bytes: u64,
    /// Where the exact sets came from: `sign_pass`, `second_read`, or
    /// `none` (estimate verification).
    pub exact_set_source: &'static str,
    /// Bytes of the set log held in memory rather than spilled (0: it is
    /// on disk). A log expected to take at most 256 MiB is held in memory,
    /// and moves to a file if it outgrows that.
    pub exact_sets_in_memory_bytes: u64,
    /// What the user should know about how the run went that is not an
    /// error (e.g. a full disk that turned off the set log).
    pub warnings: Vec<String>,
    /// Sorted runs of band keys spilled to disk under `--memory-limit` (0: all in memory).
    pub band_runs: u64,
    /// Bytes of band keys spilled to disk.
    pub band_spill_bytes: u64,
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

/// The bad records of one pass: each is an error naming the file and line,
/// or, with `--skip-bad`, a rejection listed with its reason.
pub(crate) struct Rejects<'c> {
    corpus: &'c Corpus,
    skip_bad: bool,
    /// Rejected records, in input order.
    pub list: Vec<Rejected>,
}

impl<'c> Rejects<'c> {
    pub fn new(corpus: &'c Corpus, skip_bad: bool) -> Rejects<'c> {
        Rejects { corpus, skip_bad, list: Vec::new() }
    }

    /// A record that cannot be used.
    pub fn record(&mut self, source: u32, line: u64, reason: String) -> Result<()> {
        let file = self.corpus.sources[source as usize].name.clone();
        if !self.skip_bad {
            return Err(Error::BadRecord { file, line, reason });
        }
        self.list.push(Rejected { source, file, line, reason });
        Ok(())
    }

    /// A source that could not be read from `failure.line` on.
    pub fn failure(&mut self, failure: crate::input::ReadFailure) -> Result<()> {
        let file = self.corpus.sources[failure.source as usize].name.clone();
        if !self.skip_bad || crate::input::is_input_changed(&failure.error) {
            return Err(Error::Read { file, line: failure.line, source: failure.error });
        }
        let reason = format!("cannot read input from this line on: {}", failure.error);
        self.list.push(Rejected { source: failure.source, file, line: failure.line, reason });
        Ok(())
    }
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

/// [`for_each_batch`] with a consumer: `produce` turns each batch into a
/// `T` (in parallel, as it likes) and `consume` receives them, in input
/// order, on a thread of its own, up to two batches behind. Used where the
/// work after each batch is sequential (writing, counting), which would
/// otherwise leave the workers idle. The consumer's error is returned first:
/// it is the earliest in input order.
pub(crate) fn for_each_batch_into<T: Send, R: Send>(
    corpus: &Corpus,
    counter: &Arc<AtomicU64>,
    mut produce: impl FnMut(Batch) -> Result<T>,
    consume: impl FnOnce(std::sync::mpsc::Receiver<T>) -> Result<R> + Send,
) -> Result<R> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<T>(2);
        let consumer = scope.spawn(move || consume(rx));
        let produced = for_each_batch(corpus, counter, |batch| {
            let item = produce(batch)?;
            // A closed channel means the consumer stopped on an error, which
            // is the one returned below.
            tx.send(item).map_err(|_| Error::config("internal: a pipeline thread stopped early"))
        });
        drop(tx);
        let consumed = consumer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let result = consumed?;
        produced.map(|()| result)
    })
}

enum Outcome {
    Doc {
        chars: usize,
        shingles: usize,
        id: Option<String>,
        // The hash of the record's own id (`None` when it has none and is
        // named FILE:LINE), to find ids given twice.
        id_hash: Option<u64>,
        // Its date, when a keep rule asks for dates and it has one.
        date: Option<i64>,
        // Its rank in the priority list (`None` without a list).
        rank: Option<u32>,
    },
    Bad(String),
    /// Rejected before dedup, and reported there.
    PassedOver,
    /// Readable, but not the text that was cleaned: the input changed.
    Changed(String),
}

/// The text of a raw record, or why it cannot be used.
pub(crate) fn record_text<'a>(
    kind: &SourceKind,
    bytes: &'a [u8],
    fields: &FieldNames,
) -> std::result::Result<std::borrow::Cow<'a, str>, String> {
    if let Some(reason) = crate::input::marked_reason(bytes) {
        return Err(reason);
    }
    match kind {
        SourceKind::Text { .. } => std::str::from_utf8(bytes).map(std::borrow::Cow::Borrowed).map_err(|e| {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            format!("invalid UTF-8 on line {line}")
        }),
        SourceKind::Jsonl => parse_record(bytes, fields).map(|f| f.text),
    }
}

/// Records a worker signs at a time in the sign pass, at most, their sets
/// built in one buffer (see `SetLog::append_documents`): enough that the
/// log holds a buffer (and the writer frees one) every 16 news articles,
/// not every article.
const SIGN_RUN_RECORDS: usize = 16;

/// How many of a batch's `records` a worker takes at a time in a pass that
/// hands them out in chunks: `at_most`, or fewer when the batch holds few
/// records (long ones: whole text files, long articles), so that every
/// thread gets about four chunks and no worker is left with the batch.
pub(crate) fn records_per_chunk(records: usize, at_most: usize) -> usize {
    (records / (4 * rayon::current_num_threads())).clamp(1, at_most)
}

/// What the sign pass needs to sign the records of one batch.
struct BatchSigner<'a> {
    corpus: &'a Corpus,
    batch: &'a Batch,
    opts: &'a JobOptions,
    // The job's fields, and the priority list's.
    fields: &'a FieldNames,
    hasher: &'a MinHasher,
    /// Per record: rejected before dedup, and passed over here.
    passed: &'a [bool],
    cuts: &'a RecordCuts<'a>,
    with_ids: bool,
    /// Whether each document's shingle hashes are appended to the run's set.
    with_sets: bool,
    /// Whether each document's date is read (for `--keep earliest|latest`).
    with_dates: bool,
    /// The cleaner, when each text is cleaned before it is signed (`run`).
    cleaner: Option<&'a Cleaner>,
}

impl BatchSigner<'_> {
    /// Signs record `i` of the batch, `rec`, into `sig`, appending its
    /// shingle hashes to `set` when sets are kept. With a cleaner, the text
    /// is cleaned first, its cuts and figures going to `cleaned`.
    fn sign(
        &self,
        i: usize,
        rec: &RawRecord,
        scratch: &mut SignScratch,
        sig: &mut [u32],
        set: &mut Vec<u32>,
        cleaned: &mut CleanedChunk,
    ) -> Outcome {
        if self.passed[i] {
            return Outcome::PassedOver;
        }
        let kind = &self.corpus.sources[rec.source as usize].kind;
        let bytes = self.batch.bytes(rec);
        let fields = self.fields;
        let priority = self.opts.keep_priority.as_ref();
        let read = match kind {
            SourceKind::Text { id } => record_text(kind, bytes, fields).map(|t| {
                let rank = priority.map(|p| p.rank(None));
                let json = crate::input::json_string(id);
                let hash = Some(xxh3_64(json.as_bytes()));
                (t, self.with_ids.then(|| json.clone()), hash, None, rank, None, Some(json))
            }),
            SourceKind::Jsonl => parse_record(bytes, fields).map(|f| {
                let date = f.date.filter(|_| self.with_dates).and_then(crate::dates::parse_raw_json_date);
                let rank = priority.map(|p| p.rank(f.priority));
                let hash = f.id.map(|raw| xxh3_64(raw.as_bytes()));
                let site = f.site_text().filter(|_| self.cleaner.is_some());
                let raw_id = f.id.filter(|_| self.cleaner.is_some()).map(str::to_owned);
                (f.text, f.id.filter(|_| self.with_ids).map(str::to_owned), hash, date, rank, site, raw_id)
            }),
        };
        let (text, id, id_hash, date, rank, site, raw_id) = match read {
            Ok(read) => read,
            Err(reason) => return Outcome::Bad(reason),
        };
        let text = match self.cleaner {
            Some(cleaner) => {
                let source = &self.corpus.sources[rec.source as usize];
                let id = || raw_id.unwrap_or_else(|| fallback_id(source, rec.line));
                std::borrow::Cow::Owned(clean_for_signing(cleaner, &text, site.as_deref(), id, cleaned))
            }
            // A readable record whose text no longer fits its cuts has changed.
            None => match self.cuts.apply(i, text) {
                Ok(text) => text,
                Err(reason) => return Outcome::Changed(reason),
            },
        };
        let shingles = match self.with_sets {
            true => self.hasher.sign_appending_fingerprints(&text, scratch, sig, set),
            false => self.hasher.sign_into(&text, scratch, sig),
        };
        Outcome::Doc { chars: text.chars().count(), shingles, id, id_hash, date, rank }
    }
}

struct SignPass {
    signatures: Signatures,
    rejected: Vec<Rejected>,
    empty: u64,
    // The documents with no words, when they are dropped (`drop_empty`):
    // listed in `rejected.jsonl` after the others.
    dropped: Vec<Rejected>,
    // Every document's exact set, when they were logged.
    sets: Option<SetLog>,
    // Every document's id, a line each, when only the lists are written:
    // they are then written without reading the corpus again.
    ids: Option<IdLog>,
    warnings: Vec<String>,
    // The cleaning's figures, when the pass cleaned (`run`).
    cleaned: Option<CleanTally>,
}

/// The raw JSON id of every document, one a line in document order (JSON
/// has no raw line breaks), in an unnamed temporary file: a few bytes a
/// document on disk, none in memory. A record without an id gets its
/// `FILE:LINE` id.
struct IdLog {
    file: crate::spill::SpillFile,
}

impl IdLog {
    /// The line of one document.
    fn line(source: &crate::input::Source, line: u64, id: Option<String>, out: &mut Vec<u8>) {
        out.extend_from_slice(id.unwrap_or_else(|| fallback_id(source, line)).as_bytes());
        out.push(b'\n');
    }

    /// The ids of `docs` (sorted document indices), in that order.
    fn ids_of(&self, docs: &[u32]) -> std::io::Result<Vec<String>> {
        use std::io::BufRead;
        let mut ids = Vec::with_capacity(docs.len());
        let mut reader = self.file.reader();
        let mut line = Vec::new();
        for doc in 0u32.. {
            let Some(&want) = docs.get(ids.len()) else { break };
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Err(std::io::Error::other("internal: the id log ends before the documents signed"));
            }
            if doc != want {
                continue;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            ids.push(String::from_utf8_lossy(text).into_owned());
        }
        Ok(ids)
    }
}

/// The set log's expected size: 4 bytes a shingle, about one word shingle
/// per 6 bytes of input (0.6 GB for 1 GB of news) and one character
/// shingle a byte.
fn estimated_set_log_bytes(decoded_bytes: u64, shingling: Shingling) -> u64 {
    match shingling {
        Shingling::Words(_) => decoded_bytes / 6 * 4,
        Shingling::Chars(_) => decoded_bytes.saturating_mul(4),
    }
}

/// Whether `available` bytes hold the set log and, beside it, the outputs.
fn set_log_fits(available: u64, log_bytes: u64, output_bytes: u64) -> bool {
    log_bytes.saturating_add(output_bytes) <= available
}

/// Why the set log is not kept in `dir`, when its free space would not hold
/// the log and the outputs: the sets are then built by a second read from
/// the start, rather than after the disk has filled. `None` when there is
/// room, or the free space cannot be told (the fallback on a full disk
/// still stands).
fn set_log_room_warning(corpus: &Corpus, opts: &JobOptions, dir: &Path) -> Option<String> {
    let available = fs4::available_space(dir).ok()?;
    let decoded = corpus.estimated_decoded_bytes();
    let log = estimated_set_log_bytes(decoded, opts.dedup.shingling);
    // deduped.jsonl is at most the input; the lists alone are small.
    let outputs = if opts.duplicates_only { 0 } else { decoded };
    let mb = |b: u64| b.div_ceil(1 << 20);
    (!set_log_fits(available, log, outputs)).then(|| {
        format!(
            "{} has {} MiB free, and logging exact shingle sets would take about {} MiB (the outputs about {} MiB); \
             they are built by reading the candidate documents again instead (as --exact-sets reread does)",
            dir.display(),
            mb(available),
            mb(log),
            mb(outputs)
        )
    })
}

/// True for the write errors that mean the disk has no room, after which
/// the set log is given up rather than the run.
fn is_disk_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    // A file system's size limit for one file (FAT32's 4 GiB) is no room too.
    matches!(e.kind(), StorageFull | QuotaExceeded | FileTooLarge)
}

fn sign_pass(
    corpus: &Corpus,
    opts: &JobOptions,
    hasher: &MinHasher,
    progress: Progress,
    spill_dir: &Path,
    upstream: &Upstream<'_>,
    fusing: Option<Fusing<'_>>,
) -> Result<SignPass> {
    let k = opts.dedup.num_perm;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), if fusing.is_some() { "cleaning and signing" } else { "signing" });
    // Whether the texts signed are cleaned ones, for what the warnings say.
    let cleaned_texts = fusing.is_some() || upstream.cuts.is_some();
    let cleaner = fusing.as_ref().map(|f| f.cleaner);
    // Cleaned chunks' buffers go back to the workers once written.
    let chunk_pool = ChunkPool::default();
    // Exact verification needs only the band keys: 72 bytes a document
    // instead of 512 with the defaults.
    let mut signatures = match opts.dedup.verify {
        Verify::Exact => Signatures::band_keys_only(k, opts.dedup.bands(), opts.dedup.rows()),
        Verify::Estimate => Signatures::new(k),
    };
    if let Some(limit) = opts.memory_limit_bytes {
        signatures.limit_band_memory(limit, spill_dir);
    }
    let mut warnings = Vec::new();
    let log = match (opts.dedup.verify, opts.exact_sets) {
        (Verify::Exact, ExactSets::Keep) => match set_log_memory_budget(corpus, opts) {
            // A log expected to stay in memory needs no room on disk.
            0 => match set_log_room_warning(corpus, opts, spill_dir) {
                None => Some(SetLog::create(spill_dir, 0).map_err(|e| Error::io(spill_dir, e))?),
                Some(warning) => {
                    warnings.push(warning);
                    None
                }
            },
            budget => Some(SetLog::create(spill_dir, budget).map_err(|e| Error::io(spill_dir, e))?),
        },
        _ => None,
    };
    // Cleared when the log is given up, so that workers stop building sets.
    let logging = std::sync::atomic::AtomicBool::new(log.is_some());
    let ids = match opts.duplicates_only {
        true => Some(IdLog { file: crate::spill::SpillFile::create(spill_dir).map_err(|e| Error::io(spill_dir, e))? }),
        false => None,
    };
    let with_ids = ids.is_some();
    let mut pass = SignPass {
        signatures,
        rejected: Vec::new(),
        empty: 0,
        dropped: Vec::new(),
        sets: None,
        ids: None,
        warnings,
        cleaned: None,
    };
    // Records without an id of their own: named FILE:LINE, and said so.
    let mut without_id = 0u64;
    // Records without a date a keep rule can read: never preferred, counted,
    // the first few named.
    let with_dates = matches!(opts.dedup.keep, KeepRule::Earliest | KeepRule::Latest);
    let (mut without_date, mut undated) = (0u64, Vec::new());
    // Ids met so far, by hash (8 bytes and a little a document): a record
    // whose id was met before is counted, the first few named, so that a
    // user never loses track of which record a cluster's id means.
    let mut ids_seen: std::collections::HashSet<u64, xxhash_rust::xxh3::Xxh3Builder> = Default::default();
    let (mut given_twice, mut twice_named) = (0u64, Vec::new());
    // Records whose priority field holds none of the listed values.
    let mut unlisted = 0u64;
    // Documents with no words (a placeholder brief, a page the cleaner
    // emptied): kept, never clustered, and named so that nobody indexes a
    // blank page unknowingly.
    let mut empty_named = Vec::new();
    let mut rejects = Rejects::new(corpus, opts.skip_bad);
    let mut passed_over = RejectMatch::new(&upstream.rejected);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let mut sigs = Vec::new();
    let fields = FieldNames { priority: opts.keep_priority.as_ref().map(|p| p.field.clone()), ..opts.fields.clone() };
    // Sets are written on a thread of their own, a batch behind, so that
    // the workers never wait for the disk.
    let ((log, warning), ids, tally) = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            sigs.clear();
            sigs.resize(batch.records.len() * k, 0u32);
            let with_sets = logging.load(Ordering::Relaxed);
            let passed: Vec<bool> = batch.records.iter().map(|r| passed_over.takes(r.source, r.line)).collect();
            let cuts = read_cuts(&mut cut_walk, passed.iter().map(|p| !p), corpus, spill_dir)?;
            let batch_signer = BatchSigner {
                corpus,
                batch: &batch,
                opts,
                fields: &fields,
                hasher,
                passed: &passed,
                cuts: &cuts,
                with_ids,
                with_sets,
                with_dates,
                cleaner,
            };
            // Records are signed a run at a time, their sets built back to
            // back in one buffer that the log keeps as it is.
            let run_records = records_per_chunk(batch.records.len(), SIGN_RUN_RECORDS);
            let runs: Vec<(Vec<Outcome>, Vec<u32>, CleanedChunk)> = sigs
                .par_chunks_mut(k * run_records)
                .zip(batch.records.par_chunks(run_records).enumerate())
                .map_init(SignScratch::default, |scratch, (run_sigs, (run, recs))| {
                    let mut set = Vec::new();
                    if with_sets {
                        // About one shingle per 6 bytes of news text, and a
                        // record is at least as long as its text.
                        set.reserve(recs.iter().map(|rec| (rec.end - rec.start) / 5 + 1).sum());
                    }
                    let mut cleaned = match cleaner {
                        Some(_) => chunk_pool.take(),
                        None => CleanedChunk::default(),
                    };
                    let outcomes = recs
                        .iter()
                        .zip(run_sigs.chunks_mut(k))
                        .enumerate()
                        .map(|(j, (rec, sig))| {
                            batch_signer.sign(run * run_records + j, rec, scratch, sig, &mut set, &mut cleaned)
                        })
                        .collect();
                    set.shrink_to_fit();
                    (outcomes, set, cleaned)
                })
                .collect();
            let mut sets = Vec::with_capacity(if with_sets { runs.len() } else { 0 });
            let mut id_lines = Vec::new();
            let mut cleaned_chunks = Vec::with_capacity(if cleaner.is_some() { runs.len() } else { 0 });
            let mut records = batch.records.iter().zip(sigs.chunks(k));
            for (outcomes, set, cleaned) in runs {
                if cleaner.is_some() {
                    cleaned_chunks.push(cleaned);
                }
                let mut documents = 0;
                for (outcome, (rec, sig)) in outcomes.into_iter().zip(records.by_ref()) {
                    match outcome {
                        Outcome::Doc { chars, shingles, id, id_hash, date, rank } => {
                            without_id += u64::from(id_hash.is_none());
                            if let Some(h) = id_hash
                                && !ids_seen.insert(h)
                            {
                                given_twice += 1;
                                if twice_named.len() < 3 {
                                    let source = &corpus.sources[rec.source as usize];
                                    let id = own_id(source, batch.bytes(rec), &fields).unwrap_or_default();
                                    twice_named.push(format!("{id} at {}:{}", source.name, rec.line));
                                }
                            }
                            if with_dates && date.is_none() {
                                without_date += 1;
                                if undated.len() < 3 {
                                    undated.push(format!("{}:{}", corpus.sources[rec.source as usize].name, rec.line));
                                }
                            }
                            if with_sets && u32::try_from(shingles).is_err() {
                                let e = std::io::Error::other("a document has more than 2^32 shingles");
                                return Err(Error::io(spill_dir, e));
                            }
                            if with_ids {
                                IdLog::line(&corpus.sources[rec.source as usize], rec.line, id, &mut id_lines);
                            }
                            pass.signatures.push(sig, chars, shingles);
                            if with_dates {
                                pass.signatures.push_date(date);
                            }
                            if let Some(rank) = rank {
                                pass.signatures.push_rank(rank);
                                unlisted += u64::from(
                                    rank as usize == opts.keep_priority.as_ref().map_or(0, |p| p.values.len()),
                                );
                            }
                            pass.signatures.spill_bands_if_full().map_err(|e| Error::io(spill_dir, e))?;
                            pass.empty += u64::from(shingles == 0);
                            if shingles == 0 && opts.drop_empty {
                                let file = corpus.sources[rec.source as usize].name.clone();
                                let reason = if cleaned_texts { "empty once cleaned" } else { "empty" };
                                pass.dropped.push(Rejected {
                                    source: rec.source,
                                    file,
                                    line: rec.line,
                                    reason: reason.into(),
                                });
                            }
                            if shingles == 0 && empty_named.len() < 3 {
                                empty_named.push(format!("{}:{}", corpus.sources[rec.source as usize].name, rec.line));
                            }
                            documents += 1;
                        }
                        Outcome::Bad(reason) => rejects.record(rec.source, rec.line, reason)?,
                        Outcome::Changed(reason) => {
                            return Err(changed(corpus, rec.source, &format!("line {}: {reason}", rec.line)));
                        }
                        Outcome::PassedOver => {}
                    }
                }
                if with_sets {
                    sets.push((set, documents));
                }
            }
            if let Some(f) = batch.failure
                && !passed_over.takes(f.source, f.line)
            {
                rejects.failure(f)?;
            }
            bar.set_position(counter.load(Ordering::Relaxed));
            bar.set_message(format!("{} docs", pass.signatures.len()));
            Ok((sets, id_lines, cleaned_chunks))
        },
        |batches| {
            let mut ids = ids;
            let mut fusing = fusing;
            let mut tally = fusing.as_ref().map(|_| CleanTally::default());
            let mut sets = SetLogging { log, warning: None, logging: &logging, spill_dir };
            for (batch_sets, id_lines, cleaned_chunks) in batches {
                if let Some(log) = ids.as_mut() {
                    // The id log is a few bytes a document: a full disk
                    // here is an error like any other.
                    log.file.append(&id_lines).map_err(|e| Error::io(spill_dir, e))?;
                }
                sets.add(batch_sets)?;
                if let (Some(f), Some(tally)) = (fusing.as_mut(), tally.as_mut()) {
                    for mut chunk in cleaned_chunks {
                        f.log.append(&chunk.records).map_err(|e| Error::io(spill_dir, e))?;
                        f.removed.write_all(&chunk.removed)?;
                        tally.absorb(&mut chunk);
                        chunk_pool.give_back(chunk);
                    }
                }
            }
            if let Some(log) = ids.as_mut() {
                log.file.finish().map_err(|e| Error::io(spill_dir, e))?;
            }
            if let Some(f) = fusing.as_mut() {
                f.log.finish().map_err(|e| Error::io(spill_dir, e))?;
            }
            Ok((sets.finish()?, ids, tally))
        },
    )?;
    pass.ids = ids;
    pass.cleaned = tally;
    // Every record the cleaner saw was met again.
    if let Some(walk) = cut_walk.as_mut() {
        walk.finish(corpus, spill_dir)?;
    }
    if !passed_over.all_taken() {
        return Err(input_changed(corpus, "a record rejected when it was cleaned is gone"));
    }
    // A batch signed before the log was given up may have sent no sets: the
    // log is complete or absent.
    if let Some(l) = &log
        && l.documents() != pass.signatures.len()
    {
        return Err(Error::io(
            spill_dir,
            std::io::Error::other(format!(
                "internal: {} sets logged for {} documents signed",
                l.documents(),
                pass.signatures.len()
            )),
        ));
    }
    pass.sets = log;
    pass.warnings.extend(warning);
    let documents = pass.signatures.len() as u64;
    if without_id > 0 {
        let field = &opts.fields.id;
        let which = if without_id == documents {
            "no record has".to_string()
        } else {
            format!("{without_id} of {documents} records have no")
        };
        pass.warnings.push(format!("{which} id field {field:?} (or a null one): they are named FILE:LINE"));
    }
    if given_twice > 0 {
        let more = if given_twice > twice_named.len() as u64 { ", ..." } else { "" };
        pass.warnings.push(format!(
            "{given_twice} records repeat an id an earlier record has ({}{more}): clusters.jsonl and removed \
             lists name them by id, so these are ambiguous there",
            twice_named.join(", ")
        ));
    }
    if pass.empty > 0 && !opts.drop_empty {
        let more = if pass.empty > empty_named.len() as u64 { ", ..." } else { "" };
        let cleaned = if cleaned_texts { " once cleaned" } else { "" };
        pass.warnings.push(format!(
            "{} of {documents} documents have no words{cleaned} ({}{more}): they are kept and never clustered",
            pass.empty,
            empty_named.join(", ")
        ));
    }
    if without_date > 0 {
        let field = opts.fields.date.as_deref().unwrap_or_default();
        let more = if without_date > undated.len() as u64 { ", ..." } else { "" };
        pass.warnings.push(format!(
            "{without_date} of {documents} records have no date in field {field:?} that doppel can read ({}{more}): \
             they are kept only where no copy has one",
            undated.join(", ")
        ));
    }
    if let Some(p) = &opts.keep_priority
        && unlisted == documents
        && documents > 0
    {
        pass.warnings.push(format!(
            "no record's field {:?} holds one of the --keep-priority values ({}): the priority decides nothing",
            p.field,
            p.values.join(", ")
        ));
    }
    bar.finish_and_clear();
    pass.rejected = rejects.list;
    Ok(pass)
}

/// The set log as the sign pass's writer thread keeps it. A full disk
/// gives the log up (which frees its disk at once: the file has no name),
/// clears `logging` so that the workers stop building sets, and says so in
/// the warning; any other write error ends the run.
struct SetLogging<'a> {
    log: Option<SetLog>,
    warning: Option<String>,
    logging: &'a std::sync::atomic::AtomicBool,
    spill_dir: &'a Path,
}

impl SetLogging<'_> {
    /// Appends one batch's sets, in document order: runs of documents'
    /// sets back to back, each with its number of documents.
    fn add(&mut self, sets: Vec<(Vec<u32>, usize)>) -> Result<()> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        for (set, documents) in sets {
            if let Err(e) = log.append_documents(set, documents) {
                return self.give_up(e);
            }
        }
        Ok(())
    }

    /// The log, complete, or `None` if it was given up; and the warning.
    fn finish(mut self) -> Result<(Option<SetLog>, Option<String>)> {
        // The buffered tail is written here, and may be what meets a full disk.
        if let Some(Err(e)) = self.log.as_mut().map(SetLog::finish) {
            self.give_up(e)?;
        }
        Ok((self.log, self.warning))
    }

    fn give_up(&mut self, e: std::io::Error) -> Result<()> {
        if !is_disk_full(&e) {
            return Err(Error::io(self.spill_dir, e));
        }
        self.warning = Some(format!(
            "the disk in {} filled up while logging exact shingle sets ({e}); \
             they were built by reading the candidate documents again instead \
             (--exact-sets reread does this from the start)",
            self.spill_dir.display()
        ));
        self.logging.store(false, Ordering::Relaxed);
        self.log = None;
        Ok(())
    }
}

/// Appends each batch's sets to `log`, as the sign pass's writer does (see
/// [`SetLogging`]).
#[cfg(test)]
fn log_batches(
    log: Option<SetLog>,
    batches: impl IntoIterator<Item = Vec<(Vec<u32>, usize)>>,
    logging: &std::sync::atomic::AtomicBool,
    spill_dir: &Path,
) -> Result<(Option<SetLog>, Option<String>)> {
    let mut sets = SetLogging { log, warning: None, logging, spill_dir };
    for batch in batches {
        sets.add(batch)?;
    }
    sets.finish()
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

/// What the sign pass needs to clean as it signs (see [`Cleaning`]).
struct Fusing<'a> {
    cleaner: &'a Cleaner,
    log: &'a mut CutLog,
    removed: &'a mut crate::output::OutputFile,
}

/// Reads the cuts of each batch's documents, in step with the batches.
struct CutWalk<'a> {
    reader: CutReader<Box<dyn std::io::BufRead + 'a>>,
    batch: BatchCuts,
}

impl<'a> CutWalk<'a> {
    /// A walk from the first entry, when there are cuts.
    fn new(log: Option<&'a CutLog>) -> Option<CutWalk<'a>> {
        log.map(|log| CutWalk { reader: log.reader(), batch: BatchCuts::default() })
    }

    /// Fails unless every entry has been read: records the cleaner saw are
    /// gone from the input.
    fn finish(&mut self, corpus: &Corpus, dir: &Path) -> Result<()> {
        match self.reader.at_end() {
            Ok(true) => Ok(()),
            Ok(false) => Err(input_changed(corpus, "fewer records than when it was cleaned")),
            Err(e) => Err(cut_log_error(corpus, dir, e)),
        }
    }
}

/// The cuts of one batch's records, as a pass takes them: none when no
/// cuts were handed over.
#[derive(Default)]
struct RecordCuts<'b> {
    batch: Option<&'b BatchCuts>,
    /// Per record: its entry's number in `batch` (`None` if not a document).
    entries: Vec<Option<usize>>,
}

impl RecordCuts<'_> {
    /// Record `i`'s text without its cuts.
    fn apply<'t>(
        &self,
        i: usize,
        text: std::borrow::Cow<'t, str>,
    ) -> std::result::Result<std::borrow::Cow<'t, str>, String> {
        let Some(batch) = self.batch else { return Ok(text) };
        match self.entries.get(i).copied().flatten() {
            Some(entry) => batch.apply(entry, text),
            None => Err("internal: no cuts were read for this record".into()),
        }
    }
}

/// Reads the next batch's cuts from `walk` (if there is one): an entry for
/// each of its records that is a document (`is_doc`).
fn read_cuts<'w>(
    walk: &'w mut Option<CutWalk<'_>>,
    is_doc: impl Iterator<Item = bool>,
    corpus: &Corpus,
    dir: &Path,
) -> Result<RecordCuts<'w>> {
    let Some(walk) = walk.as_mut() else { return Ok(RecordCuts::default()) };
    walk.batch.clear();
    let entries = is_doc
        .map(|doc| doc.then(|| walk.batch.read(&mut walk.reader)).transpose())
        .collect::<std::io::Result<_>>()
        .map_err(|e| cut_log_error(corpus, dir, e))?;
    Ok(RecordCuts { batch: Some(&walk.batch), entries })
}

/// A cut log that ends early means the input has more records than when it
/// was cleaned; any other failure is the log's own.
fn cut_log_error(corpus: &Corpus, dir: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => input_changed(corpus, "more records than when it was cleaned"),
        _ => Error::io(dir, e),
    }
}

fn input_changed(corpus: &Corpus, comment: &str) -> Error {
    Error::InputChanged {
        file: corpus.sources.last().map(|s| s.name.clone()).unwrap_or_default(),
        comment: comment.into(),
    }
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
        super::clean_job::free_worker_state();
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

/// Matches records to the rejected ones, both in input order.
struct RejectMatch {
    rejected: Vec<(u32, u64)>,
    next: usize,
}

impl RejectMatch {
    fn new<'r>(rejected: impl IntoIterator<Item = &'r Rejected>) -> RejectMatch {
        let mut rejected: Vec<(u32, u64)> = rejected.into_iter().map(|r| (r.source, r.line)).collect();
        rejected.sort_unstable();
        RejectMatch { rejected, next: 0 }
    }

    /// Whether every rejected record has been met.
    fn all_taken(&self) -> bool {
        self.next == self.rejected.len()
    }

    /// Whether the record (or read failure) at `line` of `source` is the
    /// next rejected one.
    fn takes(&mut self, source: u32, line: u64) -> bool {
        let hit = self.rejected.get(self.next) == Some(&(source, line));
        self.next += usize::from(hit);
        hit
    }
}

/// Matches the records of a later pass to document indices, passing over
/// the records and read failures rejected before dedup or in pass 1.
struct DocWalk<'a> {
    corpus: &'a Corpus,
    rejected: RejectMatch,
    doc: u32,
    docs: usize,
}

impl<'a> DocWalk<'a> {
    fn new(corpus: &'a Corpus, pass: &'a SignPass, upstream: &Upstream<'_>) -> DocWalk<'a> {
        let rejected = RejectMatch::new(upstream.rejected.iter().chain(&pass.rejected));
        DocWalk { corpus, rejected, doc: 0, docs: pass.signatures.len() }
    }

    /// The document index of each record of `batch` (`None` if rejected).
    fn assign(&mut self, batch: &Batch) -> Result<Vec<Option<u32>>> {
        let mut out = Vec::with_capacity(batch.records.len());
        for rec in &batch.records {
            if self.rejected.takes(rec.source, rec.line) {
                out.push(None);
                continue;
            }
            if self.doc as usize >= self.docs {
                return Err(changed(self.corpus, rec.source, "more records than in the first pass"));
            }
            out.push(Some(self.doc));
            self.doc += 1;
        }
        if let Some(f) = &batch.failure
            && !self.rejected.takes(f.source, f.line)
        {
            return Err(changed(self.corpus, f.source, &format!("line {}: {}", f.line, f.error)));
        }
        Ok(out)
    }

    fn finish(&self) -> Result<()> {
        if self.doc as usize != self.docs {
            return Err(Error::InputChanged {
                file: self.corpus.sources.last().map(|s| s.name.clone()).unwrap_or_default(),
                comment: format!("{} records on a later pass, {} on the first", self.doc, self.docs),
            });
        }
        Ok(())
    }
}

/// Bytes of the set log held in memory before it moves to a file.
const SET_LOG_MEMORY_BYTES: u64 = 256 << 20;

/// How many bytes of the set log to hold in memory: all of it when it is
/// expected to take at most [`SET_LOG_MEMORY_BYTES`], else none, so that a
/// big corpus writes its log to disk from the start and never holds the
/// budget at all. Under `--memory-limit` the log goes to disk. A log that
/// outgrows the estimate moves to a file when it passes the budget.
fn set_log_memory_budget(corpus: &Corpus, opts: &JobOptions) -> u64 {
    let expected = estimated_set_log_bytes(corpus.estimated_decoded_bytes(), opts.dedup.shingling);
    match opts.memory_limit_bytes.is_none() && expected <= SET_LOG_MEMORY_BYTES {
        true => SET_LOG_MEMORY_BYTES,
        false => 0,
    }
}

/// Pass 2 of exact verification: the shingle sets of `docs` (sorted),
/// spilled to an unnamed file in `dir`.
fn exact_sets(
    corpus: &Corpus,
    opts: &JobOptions,
    pass: &SignPass,
    upstream: &Upstream<'_>,
    docs: &[u32],
    progress: Progress,
    dir: &Path,
) -> Result<SpilledSets> {
    let mut sets = SpilledSets::create(dir).map_err(|e| Error::io(dir, e))?;
    if docs.is_empty() {
        sets.finish().map_err(|e| Error::io(dir, e))?;
        return Ok(sets);
    }
    let config = &opts.dedup;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "verifying");
    let mut walk = DocWalk::new(corpus, pass, upstream);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let mut next = 0usize;
    // Sets are built on the workers and written on a thread of their own, a
    // batch behind, so the workers never wait for the disk.
    let sets = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            let assigned = walk.assign(&batch)?;
            let cuts = read_cuts(&mut cut_walk, assigned.iter().map(Option::is_some), corpus, dir)?;
            let mut wanted = Vec::new();
            for (i, doc) in assigned.iter().enumerate() {
                if let Some(d) = *doc
                    && docs.get(next) == Some(&d)
                {
                    wanted.push((d, i));
                    next += 1;
                }
            }
            let encoded = wanted
                .par_iter()
                .map(|&(d, i)| {
                    let rec = &batch.records[i];
                    let kind = &corpus.sources[rec.source as usize].kind;
                    let text = record_text(kind, batch.bytes(rec), &opts.fields)
                        .map_err(|_| changed(corpus, rec.source, "a record readable in the first pass is not"))?;
                    let text = cuts
                        .apply(i, text)
                        .map_err(|e| changed(corpus, rec.source, &format!("line {}: {e}", rec.line)))?;
                    let mut fingerprints = Vec::new();
                    crate::shingle::shingle_fingerprints(&text, config.shingling, config.seed, &mut fingerprints);
                    Ok((d, fingerprints))
                })
                .collect::<Result<Vec<_>>>()?;
            bar.set_position(counter.load(Ordering::Relaxed));
            Ok(encoded)
        },
        |batches| {
            for (doc, set) in batches.into_iter().flatten() {
                sets.push(doc, &set).map_err(|e| Error::io(dir, e))?;
            }
            sets.finish().map_err(|e| Error::io(dir, e))?;
            Ok(sets)
        },
    )?;
    walk.finish()?;
    bar.finish_and_clear();
    Ok(sets)
}

/// What the write pass reads: the job and everything the passes before it found.
struct Finished<'a> {
    corpus: &'a Corpus,
    opts: &'a JobOptions,
    pass: &'a SignPass,
    outcome: &'a DedupOutcome,
    progress: Progress,
    upstream: &'a Upstream<'a>,
}

/// Second pass: kept records, cluster ids, rejects.
fn write_outputs(job: &Finished<'_>, outputs: &mut OutputSet) -> Result<std::time::Duration> {
    crate::failpoint::hit("write_pass");
    let Finished { opts, pass, outcome, .. } = *job;
    let started = Instant::now();
    // A deduped.jsonl of an earlier run is not committed with these lists
    // (the output directory is replaced whole), unless it is what this run
    // read: an input is never removed (see `OutputSet::keep_inputs`).
    let deduped = match (opts.duplicates_only, opts.annotate) {
        (true, _) => None,
        (false, false) => Some(outputs.create("deduped.jsonl")?),
        (false, true) => Some(outputs.create("annotated.jsonl")?),
    };
    // Ids are needed only for clustered documents: collect them on the way.
    let mut clustered: Vec<u32> = outcome
        .clusters
        .iter()
        .flat_map(|c| std::iter::once(c.kept.0).chain(c.duplicates.iter().map(|d| d.doc.0)))
        .collect();
    clustered.sort_unstable();
    // The largest clusters' members, whose texts the report shows.
    let largest = largest_clusters(outcome);
    let mut shown: Vec<u32> = largest
        .iter()
        .flat_map(|c| std::iter::once(c.kept.0).chain(c.duplicates.iter().take(REPORT_COPIES).map(|d| d.doc.0)))
        .collect();
    shown.sort_unstable();
    let mut texts = std::collections::HashMap::new();
    let ids = match (deduped, &pass.ids) {
        // Only the lists: the ids were logged while signing, and the
        // corpus is not read again (unless fields are to be shown).
        (None, Some(log)) if opts.show_fields.is_empty() => {
            log.ids_of(&clustered).map_err(|e| Error::io(outputs.dir(), e))?
        }
        _ => {
            let mut ids = Vec::with_capacity(clustered.len());
            copy_kept_and_collect_ids(job, outputs, deduped, &clustered, &mut ids, &shown, &mut texts)?;
            ids
        }
    };
    write_lists(job, outputs, &clustered, &ids)?;
    write_report(job, outputs, &clustered, &ids, &largest, &texts)?;
    outputs.sync()?;
    Ok(started.elapsed())
}

/// The pass that copies the kept records to `deduped` (when it is asked
/// for) and collects the ids of the `clustered` documents on the way.
///
/// A kept record is copied byte for byte, unless cuts were handed over
/// (`doppel run`): it is then written with its text cleaned, as `doppel
/// clean` writes it. Workers make the lines, a chunk of records each, and
/// a thread of its own writes them, a batch behind.
fn copy_kept_and_collect_ids(
    job: &Finished<'_>,
    outputs: &mut OutputSet,
    deduped: Option<usize>,
    clustered: &[u32],
    ids: &mut Vec<String>,
    shown: &[u32],
    texts: &mut std::collections::HashMap<u32, String>,
) -> Result<()> {
    let Finished { corpus, opts, pass, outcome, progress, upstream } = *job;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "writing");
    let dir = outputs.dir().to_path_buf();
    let mut walk = DocWalk::new(corpus, pass, upstream);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let out = deduped.map(|d| outputs.file(d));
    // Each clustered document's cluster, the line of `clusters.jsonl`.
    let cluster_of: std::collections::HashMap<u32, usize> = match opts.annotate {
        true => outcome
            .clusters
            .iter()
            .enumerate()
            .flat_map(|(n, c)| std::iter::once((c.kept.0, n)).chain(c.duplicates.iter().map(move |d| (d.doc.0, n))))
            .collect(),
        false => Default::default(),
    };
    for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            let assigned = walk.assign(&batch)?;
            // Records of the report's clusters: their texts, cleaned as the
            // run cleaned them once the batch's cuts are read.
            let mut shown_here = Vec::new();
            for (i, (rec, doc)) in batch.records.iter().zip(&assigned).enumerate() {
                if doc.is_some() && clustered.get(ids.len()) == doc.as_ref() {
                    let source = &corpus.sources[rec.source as usize];
                    let bytes = batch.bytes(rec);
                    let mut id = own_id(source, bytes, &opts.fields).unwrap_or_else(|| fallback_id(source, rec.line));
                    if !opts.show_fields.is_empty() {
                        push_shown_fields(&mut id, bytes, &opts.show_fields);
                    }
                    ids.push(id);
                    if let Some(d) = doc.filter(|d| shown.binary_search(d).is_ok()) {
                        shown_here.push((i, d));
                    }
                }
            }
            bar.set_position(counter.load(Ordering::Relaxed));
            let shown_text = |i: usize, cuts: Option<&RecordCuts<'_>>| -> Option<String> {
                let rec = &batch.records[i];
                let text =
                    record_text(&corpus.sources[rec.source as usize].kind, batch.bytes(rec), &opts.fields).ok()?;
                let text = match cuts {
                    Some(cuts) => cuts.apply(i, text).ok()?,
                    None => text,
                };
                Some(text.chars().take(4000).collect())
            };
            if deduped.is_none() {
                texts.extend(shown_here.iter().filter_map(|&(i, d)| Some((d, shown_text(i, None)?))));
                return Ok(Vec::new());
            }
            let cuts = read_cuts(&mut cut_walk, assigned.iter().map(Option::is_some), corpus, &dir)?;
            texts.extend(shown_here.iter().filter_map(|&(i, d)| Some((d, shown_text(i, Some(&cuts))?))));
            let per_chunk = records_per_chunk(batch.records.len(), KEPT_RECORDS_PER_CHUNK);
            let lines: Vec<Result<Vec<u8>>> = batch
                .records
                .par_chunks(per_chunk)
                .zip(assigned.par_chunks(per_chunk))
                .enumerate()
                .map(|(chunk, (recs, docs))| {
                    let mut lines = Vec::new();
                    for (j, (rec, doc)) in recs.iter().zip(docs).enumerate() {
                        let Some(doc) = *doc else { continue };
                        let duplicate = outcome.is_duplicate(DocIndex(doc));
                        if (duplicate && !opts.annotate) || (opts.drop_empty && pass.signatures.shingles(doc) == 0) {
                            continue;
                        }
                        let i = chunk * per_chunk + j;
                        let source = &corpus.sources[rec.source as usize];
                        push_kept_line(&mut lines, source, batch.bytes(rec), &opts.fields, &cuts, i)
                            .map_err(|e| changed(corpus, rec.source, &format!("line {}: {e}", rec.line)))?;
                        if opts.annotate {
                            annotate_line(&mut lines, cluster_of.get(&doc).copied(), !duplicate);
                        }
                    }
                    Ok(lines)
                })
                .collect();
            // The first failure in input order, whichever worker met it first.
            lines.into_iter().collect()
        },
        |batches| {
            // Drained even when nothing is written, or the reader would
            // find the channel closed.
            let mut out = out;
            for lines in batches {
                if let Some(out) = out.as_mut() {
                    for line in lines {
                        out.write_all(&line)?;
                    }
                }
            }
            Ok(())
        },
    )?;
    walk.finish()?;
    if let Some(walk) = cut_walk.as_mut() {
        walk.finish(corpus, &dir)?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Records of a batch whose kept lines one worker makes, at most (see
/// [`records_per_chunk`]): a batch of news (about a thousand records)
/// splits into a few dozen pieces of work, enough to share between
/// workers, few enough that each line buffer is large.
const KEPT_RECORDS_PER_CHUNK: usize = 64;

/// Appends kept record `i`'s line to `out`: the record as it is, or, when
/// cuts were handed over, with its text cleaned as `doppel clean` writes it.
/// A `.txt` document becomes `{"id": PATH, "text": TEXT}`.
fn push_kept_line(
    out: &mut Vec<u8>,
    source: &crate::input::Source,
    bytes: &[u8],
    fields: &FieldNames,
    cuts: &RecordCuts<'_>,
    i: usize,
) -> std::result::Result<(), String> {
    match &source.kind {
        SourceKind::Jsonl if cuts.batch.is_none() => out.extend_from_slice(bytes),
        SourceKind::Jsonl => {
            let f = parse_record(bytes, fields)?;
            let text = cuts.apply(i, f.text)?;
            push_record_with_text(out, &source.kind, bytes, Some(f.text_span), &text)?;
        }
        SourceKind::Text { .. } => {
            let text = std::str::from_utf8(bytes).map_err(|_| "text is no longer valid UTF-8".to_string())?;
            let text = cuts.apply(i, std::borrow::Cow::Borrowed(text))?;
            push_record_with_text(out, &source.kind, bytes, None, &text)?;
        }
    }
    out.push(b'\n');
    Ok(())
}

/// Turns the line just written to `out` (a JSON object and a newline) into
/// the same object with `"doppel_cluster"` and `"doppel_kept"` last.
fn annotate_line(out: &mut Vec<u8>, cluster: Option<usize>, kept: bool) {
    out.pop();
    while out.last().is_some_and(u8::is_ascii_whitespace) {
        out.pop();
    }
    match out.pop() {
        Some(b'}') => {}
        // Not an object (every record doppel reads is one): left as it was.
        other => {
            out.extend(other);
            out.push(b'\n');
            return;
        }
    }
    let empty = out.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !empty {
        out.push(b',');
    }
    match cluster {
        Some(n) => out.extend_from_slice(format!("\"doppel_cluster\":{n}").as_bytes()),
        None => out.extend_from_slice(b"\"doppel_cluster\":null"),
    }
    out.extend_from_slice(if kept { b",\"doppel_kept\":true}\n" } else { b",\"doppel_kept\":false}\n" });
}

/// Appends a record (`bytes`, of a source of `kind`) with its text replaced
/// by `text`: a JSONL record keeps every other byte, its text value
/// (`text_span`) escaped anew; a text file's becomes `{"id": PATH, "text":
/// TEXT}`. No newline.
pub(crate) fn push_record_with_text(
    out: &mut Vec<u8>,
    kind: &SourceKind,
    bytes: &[u8],
    text_span: Option<(usize, usize)>,
    text: &str,
) -> std::result::Result<(), String> {
    match (kind, text_span) {
        (SourceKind::Jsonl, Some((start, end))) => {
            out.extend_from_slice(&bytes[..start]);
            push_json_string(out, text);
            out.extend_from_slice(&bytes[end..]);
        }
        (SourceKind::Text { id }, _) => {
            let start = out.len();
            if let Err(e) = serde_json::to_writer(&mut *out, &TextRecord { id, text }) {
                out.truncate(start);
                return Err(e.to_string());
            }
        }
        (SourceKind::Jsonl, None) => return Err("internal: JSONL record without a text span".into()),
    }
    Ok(())
}

/// Appends to `id` (a raw JSON id) the record's `fields` as `,"fields":
/// {...}`, each its raw JSON value or `null`: read only for clustered
/// records, so a full parse costs little.
fn push_shown_fields(id: &mut String, bytes: &[u8], fields: &[String]) {
    let record: std::collections::HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(bytes).unwrap_or_default();
    id.push_str(",\"fields\":{");
    for (i, name) in fields.iter().enumerate() {
        if i > 0 {
            id.push(',');
        }
        id.push_str(&crate::input::json_string(name));
        id.push(':');
        id.push_str(record.get(name).map_or("null", |v| v.get()));
    }
    id.push('}');
}

/// Why a cluster's kept document was kept: the keep rule; or under
/// `--containment`, where the documents that hold others come first,
/// `contains` when a member went by containment alone and `largest`
/// otherwise; `priority` when the `--keep-priority` list ranked a copy
/// below it; or `first_without_date` when no member had a date.
fn kept_because(c: &super::engine::Cluster, config: &DedupConfig, sigs: &Signatures) -> &'static str {
    if config.containment.is_some() {
        let by_containment = c.duplicates.iter().any(|d| removed_by(d, config) == "containment");
        return if by_containment { "contains" } else { "largest" };
    }
    // The priority list decided when a copy ranked lower than the kept one.
    if c.duplicates.iter().any(|d| sigs.rank(d.doc.0) > sigs.rank(c.kept.0)) {
        return "priority";
    }
    match config.keep {
        KeepRule::First => "first",
        KeepRule::Longest => "longest",
        KeepRule::Earliest | KeepRule::Latest if sigs.date(c.kept.0).is_none() => "first_without_date",
        KeepRule::Earliest => "earliest",
        KeepRule::Latest => "latest",
    }
}

/// Copies the report shows of each of its clusters, beside the kept
/// document: a cluster of thousands would be a page no one reads.
const REPORT_COPIES: usize = 8;

/// Clusters the report shows: the five largest, the earlier first among
/// equals.
fn largest_clusters(outcome: &DedupOutcome) -> Vec<&super::engine::Cluster> {
    let mut by_size: Vec<&super::engine::Cluster> = outcome.clusters.iter().collect();
    by_size.sort_by_key(|c| (std::cmp::Reverse(c.duplicates.len()), c.kept));
    by_size.truncate(5);
    by_size
}

/// `report.html` (see [`crate::report`]).
fn write_report(
    job: &Finished<'_>,
    outputs: &mut OutputSet,
    clustered: &[u32],
    ids: &[String],
    largest: &[&super::engine::Cluster],
    texts: &std::collections::HashMap<u32, String>,
) -> Result<()> {
    let Finished { opts, pass, outcome, upstream, .. } = *job;
    // An id as collected may carry its shown fields after it (a JSON
    // string or number holds no unescaped `,"fields":{`).
    let id_of = |d: DocIndex| {
        let id = clustered.binary_search(&d.0).map_or("", |i| ids[i].as_str());
        id.split(",\"fields\":{").next().unwrap_or(id).to_string()
    };
    let duplicates: usize = outcome.clusters.iter().map(|c| c.duplicates.len()).sum();
    let rejected = upstream.rejected.len() + pass.rejected.len() + pass.dropped.len();
    let documents = pass.signatures.len() + upstream.rejected.len() + pass.rejected.len();
    let counts = [
        ("documents", documents),
        ("kept", documents - duplicates - rejected),
        ("duplicates", duplicates),
        ("rejected", rejected),
        ("clusters", outcome.clusters.len()),
        ("candidate pairs", outcome.candidate_pairs as usize),
        ("confirmed pairs", outcome.confirmed_pairs as usize),
    ];
    let not_read = "(text not read: the lists alone were written)".to_string();
    let data = crate::report::ReportData {
        command: if upstream.cuts.is_some() { "run".into() } else { "dedup".into() },
        counts: counts.iter().map(|(k, v)| ((*k).to_string(), v.to_string())).collect(),
        similarities: outcome.clusters.iter().flat_map(|c| c.duplicates.iter().map(|d| d.jaccard)).collect(),
        threshold: opts.dedup.jaccard_threshold,
        cluster_sizes: outcome.clusters.iter().map(|c| c.duplicates.len() + 1).collect(),
        largest: largest
            .iter()
            .map(|c| crate::report::ShownCluster {
                size: c.duplicates.len() + 1,
                kept_because: kept_because(c, &opts.dedup, &pass.signatures).into(),
                members: std::iter::once((c.kept, 1.0))
                    .chain(c.duplicates.iter().take(REPORT_COPIES).map(|d| (d.doc, d.jaccard)))
                    .map(|(d, j)| (id_of(d), j, texts.get(&d.0).cloned().unwrap_or_else(|| not_read.clone())))
                    .collect(),
            })
            .collect(),
        cuts_per_rule: upstream.cuts_per_rule.clone(),
        cuts_per_site: upstream.cuts_per_site.clone(),
    };
    let report = outputs.create("report.html")?;
    outputs.file(report).write_all(crate::report::render(&data).as_bytes())
}

/// What removed a duplicate for its kept document: its Jaccard, its
/// containment in the kept one, or (union clusters) a chain of matches.
fn removed_by(d: &super::engine::Duplicate, config: &DedupConfig) -> &'static str {
    if d.jaccard >= config.jaccard_threshold {
        "jaccard"
    } else if config.containment.is_some_and(|c| d.containment >= c) {
        "containment"
    } else {
        "chain"
    }
}

/// `clusters.jsonl` and `rejected.jsonl`, given the ids of the clustered
/// documents (each with its shown fields, if any).
///
/// A line: `{"kept": ID, "kept_because": RULE, "duplicates": [{"id": ID,
/// "jaccard": J, "removed_by": "jaccard"|"containment"|"chain"}, ...]}`, with
/// `"containment"` beside `"jaccard"` under `--containment` and
/// `"fields"` after each id under `--show-field`.
fn write_lists(job: &Finished<'_>, outputs: &mut OutputSet, clustered: &[u32], ids: &[String]) -> Result<()> {
    let Finished { opts, pass, outcome, upstream, .. } = *job;
    let clusters = outputs.create("clusters.jsonl")?;
    let id_of = |d: DocIndex| -> &str {
        // Every clustered document had its id collected above.
        let i = clustered.binary_search(&d.0).unwrap_or(0);
        &ids[i]
    };
    let with_containment = opts.dedup.containment.is_some();
    let mut line = String::new();
    for c in &outcome.clusters {
        use std::fmt::Write as _;
        line.clear();
        line.push_str("{\"kept\":");
        line.push_str(id_of(c.kept));
        let _ = write!(line, ",\"kept_because\":\"{}\"", kept_because(c, &opts.dedup, &pass.signatures));
        line.push_str(",\"duplicates\":[");
        for (i, d) in c.duplicates.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{{\"id\":{},\"jaccard\":{}", id_of(d.doc), format_similarity(d.jaccard));
            if with_containment {
                let _ = write!(line, ",\"containment\":{}", format_similarity(d.containment));
            }
            let _ = write!(line, ",\"removed_by\":\"{}\"", removed_by(d, &opts.dedup));
            line.push('}');
        }
        line.push_str("]}\n");
        outputs.file(clusters).write_all(line.as_bytes())?;
    }

    let rejected = outputs.create("rejected.jsonl")?;
    for r in upstream.rejected.iter().chain(&pass.rejected).chain(&pass.dropped) {
        outputs.file(rejected).write_json_line(r)?;
    }
    Ok(())
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
    s.strip_suffix('.').map_or_else(|| s.to_string(), |t| format!("{t}.0"))
}

fn changed(corpus: &Corpus, source: u32, comment: &str) -> Error {
    Error::InputChanged { file: corpus.sources[source as usize].name.clone(), comment: comment.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::BATCH_BYTES;

    /// A corpus of about five batches, one record a line.
    fn corpus_of_batches(dir: &Path) -> (Corpus, usize) {
        let line = format!("{{\"text\": \"{}\"}}\n", "word ".repeat(200));
        let lines = 5 * BATCH_BYTES / line.len() + 1;
        let path = dir.join("in.jsonl");
        std::fs::write(&path, line.repeat(lines)).unwrap();
        (Corpus::open(&[Input::Path(path)], dir).unwrap(), lines)
    }

    #[test]
    fn the_set_log_is_kept_only_where_it_and_the_outputs_fit() {
        let gb = 1u64 << 30;
        let log = estimated_set_log_bytes(gb, Shingling::Words(5));
        assert!(log > gb / 2 && log < gb, "{log}");
        assert_eq!(estimated_set_log_bytes(gb, Shingling::Chars(5)), 4 * gb);
        assert!(set_log_fits(2 * gb, log, gb));
        assert!(!set_log_fits(gb + gb / 2, log, gb));
        assert!(set_log_fits(gb, log, 0));
        assert!(!set_log_fits(u64::MAX - 1, u64::MAX, 1));
    }

    #[test]
    fn compressed_inputs_count_as_their_text() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, "{\"text\": \"one two three\"}\n".repeat(100)).unwrap();
        let gz = dir.path().join("b.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &std::fs::read(&plain).unwrap()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let corpus = Corpus::open(&[Input::Path(plain.clone()), Input::Path(gz.clone())], dir.path()).unwrap();
        let (plain_size, gz_size) = (std::fs::metadata(&plain).unwrap().len(), std::fs::metadata(&gz).unwrap().len());
        assert_eq!(corpus.estimated_decoded_bytes(), plain_size + 4 * gz_size);
    }

    #[test]
    fn the_consumer_gets_every_batch_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (corpus, lines) = corpus_of_batches(dir.path());
        let counter = Arc::new(AtomicU64::new(0));
        let firsts = for_each_batch_into(
            &corpus,
            &counter,
            |batch| Ok((batch.records[0].line, batch.records.len())),
            |rx| Ok(rx.into_iter().collect::<Vec<_>>()),
        )
        .unwrap();
        assert!(firsts.len() >= 5);
        let mut next_line = 1;
        for (first, n) in firsts {
            assert_eq!(first, next_line);
            next_line += n as u64;
        }
        assert_eq!(next_line, lines as u64 + 1);
    }

    #[test]
    fn a_full_disk_gives_the_set_log_up_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let logging = std::sync::atomic::AtomicBool::new(true);
        // Runs of documents' sets, back to back, with their counts.
        let batches = || vec![vec![(vec![1u32, 2, 3, 4], 2)], vec![(vec![5, 6], 1)], vec![(vec![7], 1)]];
        // Room for everything: the log holds every document.
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        assert_eq!(log.map(|l| l.documents()), Some(4));
        assert!(warning.is_none() && logging.load(Ordering::Relaxed));
        // Room for the first batch only: the log goes, the workers are told,
        // the warning names the directory, and the run goes on.
        crate::spill::tests::set_disk_room(4 * 4);
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        crate::spill::tests::set_disk_room(u64::MAX);
        assert!(log.is_none());
        assert!(!logging.load(Ordering::Relaxed));
        let warning = warning.unwrap();
        assert!(warning.contains("filled up") && warning.contains(&dir.path().display().to_string()), "{warning}");
        // Nothing is left on disk.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Room for every append, but not for the buffered tail: the same.
        logging.store(true, Ordering::Relaxed);
        crate::spill::tests::fail_next_flush();
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        assert!(log.is_none() && warning.is_some() && !logging.load(Ordering::Relaxed));
    }

    #[test]
    fn a_consumer_error_wins_over_the_stopped_producer() {
        let dir = tempfile::tempdir().unwrap();
        let (corpus, _) = corpus_of_batches(dir.path());
        let counter = Arc::new(AtomicU64::new(0));
        // The consumer fails on the first batch while the producer has more
        // to send: the producer's send fails, and the consumer's error is
        // the one reported.
        let err = for_each_batch_into(
            &corpus,
            &counter,
            |batch| Ok(batch.records.len()),
            |rx| -> Result<()> {
                let _ = rx.recv();
                Err(Error::BadRecord { file: "in.jsonl".into(), line: 1, reason: "bad".into() })
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "in.jsonl:1: bad");
        // And a producer error is reported when the consumer is fine.
        let err = for_each_batch_into(
            &corpus,
            &counter,
            |_| -> Result<()> { Err(Error::config("produce")) },
            |rx| Ok(rx.into_iter().count()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("produce"), "{err}");
    }
}
