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

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{Error, Result};

/// Target size of one batch of raw records.
pub const BATCH_BYTES: usize = 4 << 20;

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

/// Counts raw bytes read from disk, for progress.
struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file and undoes gzip or zstd compression, found by magic bytes
/// (a zstd file may start with a skippable frame). A compressed file is
/// read frame by frame (see [`crate::frames`]): a damaged frame reads as a
/// [`crate::frames::DamagedFrame`] error, and reading goes on after it.
pub(crate) fn open_decoded(path: &Path, counter: Arc<AtomicU64>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut raw = CountingReader { inner: File::open(path)?, counter };
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let raw = io::Cursor::new(head[..n].to_vec()).chain(raw);
    Ok(match crate::frames::format_of(&head[..n]) {
        Some(format) => Box::new(crate::frames::FramedReader::new(raw, format)),
        None => Box::new(BufReader::with_capacity(1 << 20, raw)),
    })
}

/// The default of `--max-record-bytes`: far above any article (a news
/// record is a few kilobytes, a long report a few megabytes), far below
/// what would exhaust a machine's memory when a file has no line breaks.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 << 20;

/// What a record that cannot be read is replaced with in a batch (one over
/// the size limit, or the lines of a damaged compressed frame): a NUL
/// starts no JSON record and no text doppel reads, so no record is taken
/// for it. Followed by the reason.
const REJECT_MARK: &[u8] = b"\0doppel-reject ";

/// Appends the stand-in of a record rejected for `reason`.
fn push_reject(out: &mut Vec<u8>, reason: &str) {
    out.extend_from_slice(REJECT_MARK);
    out.extend_from_slice(reason.as_bytes());
}

/// Appends the stand-in of a record of `len` bytes over `limit`.
fn push_oversize(out: &mut Vec<u8>, len: u64, limit: u64) {
    push_reject(out, &format!("record of {len} bytes is over the limit of {limit} bytes (--max-record-bytes)"));
}

/// Why a raw record is rejected before it is parsed, if it is the
/// stand-in of one.
pub(crate) fn marked_reason(bytes: &[u8]) -> Option<String> {
    Some(String::from_utf8_lossy(bytes.strip_prefix(REJECT_MARK)?).into_owned())
}

/// One raw record inside a [`Batch`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRecord {
    pub source: u32,
    /// 1-based line number (1 for a text file).
    pub line: u64,
    pub start: usize,
    pub end: usize,
}

/// A failure to read a source; the rest of that source is unreadable.
#[derive(Debug)]
pub(crate) struct ReadFailure {
    pub source: u32,
    pub line: u64,
    pub error: io::Error,
}

/// Records read in one go, in input order.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub data: Vec<u8>,
    pub records: Vec<RawRecord>,
    /// A source that failed at the end of this batch, if any.
    pub failure: Option<ReadFailure>,
}

impl Batch {
    pub fn bytes(&self, r: &RawRecord) -> &[u8] {
        &self.data[r.start..r.end]
    }
}

/// Reads all sources in order and hands out batches.
pub(crate) struct BatchReader<'c> {
    corpus: &'c Corpus,
    next_source: usize,
    current: Option<(u32, Box<dyn BufRead + Send>, u64)>,
    counter: Arc<AtomicU64>,
}

impl<'c> BatchReader<'c> {
    pub fn new(corpus: &'c Corpus, counter: Arc<AtomicU64>) -> Self {
        BatchReader { corpus, next_source: 0, current: None, counter }
    }

