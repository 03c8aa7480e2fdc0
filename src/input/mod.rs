//! Input readers: from paths and stdin to raw records in input order.
//!
//! An input is a JSONL file (plain, gzip or zstd, told apart by magic bytes,
//! not by extension), a directory, or `-` for stdin. A directory is walked
//! recursively in sorted order: every `*.txt` file is one document whose id is
//! its path relative to the directory, every `*.jsonl*` file is read as
//! JSONL, other files are passed over. Several inputs form one corpus, in the
//! order given.
//!
//! doppel reads its input more than once (to sign, then to write the kept
//! records byte for byte), so stdin is first copied to a spool file beside
//! the outputs and removed when the run ends.
//!
//! Records are read sequentially into batches of about
//! [`BATCH_BYTES`], which the pipeline parses and signs in parallel. Blank
//! lines in JSONL are not records.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

mod batches;
mod json;
mod record;

pub use batches::{BATCH_BYTES, DEFAULT_MAX_RECORD_BYTES};
pub(crate) use batches::{Batch, BatchReader, RawRecord, ReadFailure, marked_reason, open_decoded};
pub(crate) use json::{json_string, json_string_value, push_json_string};
pub use record::FieldNames;
pub(crate) use record::{fallback_id, own_id, parse_record};

/// One input as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or directory.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// Parses a command-line argument: `-` is stdin, anything else a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }
}

/// What a source holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// One JSON record per line.
    Jsonl,
    /// One document, the whole file; the id is the relative path.
    Text { id: String },
}

/// One file to read, after directories are walked.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Name used in messages and in `FILE:LINE` ids.
    pub name: String,
    /// Where the bytes are (stdin's spool file for `-`).
    pub path: PathBuf,
    pub kind: SourceKind,
    /// Size on disk, for progress.
    pub size: u64,
    /// The file as it was when the run opened it (`None` for an unreadable
    /// one): every later pass checks that it has not changed since.
    pub stamp: Option<FileStamp>,
}

/// What tells a file rewritten in place from itself: its size, its
/// modification and change times (a write moves the change time, which no
/// user can set back) and its inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    changed: (i64, i64),
    inode: (u64, u64),
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (changed, inode) = {
            use std::os::unix::fs::MetadataExt;
            ((meta.ctime(), meta.ctime_nsec()), (meta.dev(), meta.ino()))
        };
        #[cfg(not(unix))]
        let (changed, inode) = ((0, 0), (0, 0));
        Some(FileStamp { len: meta.len(), modified: meta.modified().ok(), changed, inode })
    }
}

/// The error a pass reads as when a file changed after the run opened it:
/// its records would not be the ones the run counted. Never rejected and
/// passed over, even under `--skip-bad`: the run stops.
#[derive(Debug)]
pub(crate) struct InputChanged;

impl std::fmt::Display for InputChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the file changed while doppel read it (its size, times or inode differ from when the run began); run again once it is written")
    }
}

impl std::error::Error for InputChanged {}

/// Whether `e` says an input changed during the run.
pub(crate) fn is_input_changed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<InputChanged>())
}

/// Fails when the file of `source` is not as the run found it.
fn check_unchanged(source: &Source) -> io::Result<()> {
    match source.stamp {
        Some(stamp) if FileStamp::of(&source.path) != Some(stamp) => Err(io::Error::other(InputChanged)),
        _ => Ok(()),
    }
}

/// The resolved list of sources of one run.
#[derive(Debug)]
pub struct Corpus {
    pub(crate) sources: Vec<Source>,
    /// Records longer than this many bytes are rejected, read past
    /// without being held (see [`DEFAULT_MAX_RECORD_BYTES`]).
    pub(crate) max_record_bytes: u64,
    // Holds the spool files of stdin and of pipes; deleted on drop.
    _spools: Vec<tempfile::TempPath>,
}

