//! Reading a corpus batch by batch: a reader thread stays a batch or two
//! ahead of the workers, an optional consumer thread takes each batch's
//! results in input order, and rejected records are kept as they come.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::input::{Batch, BatchReader, Corpus, FieldNames, SourceKind, parse_record};
use crate::{Error, Result};

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
    pub(super) corpus: &'c Corpus,
    pub(super) skip_bad: bool,
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
            tx.send(item).map_err(|_| Error::internal("a pipeline thread stopped early"))
        });
        drop(tx);
        let consumed = consumer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let result = consumed?;
        produced.map(|()| result)
    })
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

/// How many of a batch's `records` a worker takes at a time in a pass that
/// hands them out in chunks: `at_most`, or fewer when the batch holds few
/// records (long ones: whole text files, long articles), so that every
/// thread gets about four chunks and no worker is left with the batch.
pub(crate) fn records_per_chunk(records: usize, at_most: usize) -> usize {
    (records / (4 * rayon::current_num_threads())).clamp(1, at_most)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::input::{BATCH_BYTES, Input};

    /// A corpus of about five batches, one record a line.
    fn corpus_of_batches(dir: &Path) -> (Corpus, usize) {
        let line = format!("{{\"text\": \"{}\"}}\n", "word ".repeat(200));
        let lines = 5 * BATCH_BYTES / line.len() + 1;
        let path = dir.join("in.jsonl");
        std::fs::write(&path, line.repeat(lines)).unwrap();
        (Corpus::open(&[Input::Path(path)], dir).unwrap(), lines)
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