    /// The next batch, or `None` at the end of the corpus. A batch with a
    /// `failure` ends that source; reading goes on with the next one.
    pub fn next_batch(&mut self) -> Option<Batch> {
        // Room for a full batch and its last record: grown from empty, the
        // buffer was copied at each doubling and faulted in afresh.
        let mut batch = Batch { data: Vec::with_capacity(BATCH_BYTES + (BATCH_BYTES >> 3)), ..Batch::default() };
        while batch.data.len() < BATCH_BYTES {
            if self.current.is_none() {
                let idx = self.next_source;
                let Some(source) = self.corpus.sources.get(idx) else {
                    let empty = batch.records.is_empty() && batch.failure.is_none();
                    return (!empty).then_some(batch);
                };
                self.next_source += 1;
                let idx32 = idx as u32;
                if let Err(error) = check_unchanged(source) {
                    batch.failure = Some(ReadFailure { source: idx32, line: 1, error });
                    return Some(batch);
                }
                match &source.kind {
                    SourceKind::Text { .. } => {
                        let start = batch.data.len();
                        let limit = self.corpus.max_record_bytes;
                        if let Ok(meta) = std::fs::metadata(&source.path)
                            && meta.len() > limit
                        {
                            push_oversize(&mut batch.data, meta.len(), limit);
                            batch.records.push(RawRecord { source: idx32, line: 1, start, end: batch.data.len() });
                            continue;
                        }
                        match File::open(&source.path).and_then(|f| {
                            CountingReader { inner: f, counter: self.counter.clone() }.read_to_end(&mut batch.data)
                        }) {
                            Ok(_) => {
                                batch.records.push(RawRecord { source: idx32, line: 1, start, end: batch.data.len() })
                            }
                            Err(error) => {
                                batch.data.truncate(start);
                                batch.failure = Some(ReadFailure { source: idx32, line: 1, error });
                                return Some(batch);
                            }
                        }
                        continue;
                    }
                    SourceKind::Jsonl => match open_decoded(&source.path, self.counter.clone()) {
                        Ok(r) => self.current = Some((idx32, r, 0)),
                        Err(error) => {
                            batch.failure = Some(ReadFailure { source: idx32, line: 1, error });
                            return Some(batch);
                        }
                    },
                }
            }
            let Some((source, reader, line)) = self.current.as_mut() else {
                continue;
            };
            let start = batch.data.len();
            *line += 1;
            match read_line(reader, &mut batch.data, self.corpus.max_record_bytes) {
                Ok(0) => {
                    let (source, line) = (*source, *line);
                    self.current = None;
                    // What was read is what the run found, or the run stops.
                    if let Err(error) = check_unchanged(&self.corpus.sources[source as usize]) {
                        batch.failure = Some(ReadFailure { source, line, error });
                        return Some(batch);
                    }
                }
                // Over the limit: read past, not held (see `read_line`).
                Ok(read) if batch.data.len() - start < read => {
                    push_oversize(&mut batch.data, read as u64, self.corpus.max_record_bytes);
                    batch.records.push(RawRecord { source: *source, line: *line, start, end: batch.data.len() });
                }
                Ok(_) => {
                    let mut end = batch.data.len();
                    if batch.data[start..end].ends_with(b"\n") {
                        end -= 1;
                        if batch.data[start..end].ends_with(b"\r") {
                            end -= 1;
                        }
                    }
                    let mut rec_start = start;
                    if *line == 1 && batch.data[start..end].starts_with(b"\xEF\xBB\xBF") {
                        rec_start += 3;
                    }
                    if batch.data[rec_start..end].iter().all(u8::is_ascii_whitespace) {
                        batch.data.truncate(start);
                    } else {
                        batch.records.push(RawRecord { source: *source, line: *line, start: rec_start, end });
                    }
                }
                // A damaged compressed frame: its lines are lost, and the
                // line it cut stands for them; reading goes on after it.
                Err(error) if crate::frames::damaged_frame(&error).is_some() => {
                    batch.data.truncate(start);
                    push_reject(&mut batch.data, crate::frames::damaged_frame(&error).unwrap_or_default());
                    batch.records.push(RawRecord { source: *source, line: *line, start, end: batch.data.len() });
                }
                Err(error) => {
                    batch.data.truncate(start);
                    batch.failure = Some(ReadFailure { source: *source, line: *line, error });
                    self.current = None;
                    return Some(batch);
                }
            }
        }
        Some(batch)
    }
}

/// [`BufRead::read_until`] a newline, with the `memchr` crate's vector
/// search: the standard library's own scan, a word at a time, was the
/// reader thread's largest cost, on a core the workers need.
///
/// Returns the bytes read. A line longer than `limit` bytes (its line
/// break not counted) is read to its end but not kept: what is appended
/// to `out` is then shorter than what was read, which is how the caller
/// tells, and memory stays bounded whatever the line's length.
fn read_line(reader: &mut dyn BufRead, out: &mut Vec<u8>, limit: u64) -> io::Result<usize> {
    let start = out.len();
    let mut read = 0;
    let mut kept = true;
    loop {
        let available = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (done, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i + 1),
            None => (available.is_empty(), available.len()),
        };
        let content = used - usize::from(done && used > 0 && available[used - 1] == b'\n');
        if kept && (read + content) as u64 > limit {
            kept = false;
            out.truncate(start);
        }
        if kept {
            out.extend_from_slice(&available[..used]);
        }
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// Which fields of a JSON record hold the text, the id and the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    /// Name of the text field.
    pub text: String,
    /// Name of the id field.
    pub id: String,
    /// Name of the site (domain) field, if sites are used.
    pub site: Option<String>,
    /// Name of the publication date field, if dates are used.
    pub date: Option<String>,
    /// Name of the field `--keep-priority` ranks records by, if any (the
    /// dedup job sets it from its priority list).
    pub priority: Option<String>,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames { text: "text".into(), id: "id".into(), site: None, date: None, priority: None }
    }
}

