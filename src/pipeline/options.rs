//! The options and the summary of a deduplication job: what a caller asks
//! of `doppel dedup` (and of dedup inside `run` and `eval`), and the figures
//! it answers with (`stats.json`).

use serde::Serialize;

use crate::cluster::ClusterMode;
use crate::config::{DedupConfig, KeepRule};
use crate::input::FieldNames;
use crate::shingle::Shingling;
use crate::verify::Verify;
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
    pub(super) fn of(c: &DedupConfig) -> Parameters {
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