impl Corpus {
    /// Resolves inputs into sources. Stdin and any other input that cannot
    /// be read twice (a pipe, as `<(cat f.jsonl)` names one) is copied to a
    /// spool file in `spool_dir` that lives as long as the returned value.
    pub fn open(inputs: &[Input], spool_dir: &Path) -> Result<Corpus> {
        Corpus::open_excluding(inputs, spool_dir, None)
    }

    /// [`Corpus::open`] for a run writing into `out_dir`, which is never
    /// read as input: naming it is an error, and a directory walk passes
    /// over it (and over any other output directory of doppel's, marked by
    /// its lock file).
    pub fn open_excluding(inputs: &[Input], spool_dir: &Path, out_dir: Option<&Path>) -> Result<Corpus> {
        if inputs.is_empty() {
            return Err(Error::config("no input given"));
        }
        let out_dir = out_dir.and_then(|d| d.canonicalize().ok());
        let mut sources = Vec::new();
        let mut spools = Vec::new();
        let mut stdin_seen = false;
        for input in inputs {
            match input {
                Input::Stdin => {
                    if std::mem::replace(&mut stdin_seen, true) {
                        return Err(Error::config("stdin (-) can be named only once"));
                    }
                    let (path, size) = spool(&mut io::stdin().lock(), "-", spool_dir)?;
                    sources.push(Source {
                        name: "-".into(),
                        stamp: FileStamp::of(&path),
                        path: path.to_path_buf(),
                        kind: SourceKind::Jsonl,
                        size,
                    });
                    spools.push(path);
                }
                Input::Path(path) => {
                    let meta = std::fs::metadata(path).map_err(|e| Error::Input { path: path.clone(), source: e })?;
                    if out_dir.is_some() && path.canonicalize().ok() == out_dir {
                        return Err(Error::config(format!(
                            "input {} is the output directory: give another --out",
                            path.display()
                        )));
                    }
                    let name = path.display().to_string();
                    if meta.is_dir() {
                        walk_dir(path, &mut sources)?;
                    } else if !meta.is_file() {
                        // A pipe or a device: read once, into a spool.
                        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
                        let (spooled, size) = spool(&mut file, &name, spool_dir)?;
                        sources.push(Source {
                            name,
                            stamp: FileStamp::of(&spooled),
                            path: spooled.to_path_buf(),
                            kind: SourceKind::Jsonl,
                            size,
                        });
                        spools.push(spooled);
                    } else {
                        let kind = if path.extension().is_some_and(|e| e == "txt") {
                            SourceKind::Text { id: file_name(path) }
                        } else {
                            SourceKind::Jsonl
                        };
                        sources.push(Source {
                            name,
                            stamp: FileStamp::of(path),
                            path: path.clone(),
                            kind,
                            size: meta.len(),
                        });
                    }
                }
            }
        }
        Ok(Corpus { sources, max_record_bytes: DEFAULT_MAX_RECORD_BYTES, _spools: spools })
    }

    /// Rejects records over `bytes` bytes (a JSON line, or a whole text
    /// file), instead of [`DEFAULT_MAX_RECORD_BYTES`].
    pub fn with_max_record_bytes(mut self, bytes: u64) -> Corpus {
        self.max_record_bytes = bytes.max(1);
        self
    }

    /// Takes each file's stamp again (see [`FileStamp`]): after the run
    /// itself linked an input into its new output directory, which moves
    /// the file's change time.
    pub(crate) fn restamp(&mut self) {
        for source in &mut self.sources {
            if source.stamp.is_some() {
                source.stamp = FileStamp::of(&source.path);
            }
        }
    }

    /// The paths of the files read (spools for stdin and pipes).
    pub fn source_paths(&self) -> Vec<PathBuf> {
        self.sources.iter().map(|s| s.path.clone()).collect()
    }