/// The fields doppel needs from a record, borrowed where possible.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    pub text: Cow<'a, str>,
    /// Byte range of the text value (with its quotes) in the record.
    pub text_span: (usize, usize),
    /// The id as raw JSON (a string or a number), if present and not null.
    pub id: Option<&'a str>,
    /// The site field as raw JSON, if asked for and present.
    pub site: Option<&'a str>,
    /// The date field as raw JSON, if asked for and present.
    pub date: Option<&'a str>,
    /// The priority field as raw JSON, if asked for and present.
    pub priority: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// The site as text: a string's value, or any other value's JSON
    /// (a string that cannot be decoded, holding a lone surrogate, stays
    /// JSON too); borrowed unless the string holds an escape.
    ///
    /// A URL stands for its host, lower case and without `www.`
    /// (`https://www.Example.com/a/b` is `example.com`), so that a field
    /// holding each page's address groups the pages by site.
    pub fn site_text(&self) -> Option<Cow<'a, str>> {
        let raw = self.site?;
        let site = match raw.as_bytes().first() {
            Some(b'"') => json_string_value(raw).unwrap_or(Cow::Borrowed(raw)),
            _ if raw == "null" => return None,
            _ => Cow::Borrowed(raw),
        };
        Some(match url_host(&site) {
            Some(host) => Cow::Owned(host),
            None => site,
        })
    }
}

/// The host of a URL (`scheme://host...` or `//host...`), lower case and
/// without a leading `www.` or a port; `None` for anything else.
pub(crate) fn url_host(value: &str) -> Option<String> {
    let value = value.trim();
    let rest = match value.find("://") {
        Some(at) if at > 0 && value[..at].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) => {
            &value[at + 3..]
        }
        _ => value.strip_prefix("//")?,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(host.strip_prefix("www.").map(str::to_string).unwrap_or(host))
}

/// Parses one JSONL record and extracts the text and id fields; other fields
/// are skipped without being built. The error is a reason for a user.
///
/// A flat object (see [`flat_record_fields`]), which is nearly every news
/// record, is read in one pass; anything else, and every bad record, goes
/// through serde_json, which also words the reason.
pub(crate) fn parse_record<'a>(bytes: &'a [u8], names: &FieldNames) -> std::result::Result<Fields<'a>, String> {
    if let Some(reason) = marked_reason(bytes) {
        return Err(reason);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))?;
    match flat_record_fields(text, names) {
        Some(fields) => Ok(fields),
        None => parse_record_with_serde(text, names),
    }
}

/// [`parse_record`] by serde_json, for any record.
fn parse_record_with_serde<'a>(text: &'a str, names: &FieldNames) -> std::result::Result<Fields<'a>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let values = FieldsSeed { names }.deserialize(&mut de).map_err(|e| format!("malformed JSON record: {e}"))?;
    de.end().map_err(|e| format!("malformed JSON record: {e}"))?;
    let raw_text = values.text.ok_or_else(|| format!("missing text field `{}`", names.text))?;
    let raw = raw_text.get();
    if !raw.starts_with('"') {
        return Err(format!("text field `{}` must be a string, got {}", names.text, json_kind(raw)));
    }
    let value =
        json_string_value(raw).map_err(|e| format!("malformed JSON record: {e} in text field `{}`", names.text))?;
    // The raw value borrows from `text`: its offset there is its span.
    let start = raw.as_ptr() as usize - text.as_ptr() as usize;
    let id = checked_id(values.id.map(RawValue::get))
        .map_err(|raw| format!("id field `{}` must be a string or a number, got {raw}", names.id))?;
    Ok(Fields {
        text: value,
        text_span: (start, start + raw.len()),
        id,
        site: values.site.map(RawValue::get),
        date: values.date.map(RawValue::get),
        priority: values.priority.map(RawValue::get),
    })
}

/// A raw id that is a string or a number; `None` for null; the raw value
/// back as the error for any other.
fn checked_id(id: Option<&str>) -> std::result::Result<Option<&str>, &str> {
    let Some(raw) = id else { return Ok(None) };
    match raw.as_bytes().first().copied().unwrap_or(b'n') {
        b'n' => Ok(None),
        b'"' | b'-' | b'0'..=b'9' => Ok(Some(raw)),
        _ => Err(raw),
    }
}

