//! The cleaner's cuts as byte spans: how `doppel run` hands cleaned texts to
//! deduplication without writing a cleaned copy of the corpus.
//!
//! A cleaned text is its original with the cut spans taken out, nothing
//! else. So the cleaning pass of `run` logs, for each cleaned document in
//! input order, the byte length of its original text and the byte spans it
//! cut; the dedup passes read the original records again and take the same
//! spans out, which gives byte for byte the text `doppel clean` writes. The
//! log costs a few bytes a document and a cut, on disk (an unnamed file in
//! `--out`). It replaces a spooled copy of the cleaned corpus: writing that
//! copy into the page cache was a fifth of the cleaning pass, and it took
//! as much disk as the input.
//!
//! An entry is LEB128 varints: the text's byte length, the number of spans,
//! then each span's start and length (starts relative to the end of the
//! span before, so most take a byte or two).

use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

use crate::spill::SpillFile;

/// The cut log: one entry a cleaned document, in document order.
#[derive(Debug)]
pub(crate) struct CutLog {
    file: SpillFile,
}

impl CutLog {
    /// An empty log in an unnamed file in `dir`.
    pub(crate) fn create(dir: &Path) -> std::io::Result<CutLog> {
        Ok(CutLog { file: SpillFile::create(dir)? })
    }

    /// Appends the entry of one document to `out` (written later with
    /// [`CutLog::append`]): its text's byte length and the byte spans cut
    /// from it, ordered and not overlapping.
    pub(crate) fn encode(out: &mut Vec<u8>, text_bytes: usize, spans: impl ExactSizeIterator<Item = (usize, usize)>) {
        push_varint(out, text_bytes as u64);
        push_varint(out, spans.len() as u64);
        let mut pos = 0;
        for (start, end) in spans {
            debug_assert!(pos <= start && start <= end && end <= text_bytes);
            push_varint(out, (start - pos) as u64);
            push_varint(out, (end - start) as u64);
            pos = end;
        }
    }

    /// Appends entries made by [`CutLog::encode`].
    pub(crate) fn append(&mut self, entries: &[u8]) -> std::io::Result<()> {
        self.file.append(entries)
    }

    /// Flushes the writes; call once, before reading.
    pub(crate) fn finish(&mut self) -> std::io::Result<()> {
        self.file.finish()
    }

    /// Reads the entries from the first; any number of readers at once.
    pub(crate) fn reader(&self) -> CutReader<Box<dyn BufRead + '_>> {
        CutReader { input: Box::new(self.file.reader()) }
    }
}

/// Reads a [`CutLog`]'s entries in order.
pub(crate) struct CutReader<R> {
    input: R,
}

impl<R: BufRead> CutReader<R> {
    /// The next entry: appends its spans to `spans` and returns the text's
    /// byte length.
    fn next_into(&mut self, spans: &mut Vec<(usize, usize)>) -> std::io::Result<usize> {
        let text_bytes = self.varint()?;
        let n = self.varint()?;
        let mut pos = 0usize;
        for _ in 0..n {
            let start = pos.checked_add(self.varint()?).ok_or_else(damaged)?;
            let end = start.checked_add(self.varint()?).ok_or_else(damaged)?;
            spans.push((start, end));
            pos = end;
        }
        Ok(text_bytes)
    }

    /// Whether every entry has been read.
    pub(crate) fn at_end(&mut self) -> std::io::Result<bool> {
        Ok(self.input.fill_buf()?.is_empty())
    }

    fn varint(&mut self) -> std::io::Result<usize> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.input.fill_buf()?.first() else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "internal: the cut log ends before the documents cleaned",
                ));
            };
            self.input.consume(1);
            value |= u64::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                return usize::try_from(value).map_err(|_| damaged());
            }
        }
        Err(damaged())
    }
}

