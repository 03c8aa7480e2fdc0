//! The pipeline: wires the stages together, and is the only place that knows
//! about threads and progress bars.
//!
//! - [`Deduplicator`] is the in-memory engine: feed texts, get clusters.
//! - [`dedup_files`] is the `doppel dedup` job: it streams inputs from disk
//!   in two passes (sign, then write the kept records byte for byte), so
//!   memory holds signatures, never texts.
//!
//! Parallel work uses rayon's current thread pool; the binary, not the
//! library, decides its size. Every result is ordered by document index, so
//! outputs are identical whatever the number of threads.

mod bands;
mod batches;
mod clean_job;
mod cleaning;
mod cuts;
mod engine;
mod files;
mod floor;
mod options;
mod run_job;
mod sign;
mod train;
mod truth;
mod walk;
mod write;

pub use clean_job::{DocumentExplanation, clean_files, explain_document};
pub use cleaning::{CleanOptions, CleanSeconds, CleanSummary, RuleStats, SiteStats};
pub use engine::{Cluster, DedupOutcome, Deduplicator, Duplicate, Signatures};
pub use files::dedup_files;
pub use floor::{FloorSummary, floor};
pub use options::{DedupSummary, ExactSets, JobOptions, KeepPriority, Parameters, StageSeconds};
pub use run_job::{RunSummary, run_files};

pub use train::train_cleaner;
pub use truth::{EvalOptions, EvalReport, LabelScores, TruthPair, containment_pairs, eval_files, exact_pairs};