/// The fields of a record that is one flat JSON object (every value a
/// string, a number, `true`, `false` or `null`) with a string text field,
/// in one pass over it: the text is decoded as its end is looked for, a
/// vector search at a time for the next quote or backslash. `None` for any
/// other record (a nested value, an escape in a key or a `\u` escape outside
/// the text, a missing or non-string text, a bad id) and for anything that
/// is not well-formed JSON, which [`parse_record_with_serde`] then reads or
/// refuses: this path only ever accepts what serde_json accepts, and then
/// gives what it gives.
///
/// serde_json scanned the text to find where its value ends, and the text
/// was then decoded in a second scan: the two were a sixth of every pass
/// over the corpus (learning, cleaning, signing, writing).
fn flat_record_fields<'a>(text: &'a str, names: &FieldNames) -> Option<Fields<'a>> {
    let b = text.as_bytes();
    let mut i = skip_json_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_json_space(b, i + 1);
    let mut value: Option<(Cow<'a, str>, (usize, usize))> = None;
    let (mut id, mut site, mut date, mut priority) = (None, None, None, None);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = i + 1 + memchr::memchr2(b'"', b'\\', &b[i + 1..])?;
        if b[key_end] != b'"' || has_control_byte(&b[i + 1..key_end]) {
            return None;
        }
        let key = &text[i + 1..key_end];
        i = skip_json_space(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_json_space(b, i + 1);
        // The first of each field counts, as in the serde_json path.
        if key == names.text && value.is_none() {
            if b.get(start) != Some(&b'"') {
                return None;
            }
            let (decoded, end) = decode_json_string(text, start).ok()?;
            value = Some((decoded, (start, end)));
            i = end;
        } else {
            i = skip_flat_value(b, start)?;
            let raw = &text[start..i];
            if key == names.id && id.is_none() {
                id = Some(raw);
            } else if names.site.as_deref() == Some(key) && site.is_none() {
                site = Some(raw);
            } else if names.date.as_deref() == Some(key) && date.is_none() {
                date = Some(raw);
            } else if names.priority.as_deref() == Some(key) && priority.is_none() {
                priority = Some(raw);
            }
        }
        i = skip_json_space(b, i);
        match b.get(i) {
            Some(b',') => i = skip_json_space(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_json_space(b, i + 1) != b.len() {
        return None;
    }
    let (text, text_span) = value?;
    let id = checked_id(id).ok()?;
    Some(Fields { text, text_span, id, site, date, priority })
}

/// The index of the first byte at or after `i` that is not JSON white space.
fn skip_json_space(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Whether `run` holds a byte below 0x20, which a JSON string may not.
/// Folded without an early exit, so that it compiles to vector code.
fn has_control_byte(run: &[u8]) -> bool {
    run.iter().fold(false, |any, &c| any | (c < 0x20))
}

/// Inside a string, the next quote or backslash at or after `run`; `None`
/// when there is none or a control byte comes first (not well formed).
fn string_stop(b: &[u8], run: usize) -> Option<usize> {
    let at = run + memchr::memchr2(b'"', b'\\', &b[run..])?;
    (!has_control_byte(&b[run..at])).then_some(at)
}

/// The string token at `start` (a quote): its value, borrowed when it holds
/// no escape, and the index past its closing quote; why not, when it is not
/// well formed.
///
/// serde_json decodes a string a byte and an escape at a time; news text
/// has an escape on every line (`\n`), and decoding it that way was a tenth
/// of the cleaner's time. Here the runs between escapes are found with
/// `memchr` and copied whole. Surrogates must pair, as serde_json requires
/// of a string.
fn decode_json_string(text: &str, start: usize) -> std::result::Result<(Cow<'_, str>, usize), &'static str> {
    let b = text.as_bytes();
    let mut decoded: Option<String> = None;
    let mut run = start + 1;
    loop {
        let at = string_stop(b, run).ok_or("unterminated string or control character in a string")?;
        if b[at] == b'"' {
            let value = match decoded {
                None => Cow::Borrowed(&text[start + 1..at]),
                Some(mut s) => {
                    s.push_str(&text[run..at]);
                    Cow::Owned(s)
                }
            };
            return Ok((value, at + 1));
        }
        // At most the rest of the record: no growing on the way.
        let s = decoded.get_or_insert_with(|| String::with_capacity(b.len() - start));
        s.push_str(&text[run..at]);
        let (c, end) = json_escape(text, at)?;
        s.push(c);
        run = end;
    }
}

/// The end of the flat value at `start`: a string without `\u` escapes, a
/// number, `true`, `false` or `null`. `None` for anything else.
fn skip_flat_value(b: &[u8], start: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > from).then_some(i)
    };
    match *b.get(start)? {
        b'"' => {
            let mut run = start + 1;
            loop {
                let at = string_stop(b, run)?;
                if b[at] == b'"' {
                    return Some(at + 1);
                }
                match b.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => run = at + 2,
                    _ => return None,
                }
            }
        }
        b'-' | b'0'..=b'9' => {
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
            let mut i = start + usize::from(b[start] == b'-');
            i = match b.get(i)? {
                b'0' => i + 1,
                b'1'..=b'9' => digits(i)?,
                _ => return None,
            };
            if b.get(i) == Some(&b'.') {
                i = digits(i + 1)?;
            }
            if let Some(b'e' | b'E') = b.get(i) {
                i += 1;
                if let Some(b'+' | b'-') = b.get(i) {
                    i += 1;
                }
                i = digits(i)?;
            }
            Some(i)
        }
        first => {
            let word: &[u8] = match first {
                b't' => b"true",
                b'f' => b"false",
                b'n' => b"null",
                _ => return None,
            };
            b[start..].starts_with(word).then_some(start + word.len())
        }
    }
}

/// The value of a JSON string token (`raw`, with its quotes) that serde_json
/// has checked already (every escape well formed), borrowed when it holds
/// no escape: see [`decode_json_string`].
pub(crate) fn json_string_value(raw: &str) -> std::result::Result<Cow<'_, str>, &'static str> {
    if !raw.starts_with('"') {
        return Err("not a string");
    }
    match decode_json_string(raw, 0)? {
        (value, end) if end == raw.len() => Ok(value),
        _ => Err("not a string"),
    }
}

/// The character the escape at `at` in `s` (a backslash) stands for, and
/// where the escape ends. Surrogates must pair, as serde_json requires.
fn json_escape(s: &str, at: usize) -> std::result::Result<(char, usize), &'static str> {
    let hex4 = |at: usize| -> std::result::Result<u32, &'static str> {
        let digits = s.get(at..at + 4).ok_or("short \\u escape")?;
        // from_str_radix would take a sign.
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return Err("bad \\u escape");
        }
        u32::from_str_radix(digits, 16).map_err(|_| "bad \\u escape")
    };
    let mut end = at + 2;
    let c = match s.as_bytes().get(at + 1).ok_or("escape at the end")? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(at + 2)?;
            end = at + 6;
            let code = if (0xD800..0xDC00).contains(&unit) {
                // A leading surrogate needs a trailing one right after.
                let low = match s.get(end..end + 2) {
                    Some("\\u") => hex4(end + 2)?,
                    _ => return Err("lone surrogate in a \\u escape"),
                };
                if !(0xDC00..0xE000).contains(&low) {
                    return Err("lone surrogate in a \\u escape");
                }
                end += 6;
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else {
                unit
            };
            // A trailing surrogate alone is no character.
            char::from_u32(code).ok_or("lone surrogate in a \\u escape")?
        }
        _ => return Err("bad escape"),
    };
    Ok((c, end))
}

