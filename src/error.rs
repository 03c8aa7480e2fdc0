//! The library's one error type.
//!
//! Every variant carries what a user needs to act on it: the file, the line,
//! the field, what was expected. The binary prints the chain with `{:#}` and
//! maps every error to exit code 2.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in doppel's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option or combination of options is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// An input record could not be used (bad JSON, missing field, bad UTF-8...).
    #[error("{file}:{line}: {reason}")]
    BadRecord {
        /// The input file, as the user named it (`-` for stdin).
        file: String,
        /// 1-based line number of the record.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },

    /// Reading an input failed (unreadable file, truncated or corrupt compressed stream).
    #[error("{file}:{line}: cannot read input: {source}")]
    Read {
        /// The input file, as the user named it.
        file: String,
        /// The line being read when the failure happened (1-based).
        line: u64,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Another run holds the output directory.
    #[error("--out {}: in use by another doppel run{holder}: wait for it to finish or give another --out", dir.display())]
    OutputBusy {
        /// The output directory.
        dir: PathBuf,
        /// Who holds it, as its lock file says (` (pid N, ...)`), or empty.
        holder: String,
    },

    /// An input named on the command line cannot be opened.
    #[error("input {}: {source}", path.display())]
    Input {
        /// The input as named.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An I/O operation on a path failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A file that doppel itself wrote (a rules file, a saved table) is damaged or invalid.
    #[error("{}: {comment}", path.display())]
    DataCorruption {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        comment: String,
    },

    /// An input changed between two passes over it.
    #[error("{file}: input changed while doppel was reading it ({comment})")]
    InputChanged {
        /// The input file.
        file: String,
        /// What differed.
        comment: String,
    },

    /// One of doppel's own invariants failed: a bug, never the input's or
    /// the user's doing.
    #[error("internal error (a bug in doppel; please report it): {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn config(msg: impl Into<String>) -> Error {
        Error::Config(msg.into())
    }

    pub(crate) fn internal(msg: impl Into<String>) -> Error {
        Error::Internal(msg.into())
    }
}
