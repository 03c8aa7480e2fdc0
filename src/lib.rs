//! doppel finds near-duplicate and boilerplate text in large corpora.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`input`]: JSONL (plain, gzip, zstd), directories of text files, stdin;
//! 2. [`shingle`]: Unicode normalisation and word or character n-grams;
//! 3. [`minhash`]: one-permutation MinHash signatures;
//! 4. [`lsh`]: banding signatures into candidate pairs;
//! 5. [`verify`]: exact Jaccard and containment of candidate pairs;
//! 6. [`cluster`]: union-find and stars over confirmed pairs, and the kept document;
//! 7. [`output`]: atomic writers;
//! 8. [`pipeline`]: wires the stages, in parallel, with progress.
//!
//! The main entry points are [`Deduplicator`] for texts in memory and
//! [`dedup_files`] for files on disk.

pub mod clean;
pub mod cluster;
pub mod config;
pub mod dates;
mod error;
pub mod eval;
pub mod failpoint;
mod frames;
#[doc(hidden)]
pub mod fuzz;
pub mod input;
pub mod lsh;
pub mod minhash;
pub mod output;
pub mod pipeline;
mod progress;
pub mod report;
pub mod shingle;
mod spill;
pub mod synth;
pub mod verify;

pub use cluster::{ClusterMode, DocIndex};
pub use config::{DedupConfig, KeepRule};
pub use error::{Error, Result};
pub use input::{FieldNames, Input};
pub use minhash::{MinHasher, estimate_jaccard};
pub use pipeline::{Cluster, DedupOutcome, DedupSummary, Deduplicator, Duplicate, ExactSets, JobOptions, dedup_files};
pub use shingle::{Shingling, normalize_into};
pub use verify::Verify;