fn json_kind(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Extracts just the id (raw JSON) of a record known to be valid.
pub(crate) fn parse_id<'a>(bytes: &'a [u8], names: &FieldNames) -> Option<&'a str> {
    parse_record(bytes, names).ok().and_then(|f| f.id)
}

/// The raw JSON id a record carries itself: its id field, or a text
/// file's relative path; `None` when a JSONL record has no id.
pub(crate) fn own_id(source: &Source, bytes: &[u8], names: &FieldNames) -> Option<String> {
    match &source.kind {
        SourceKind::Jsonl => parse_id(bytes, names).map(str::to_owned),
        SourceKind::Text { id } => Some(json_string(id)),
    }
}

/// The raw JSON id of a document: its own id, or `"FILE:LINE"`.
pub(crate) fn fallback_id(source: &Source, line: u64) -> String {
    match &source.kind {
        SourceKind::Text { id } => json_string(id),
        SourceKind::Jsonl => json_string(&format!("{}:{}", source.name, line)),
    }
}

pub(crate) fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    // Escaping keeps UTF-8 valid: only ASCII bytes are replaced.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `s` as a JSON string, byte for byte what `serde_json` writes.
///
/// News text needs escaping rarely, and nearly only for quotes and line
/// breaks. A text whose only control bytes are line breaks (one pass,
/// which the compiler turns into vector code, tells) is escaped by a
/// vector search for its quotes, backslashes and line breaks, copying the
/// runs between them whole: the word-at-a-time tests below cost about two
/// instructions a byte, and escaping was a tenth of the cleaning pass.
pub(crate) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Blocks, so that the test stops early without losing its vector code.
    let other_controls =
        bytes.chunks(256).any(|block| block.iter().fold(false, |any, &b| any | ((b < 0x20) & (b != b'\n'))));
    if other_controls {
        return push_json_string_any(out, s);
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    for i in memchr::memchr3_iter(b'"', b'\\', b'\n', bytes) {
        out.extend_from_slice(&bytes[copied..i]);
        out.extend_from_slice(match bytes[i] {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            _ => b"\\n",
        });
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// [`push_json_string`] for any text.
///
/// serde_json looks up every byte in a table; text needs escaping rarely
/// (a quote or line break every hundred bytes or so of news), so this
/// tests eight bytes at a time, jumps to the first one that needs escaping,
/// and copies the runs between escapes whole. Stepping a byte at a time
/// through a word that held an escape, as it first did, cost as much again
/// as the tests.
fn push_json_string_any(out: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `w` below `n` (for n <= 0x80). Exact up
    // to the first such byte: a borrow may mark bytes after it, never before.
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let w =
                u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
            // A control byte (below 0x20), a quote or a backslash: a zero
            // after xor with either is a byte below one.
            let special =
                below(w, 0x20) | below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1);
            if special == 0 {
                i += 8;
                continue;
            }
            // Little-endian: the lowest marked byte is the first special one.
            i += (special.trailing_zeros() / 8) as usize;
        }
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..=0x1F => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[copied..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xF)]]);
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        copied = i;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

