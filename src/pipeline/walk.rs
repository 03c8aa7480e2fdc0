//! Walking the corpus again in step with the sign pass: which records are
//! documents (those rejected before or during it are passed over), and the
//! cuts the cleaner logged for each of them under `doppel run`.

use std::path::Path;

use super::batches::Rejected;
use super::cuts::{BatchCuts, CutLog, CutReader};
use super::files::Upstream;
use super::sign::SignPass;
use crate::input::{Batch, Corpus};
use crate::{Error, Result};

/// Reads the cuts of each batch's documents, in step with the batches.
pub(super) struct CutWalk<'a> {
    pub(super) reader: CutReader<Box<dyn std::io::BufRead + 'a>>,
    pub(super) batch: BatchCuts,
}

impl<'a> CutWalk<'a> {
    /// A walk from the first entry, when there are cuts.
    pub(super) fn new(log: Option<&'a CutLog>) -> Option<CutWalk<'a>> {
        log.map(|log| CutWalk { reader: log.reader(), batch: BatchCuts::default() })
    }

    /// Fails unless every entry has been read: records the cleaner saw are
    /// gone from the input.
    pub(super) fn finish(&mut self, corpus: &Corpus, dir: &Path) -> Result<()> {
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
pub(super) struct RecordCuts<'b> {
    pub(super) batch: Option<&'b BatchCuts>,
    /// Per record: its entry's number in `batch` (`None` if not a document).
    pub(super) entries: Vec<Option<usize>>,
}

impl RecordCuts<'_> {
    /// Record `i`'s text without its cuts.
    pub(super) fn apply<'t>(
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
pub(super) fn read_cuts<'w>(
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
pub(super) fn cut_log_error(corpus: &Corpus, dir: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => input_changed(corpus, "more records than when it was cleaned"),
        _ => Error::io(dir, e),
    }
}

pub(super) fn input_changed(corpus: &Corpus, comment: &str) -> Error {
    Error::InputChanged {
        file: corpus.sources.last().map(|s| s.name.clone()).unwrap_or_default(),
        comment: comment.into(),
    }
}

/// Matches records to the rejected ones, both in input order.
pub(super) struct RejectMatch {
    pub(super) rejected: Vec<(u32, u64)>,
    pub(super) next: usize,
}

impl RejectMatch {
    pub(super) fn new<'r>(rejected: impl IntoIterator<Item = &'r Rejected>) -> RejectMatch {
        let mut rejected: Vec<(u32, u64)> = rejected.into_iter().map(|r| (r.source, r.line)).collect();
        rejected.sort_unstable();
        RejectMatch { rejected, next: 0 }
    }

    /// Whether every rejected record has been met.
    pub(super) fn all_taken(&self) -> bool {
        self.next == self.rejected.len()
    }

    /// Whether the record (or read failure) at `line` of `source` is the
    /// next rejected one.
    pub(super) fn takes(&mut self, source: u32, line: u64) -> bool {
        let hit = self.rejected.get(self.next) == Some(&(source, line));
        self.next += usize::from(hit);
        hit
    }
}

/// Matches the records of a later pass to document indices, passing over
/// the records and read failures rejected before dedup or in pass 1.
pub(super) struct DocWalk<'a> {
    pub(super) corpus: &'a Corpus,
    pub(super) rejected: RejectMatch,
    pub(super) doc: u32,
    pub(super) docs: usize,
}

impl<'a> DocWalk<'a> {
    pub(super) fn new(corpus: &'a Corpus, pass: &'a SignPass, upstream: &Upstream<'_>) -> DocWalk<'a> {
        let rejected = RejectMatch::new(upstream.rejected.iter().chain(&pass.rejected));
        DocWalk { corpus, rejected, doc: 0, docs: pass.signatures.len() }
    }

    /// The document index of each record of `batch` (`None` if rejected).
    pub(super) fn assign(&mut self, batch: &Batch) -> Result<Vec<Option<u32>>> {
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

    pub(super) fn finish(&self) -> Result<()> {
        if self.doc as usize != self.docs {
            return Err(Error::InputChanged {
                file: self.corpus.sources.last().map(|s| s.name.clone()).unwrap_or_default(),
                comment: format!("{} records on a later pass, {} on the first", self.doc, self.docs),
            });
        }
        Ok(())
    }
}

pub(super) fn changed(corpus: &Corpus, source: u32, comment: &str) -> Error {
    Error::InputChanged { file: corpus.sources[source as usize].name.clone(), comment: comment.into() }
}