fn damaged() -> std::io::Error {
    std::io::Error::other("internal: the cut log is damaged")
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The cuts of the documents of one batch, read from a [`CutLog`] in order.
#[derive(Debug, Default)]
pub(crate) struct BatchCuts {
    spans: Vec<(usize, usize)>,
    /// Per document read: its text's byte length and its spans' range.
    docs: Vec<(usize, usize, usize)>,
}

impl BatchCuts {
    /// Forgets the batch before.
    pub(crate) fn clear(&mut self) {
        self.spans.clear();
        self.docs.clear();
    }

    /// Reads the next document's entry; returns its number in this batch.
    pub(crate) fn read<R: BufRead>(&mut self, reader: &mut CutReader<R>) -> std::io::Result<usize> {
        let first = self.spans.len();
        let text_bytes = reader.next_into(&mut self.spans)?;
        self.docs.push((text_bytes, first, self.spans.len()));
        Ok(self.docs.len() - 1)
    }

    /// Document `doc`'s text, cleaned: `text` without its spans. Fails when
    /// the text is not the one that was cleaned (its length differs, or a
    /// span does not fall between characters), as when the input changed
    /// between passes.
    pub(crate) fn apply<'t>(&self, doc: usize, text: Cow<'t, str>) -> std::result::Result<Cow<'t, str>, String> {
        let (text_bytes, first, last) = self.docs[doc];
        if text.len() != text_bytes {
            return Err(format!("a text of {} bytes is now {} bytes long", text_bytes, text.len()));
        }
        let spans = &self.spans[first..last];
        if spans.is_empty() {
            return Ok(text);
        }
        let cut: usize = spans.iter().map(|s| s.1 - s.0).sum();
        let mut out = String::with_capacity(text.len().saturating_sub(cut));
        let mut pos = 0;
        for &(start, end) in spans {
            let (Some(kept), Some(_)) = (text.get(pos..start), text.get(start..end)) else {
                return Err(format!("a cut at bytes {start}..{end} no longer falls between characters"));
            };
            out.push_str(kept);
            pos = end;
        }
        out.push_str(&text[pos..]);
        Ok(Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(entries: &[(&str, &[(usize, usize)])]) -> CutLog {
        let mut log = CutLog::create(&std::env::temp_dir()).unwrap();
        let mut buf = Vec::new();
        for (text, spans) in entries {
            CutLog::encode(&mut buf, text.len(), spans.iter().copied());
        }
        log.append(&buf).unwrap();
        log.finish().unwrap();
        log
    }

    #[test]
    fn logged_cuts_rebuild_the_cleaned_texts_in_order() {
        // Spans past 127 bytes take varints of two bytes.
        let long = "x".repeat(300) + "é tail";
        let entries: [(&str, &[(usize, usize)]); 3] =
            [("keep all", &[]), ("ab cd ef", &[(0, 3), (5, 8)]), (&long, &[(100, 300), (300, 302)])];
        let log = log_of(&entries);
        let mut reader = log.reader();
        let mut cuts = BatchCuts::default();
        let want = ["keep all".to_string(), "cd".to_string(), "x".repeat(100) + " tail"];
        for ((text, _), want) in entries.iter().zip(want) {
            let doc = cuts.read(&mut reader).unwrap();
            let cleaned = cuts.apply(doc, Cow::Borrowed(text)).unwrap();
            // A text without cuts is not copied.
            assert_eq!(matches!(cleaned, Cow::Borrowed(_)), doc == 0);
            assert_eq!(cleaned, want);
        }
        assert!(reader.at_end().unwrap());
        let past = cuts.read(&mut reader).unwrap_err();
        assert_eq!(past.kind(), std::io::ErrorKind::UnexpectedEof, "a log read past its end must say so");
    }

    #[test]
    fn a_text_that_changed_since_it_was_cleaned_is_refused() {
        let log = log_of(&[("héllo world", &[(0, 3)])]);
        let mut cuts = BatchCuts::default();
        let doc = cuts.read(&mut log.reader()).unwrap();
        assert_eq!(cuts.apply(doc, Cow::Borrowed("héllo world")).unwrap(), "llo world");
        assert!(cuts.apply(doc, Cow::Borrowed("hello world")).unwrap_err().contains("now 11 bytes"));
        // The same length, but the cut now ends inside a character.
        assert!(cuts.apply(doc, Cow::Borrowed("abélo world")).unwrap_err().contains("between characters"));
    }
}
