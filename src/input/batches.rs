//! Reading records in batches: the files of a corpus are opened (and
//! decompressed) in order, split into lines, and handed out a few megabytes
//! at a time; a record that cannot be read (over the size limit, or in a
//! damaged compressed frame) is replaced by a marked stand-in.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Corpus, SourceKind, check_unchanged};

/// Target size of one batch of raw records.
pub const BATCH_BYTES: usize = 4 << 20;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    }
}