    /// Total bytes on disk of all sources.
    pub fn total_bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.size).sum()
    }

    /// Roughly how many bytes reading the corpus yields: a compressed file
    /// counts four times its size (news JSONL compresses 3-5x), told by its
    /// first bytes as the reader tells it. A file that cannot be opened
    /// counts its size; reading it will report the error.
    pub(crate) fn estimated_decoded_bytes(&self) -> u64 {
        use std::io::Read;
        self.sources
            .iter()
            .map(|s| {
                let mut head = [0u8; 4];
                let n = File::open(&s.path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
                let compressed = crate::frames::format_of(&head[..n]).is_some();
                if compressed { s.size.saturating_mul(4) } else { s.size }
            })
            .sum()
    }

    /// Number of files that will be read.
    pub fn num_sources(&self) -> usize {
        self.sources.len()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Copies `reader` (an input named `name` that cannot be read twice) to a
/// spool file in `spool_dir`; returns it and its size. A failure to write
/// names the spool's directory, a failure to read names the input.
fn spool(reader: &mut dyn Read, name: &str, spool_dir: &Path) -> Result<(tempfile::TempPath, u64)> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".doppel-stdin-")
        .tempfile_in(spool_dir)
        .map_err(|e| Error::io(spool_dir, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Read { file: name.into(), line: 0, source: e }),
        };
        crate::failpoint::io("spool_write").and_then(|()| tmp.as_file_mut().write_all(&buf[..n])).map_err(|e| {
            Error::io(spool_dir, io::Error::new(e.kind(), format!("cannot spool input {name} here: {e}")))
        })?;
        size += n as u64;
    }
    crate::failpoint::hit("spool");
    Ok((tmp.into_temp_path(), size))
}

/// Lists the input files under `root`, in path order.
///
/// Passed over: hidden files and directories (doppel's own among them), and any directory below `root`
/// holding doppel's lock file (an output directory, whose lists are not a
/// corpus); in a root that is an output directory, only its corpora
/// (`deduped.jsonl`, `cleaned.jsonl`) are read. A path that cannot be
/// listed or followed (an unreadable directory, a dangling symlink, a
/// symlink loop) becomes a source that fails when it is read: rejected
/// with its reason under `--skip-bad`, an error naming it otherwise.
fn walk_dir(root: &Path, out: &mut Vec<Source>) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut visited = std::collections::HashSet::new();
    while let Some(dir) = stack.pop() {
        if dir != root && dir.join(crate::output::LOCK_FILE).exists() {
            continue;
        }
        // A directory met again through a symlink is walked once.
        if let Ok(real) = dir.canonicalize()
            && !visited.insert(real)
        {
            continue;
        }
        let output_dir = dir == root && dir.join(crate::output::LOCK_FILE).exists();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir == root => return Err(Error::io(&dir, e)),
            Err(_) => {
                files.push(dir);
                continue;
            }
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // Hidden entries are passed over, as most tools pass them: an
            // editor's lock or backup, a tool's state, doppel's own files.
            if name.starts_with('.') || (output_dir && !matches!(name.as_str(), "deduped.jsonl" | "cleaned.jsonl")) {
                continue;
            }
            let ty = entry.file_type().map_err(|e| Error::io(&path, e))?;
            // A symlink is followed; one that leads nowhere is listed, to
            // fail when read.
            let is_dir = ty.is_dir() || (ty.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()));
            if is_dir {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let name = file_name(&path);
        let input_name = name.ends_with(".txt") || name.contains(".jsonl");
        let size = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => meta.len(),
            // A pipe, socket or device in a directory is not an input file.
            Ok(meta) if !meta.is_dir() => continue,
            // A path that leads nowhere, named like no input (an editor's
            // lock file is a dangling symlink): not an input either.
            Err(_) if !input_name => continue,
            // Unreadable: listed, so that it is reported.
            _ => {
                out.push(Source {
                    name: path.display().to_string(),
                    path,
                    kind: SourceKind::Jsonl,
                    size: 0,
                    stamp: None,
                });
                continue;
            }
        };
        let kind = if name.ends_with(".txt") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            // Ids use '/' whatever the platform, so they are stable across machines.
            let id = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            SourceKind::Text { id }
        } else if name.contains(".jsonl") {
            SourceKind::Jsonl
        } else {
            continue;
        };
        out.push(Source { name: path.display().to_string(), stamp: FileStamp::of(&path), path, kind, size });
    }
    Ok(())
}