struct FieldsSeed<'n> {
    names: &'n FieldNames,
}

#[derive(Default)]
struct FieldValues<'a> {
    text: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    site: Option<&'a RawValue>,
    date: Option<&'a RawValue>,
    priority: Option<&'a RawValue>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = FieldValues<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = FieldValues<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut v = FieldValues::default();
        while let Some(key) = map.next_key_seed(StrSeed { what: "a field name" })? {
            if key == self.names.text && v.text.is_none() {
                v.text = Some(map.next_value()?);
            } else if key == self.names.id && v.id.is_none() {
                v.id = Some(map.next_value()?);
            } else if self.names.site.as_deref() == Some(&*key) && v.site.is_none() {
                v.site = Some(map.next_value()?);
            } else if self.names.date.as_deref() == Some(&*key) && v.date.is_none() {
                v.date = Some(map.next_value()?);
            } else if self.names.priority.as_deref() == Some(&*key) && v.priority.is_none() {
                v.priority = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(v)
    }
}

/// A string, borrowed from the input when it has no escapes.
struct StrSeed {
    what: &'static str,
}

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.what)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> FieldNames {
        FieldNames::default()
    }

    #[test]
    fn a_site_field_holding_a_url_stands_for_its_host() {
        assert_eq!(url_host("https://www.Example.com/a/b?x=1").as_deref(), Some("example.com"));
        assert_eq!(url_host("http://user@news.example.org:8080/").as_deref(), Some("news.example.org"));
        assert_eq!(url_host("//cdn.example.net/x").as_deref(), Some("cdn.example.net"));
        assert_eq!(url_host("example.com"), None);
        assert_eq!(url_host("Harbour Ledger"), None);
        let names = FieldNames { site: Some("url".into()), ..FieldNames::default() };
        let f = parse_record(br#"{"id":1,"url":"https://www.harbour.example/2024/story","text":"t"}"#, &names).unwrap();
        assert_eq!(f.site_text().as_deref(), Some("harbour.example"));
    }

    proptest! {
        // The reader splits records with its own scan: it must cut where
        // `read_until` cuts, whatever the buffer boundaries.
        #[test]
        fn lines_are_read_as_read_until_reads_them(
            data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), Just(0xE9u8)], 0..64),
            capacity in 1usize..9,
        ) {
            let mut ours = std::io::BufReader::with_capacity(capacity, data.as_slice());
            let mut std_reader = data.as_slice();
            loop {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let n = read_line(&mut ours, &mut a, u64::MAX).unwrap();
                prop_assert_eq!(n, std_reader.read_until(b'\n', &mut b).unwrap());
                prop_assert_eq!(&a, &b);
                if n == 0 {
                    break;
                }
            }
        }

        // A line over the limit is read past, whatever the buffer
        // boundaries, and the next line is read whole.
        #[test]
        fn a_line_over_the_limit_is_read_past_not_kept(
            long in 0usize..40, limit in 0u64..20, capacity in 1usize..9,
        ) {
            let data = format!("{}\nnext\n", "x".repeat(long));
            let mut reader = std::io::BufReader::with_capacity(capacity, data.as_bytes());
            let mut out = b"kept".to_vec();
            prop_assert_eq!(read_line(&mut reader, &mut out, limit).unwrap(), long + 1);
            let expected = if long as u64 > limit { "kept".to_string() } else { format!("kept{}\n", "x".repeat(long)) };
            prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
            let mut next = Vec::new();
            prop_assert_eq!(read_line(&mut reader, &mut next, 10).unwrap(), 5);
            prop_assert_eq!(next, b"next\n");
        }

        // Records are rewritten with this escaper and read back by serde:
        // it must write exactly what serde_json writes.
        #[test]
        fn json_strings_are_escaped_as_serde_json_does(
            s in "(?s)[\\x00-\\x20\"\\\\a-z\\x7f é’😀]{0,40}",
            // Text whose only control bytes are line breaks takes the vector path.
            prose in "(?s)[\n\"\\\\a-z\\x7f é’😀]{0,300}",
        ) {
            prop_assert_eq!(json_string(&s), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(json_string(&prose), serde_json::to_string(&prose).unwrap());
            // A control byte past the first block of the scan for them.
            let late = format!("{prose}{}\t{s}", "a".repeat(300));
            prop_assert_eq!(json_string(&late), serde_json::to_string(&late).unwrap());
        }
    }

    /// A JSON string for `s` with each character escaped or not as `escape`
    /// says (`\uXXXX`, surrogate pairs beyond the BMP).
    fn escaped(s: &str, escape: &[bool]) -> String {
        let mut out = String::from("\"");
        for (c, &e) in s.chars().zip(escape.iter().cycle()) {
            if e || c == '"' || c == '\\' || c < ' ' {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            } else {
                out.push(c);
            }
        }
        out.push('"');
        out
    }

    proptest! {
        // The text field is decoded without serde_json: it must give what
        // serde_json gives, for every way of writing the same string.
        #[test]
        fn text_values_decode_as_serde_json_decodes(
            s in "(?s)[\\x00-\\x20\"\\\\/a-z\\x7f é’😀\u{10ffff}]{0,30}",
            escape in proptest::collection::vec(any::<bool>(), 1..8),
        ) {
            for raw in [serde_json::to_string(&s).unwrap(), escaped(&s, &escape)] {
                prop_assert_eq!(json_string_value(&raw).unwrap(), s.as_str(), "{}", raw);
                prop_assert_eq!(serde_json::from_str::<String>(&raw).unwrap(), s.as_str());
            }
        }
    }

    /// What a parse gave, comparable.
    fn summary(r: std::result::Result<Fields<'_>, String>) -> std::result::Result<String, String> {
        r.map(|f| format!("{:?} {:?} {:?} {:?}", f.text, f.text_span, f.id, f.site))
    }

    /// A JSON string token: mostly well formed, sometimes with a bad
    /// escape, a lone surrogate or a raw control byte.
    fn json_string_token() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => r#""(?:[a-z é😀]|\\["\\/bfnrt]|\\u00[0-9a-f]{2}|\\u[dD][89aAbB][0-9a-f]{2}\\u[dD][c-f][0-9a-f]{2}){0,8}""#,
            1 => r#""(?:[a-z ]|\\u[dD][89aAbB][0-9a-f]{2}|\\u[dD][c-f][0-9a-f]{2}|\\u12|\\u-12a|\\x|\x01|\t|\x7f){0,6}""#,
            1 => r#""(?:[a-z ]|\\n){0,6}"#,
        ]
    }

    /// Any JSON value, mostly well formed: a string, a number (or what
    /// looks like one), a literal, a nested value.
    fn json_value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => json_string_token(),
            2 => r"-?(?:0|[1-9][0-9]{0,3})(?:\.[0-9]{1,2})?(?:[eE][+-]?[0-9]{1,2})?",
            1 => r"-?(?:0[0-9]|)(?:\.[0-9]{0,2})?(?:[eE][+-]?[0-9]{0,2})?",
            1 => "true|false|null|nul|tru|nulls",
            1 => r#"\{"a":\[1,"x"\]\}|\[\]|\{\}"#,
        ]
    }

    fn json_record() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            4 => Just("text"),
            2 => Just("id"),
            2 => Just("site"),
            2 => Just("url"),
            1 => Just(r"te\u0078t"),
            1 => Just("ti\u{1}tle")
        ];
        let space = "[ \t\n\r]{0,2}";
        let pair = (key, json_value(), space.prop_map(String::from), space);
        let tail = prop_oneof![8 => Just(""), 1 => Just("x"), 1 => Just(","), 1 => Just("}")];
        (proptest::collection::vec(pair, 0..4), json_string_token(), 0usize..4, space, tail).prop_map(
            |(mut pairs, text, at, ws, tail)| {
                // Nearly every record has a text string somewhere.
                pairs.insert(at.min(pairs.len()), ("text", text, String::new(), String::new()));
                let body: Vec<String> = pairs.iter().map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}")).collect();
                format!("{ws}{{{}}}{ws}{tail}", body.join(","))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        // The one-pass reader of flat records gives what serde_json gives,
        // for every record, and refuses (to serde_json, which explains)
        // whatever serde_json refuses.
        #[test]
        fn flat_records_read_as_serde_json_reads_them(record in json_record()) {
            let names = FieldNames { site: Some("site".into()), ..FieldNames::default() };
            let text = record.as_str();
            prop_assert_eq!(summary(parse_record(text.as_bytes(), &names)), summary(parse_record_with_serde(text, &names)));
            if let Some(f) = flat_record_fields(text, &names) {
                prop_assert_eq!(summary(Ok(f)), summary(parse_record_with_serde(text, &names)));
            }
        }
    }

    #[test]
    fn a_flat_record_is_read_in_one_pass() {
        let names = FieldNames { site: Some("site".into()), ..FieldNames::default() };
        let rec = "{\"id\": 7, \"site\":\"a.example\", \"n\":-1.5e3,\"ok\":true, \"text\":\"caf\\u00e9\\n\\\"x\\\"\"}";
        let f = flat_record_fields(rec, &names).expect("a flat record");
        assert_eq!((f.text.as_ref(), f.id, f.site), ("café\n\"x\"", Some("7"), Some("\"a.example\"")));
        assert_eq!(&rec[f.text_span.0..f.text_span.1], "\"caf\\u00e9\\n\\\"x\\\"\"");
        // Nested values go to serde_json.
        assert!(flat_record_fields(r#"{"text":"a","meta":{"b":1}}"#, &names).is_none());
    }

    #[test]
    fn lone_surrogates_are_refused_as_serde_json_refuses_them() {
        for raw in [r#""\ud800""#, r#""a\udc00b""#, r#""\ud800\u0041""#, r#""\ud800\n""#, r#""\uD83D""#] {
            assert!(serde_json::from_str::<String>(raw).is_err(), "{raw}");
            assert!(json_string_value(raw).is_err(), "{raw}");
            let record = format!(r#"{{"text":{raw}}}"#);
            let reason = parse_record(record.as_bytes(), &names()).unwrap_err();
            assert!(reason.contains("lone surrogate") && reason.contains("text field `text`"), "{reason}");
        }
        assert_eq!(json_string_value(r#""\uD83D\uDE00""#).unwrap(), "😀");
    }

    #[test]
    fn parses_text_and_id_and_skips_the_rest() {
        let rec = br#"{"meta":{"a":[1,2,{"b":null}]},"text":"caf\u00e9 \"x\"","id":17}"#;
        let f = parse_record(rec, &names()).unwrap();
        assert_eq!(f.text, "café \"x\"");
        assert_eq!(f.id.unwrap(), "17");
        let rec = br#"{"id":"a-1","text":"plain"}"#;
        let f = parse_record(rec, &names()).unwrap();
        assert!(matches!(f.text, Cow::Borrowed("plain")));
        assert_eq!(f.id.unwrap(), "\"a-1\"");
    }

    #[test]
    fn clear_reasons_for_bad_records() {
        let reason = |b: &[u8]| parse_record(b, &names()).unwrap_err();
        assert!(reason(br#"{"id":1}"#).contains("missing text field `text`"));
        assert!(reason(br#"{"text":5}"#).contains("text field `text` must be a string, got a number"));
        assert!(reason(br#"{"text":"a""#).contains("malformed JSON"));
        assert!(reason(br#"[1,2]"#).contains("expected a JSON object"));
        assert!(reason(b"{\"text\":\"\xff\"}").contains("invalid UTF-8 at byte 10"));
        assert!(reason(br#"{"text":"a","id":[1]}"#).contains("must be a string or a number"));
        assert!(reason(br#"{"text":"a"} x"#).contains("trailing characters"));
    }

    #[test]
    fn null_id_means_no_id() {
        assert!(parse_record(br#"{"text":"a","id":null}"#, &names()).unwrap().id.is_none());
    }

    #[test]
    fn custom_field_names() {
        let n = FieldNames {
            text: "body".into(),
            id: "uid".into(),
            site: Some("domain".into()),
            date: None,
            priority: None,
        };
        let rec = br#"{"text":"no","body":"y\u00e9s","uid":"u","domain":"a.example"}"#;
        let f = parse_record(rec, &n).unwrap();
        assert_eq!(f.text, "yés");
        assert_eq!(f.id.unwrap(), "\"u\"");
        assert_eq!(&rec[f.text_span.0..f.text_span.1], br#""y\u00e9s""#);
        assert_eq!(f.site_text().as_deref(), Some("a.example"));
        // A site no string can hold is kept as its JSON.
        let rec = br#"{"body":"t","domain":"\ud800"}"#;
        assert_eq!(parse_record(rec, &n).unwrap().site_text().as_deref(), Some(r#""\ud800""#));
    }
}
