//! The `doppel clean` job: the cleaning pass that writes each record with
//! its cleaned text and lists every cut, and `--explain ID`, which shows
//! how one document is cut.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::batches::{Rejected, Rejects, for_each_batch_into, records_per_chunk};
use super::cleaning::{
    ChunkPool, CleanOptions, CleanSeconds, CleanSummary, CleanTally, CleanedChunk, CleanedRecord, LINE_MEMO,
    RECORDS_PER_CHUNK, build_cleaner, free_worker_state, own_cleaner, push_removed_line, read_doc, table_figures,
};
use super::files::{open_corpus, write_stats};
use super::write::push_record_with_text;
use crate::clean::Cleaner;
use crate::input::{Corpus, Input, fallback_id, json_string};
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::{Error, Result};

/// What the cleaning pass produced besides the written lines.
pub(super) struct CleanPass {
    pub(super) summary: CleanSummary,
    pub(super) rejected: Vec<Rejected>,
}

/// One batch, cleaned: its records in chunks, in order, and the read
/// failure that ended the batch, if any.
pub(super) struct CleanedBatch {
    pub(super) chunks: Vec<CleanedChunk>,
    pub(super) failure: Option<crate::input::ReadFailure>,
}

/// The cleaning pass of `doppel clean`: writes each cleaned record through
/// `write_records` (newline-terminated lines) and removals through
/// `write_removed`. (`doppel run` cleans in its sign pass instead, see
/// [`clean_for_signing`].)
///
/// Writing runs on its own thread, a batch behind the cleaning: on the
/// main thread it left the workers idle while each batch's 4 MiB went
/// through serialisation and the kernel's page-cache copy.
pub(super) fn clean_pass(
    corpus: &Corpus,
    opts: &CleanOptions,
    cleaner: &Cleaner,
    progress: Progress,
    write_records: impl FnMut(&[u8]) -> Result<()> + Send,
    write_removed: impl FnMut(&[u8]) -> Result<()> + Send,
) -> Result<CleanPass> {
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "cleaning");
    let chunks = ChunkPool::default();
    let pass = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            let cleaned = batch
                .records
                .par_chunks(records_per_chunk(batch.records.len(), RECORDS_PER_CHUNK))
                .map(|recs| {
                    let mut chunk = chunks.take();
                    let bytes: usize = recs.iter().map(|r| r.end - r.start + 1).sum();
                    chunk.records.reserve(bytes);
                    own_cleaner(cleaner, |cleaner| {
                        for rec in recs {
                            let cleaned = clean_record(corpus, opts, cleaner, rec, batch.bytes(rec), &mut chunk);
                            chunk.add(rec.source, rec.line, cleaned);
                        }
                    });
                    chunk
                })
                .collect();
            bar.set_position(counter.load(Ordering::Relaxed));
            Ok(CleanedBatch { chunks: cleaned, failure: batch.failure })
        },
        |batches| write_cleaned(corpus, opts, batches, &chunks, write_records, write_removed),
    );
    // Signing and a library caller's later work would carry them.
    free_worker_state();
    let pass = pass?;
    bar.finish_and_clear();
    Ok(pass)
}

/// Cleans one record, appending its output line and its removed.jsonl
/// line (if it has cuts) to `chunk`'s buffers.
pub(super) fn clean_record<'c>(
    corpus: &Corpus,
    opts: &CleanOptions,
    cleaner: &'c Cleaner,
    rec: &crate::input::RawRecord,
    bytes: &[u8],
    chunk: &mut CleanedChunk,
) -> std::result::Result<CleanedRecord<'c>, String> {
    let source = &corpus.sources[rec.source as usize];
    let doc = read_doc(&source.kind, bytes, &opts.fields)?;
    let site = doc.site.as_deref();
    let has_site = site.is_some();
    let (cleaned, cuts) = LINE_MEMO.with_borrow_mut(|memo| cleaner.clean_spans_with_memo(&doc.text, site, memo, true));
    push_record_with_text(&mut chunk.records, &source.kind, bytes, doc.text_span, &cleaned)?;
    chunk.records.push(b'\n');
    if !cuts.is_empty() {
        let id = doc.id.unwrap_or_else(|| fallback_id(source, rec.line).into());
        push_removed_line(&mut chunk.removed, &id, &doc.text, &cuts);
    }
    // The cuts' offsets already count the characters up to the last one.
    let characters = match cuts.last() {
        Some(last) => last.end + doc.text[last.byte_end..].chars().count(),
        None => doc.text.chars().count(),
    };
    chunk.count_site(site, characters, &cuts);
    Ok(CleanedRecord { cuts, characters: characters as u64, has_site })
}

/// The writing half of the cleaning pass: writes batches in order, counts,
/// and lists or refuses bad records.
pub(super) fn write_cleaned(
    corpus: &Corpus,
    opts: &CleanOptions,
    batches: std::sync::mpsc::Receiver<CleanedBatch>,
    pool: &ChunkPool,
    mut write_records: impl FnMut(&[u8]) -> Result<()>,
    mut write_removed: impl FnMut(&[u8]) -> Result<()>,
) -> Result<CleanPass> {
    let mut tally = CleanTally::default();
    let mut rejects = Rejects::new(corpus, opts.skip_bad);
    for batch in batches {
        for mut chunk in batch.chunks {
            for (source, line, bad) in chunk.outcomes.drain(..) {
                tally.summary.documents += 1;
                if let Some(reason) = bad {
                    rejects.record(source, line, reason)?;
                    tally.summary.rejected += 1;
                }
            }
            write_records(&chunk.records)?;
            write_removed(&chunk.removed)?;
            tally.absorb(&mut chunk);
            pool.give_back(chunk);
        }
        if let Some(f) = batch.failure {
            rejects.failure(f)?;
            tally.summary.rejected += 1;
            tally.summary.documents += 1;
        }
    }
    Ok(CleanPass { summary: tally.finish(opts), rejected: rejects.list })
}

pub(super) fn finish_summary(pass: &mut CleanPass, cleaner: &Cleaner, learned: bool, corpus: &Corpus) {
    table_figures(&mut pass.summary, cleaner, learned, corpus);
}

/// Runs `doppel clean`: writes `cleaned.jsonl`, `removed.jsonl`,
/// `rejected.jsonl` and `stats.json` into `out_dir`.
pub fn clean_files(inputs: &[Input], out_dir: &Path, opts: &CleanOptions) -> Result<CleanSummary> {
    let started = Instant::now();
    let progress = Progress { enabled: opts.progress };
    let mut outputs = OutputSet::new(out_dir)?;
    let corpus = open_corpus(inputs, &mut outputs, opts.max_record_bytes)?;
    let (cleaner, learned, learn_seconds) = build_cleaner(&corpus, opts, progress)?;
    let cleaned = outputs.create("cleaned.jsonl")?;
    let removed = outputs.create("removed.jsonl")?;
    let clean_started = Instant::now();
    let (cleaned_out, removed_out) = outputs.pair(cleaned, removed);
    let mut pass = clean_pass(
        &corpus,
        opts,
        &cleaner,
        progress,
        |lines| cleaned_out.write_all(lines),
        |lines| removed_out.write_all(lines),
    )?;
    let rejected = outputs.create("rejected.jsonl")?;
    for r in &pass.rejected {
        outputs.file(rejected).write_json_line(r)?;
    }
    outputs.sync()?;
    finish_summary(&mut pass, &cleaner, learned, &corpus);
    let total = started.elapsed().as_secs_f64();
    pass.summary.seconds = CleanSeconds { learn: learn_seconds, clean: clean_started.elapsed().as_secs_f64(), total };
    pass.summary.bytes_per_second = corpus.total_bytes() as f64 / total.max(1e-9);
    write_stats(&mut outputs, out_dir, &pass.summary)?;
    outputs.commit()?;
    Ok(pass.summary)
}

/// One document as the cleaner saw it: what `doppel clean --explain ID`
/// prints.
#[derive(Debug, Clone)]
pub struct DocumentExplanation {
    /// Where the record is, `FILE:LINE`.
    pub location: String,
    /// Its site, when `--site-field` gives one.
    pub site: Option<String>,
    /// Its text as read.
    pub text: String,
    /// The cuts, in order, each with its rule and why.
    pub cuts: Vec<crate::clean::Cut>,
}

/// Explains how the cleaner cuts the document whose id is `id` (its JSON
/// value, or the value of a string id, or `FILE:LINE` for a record without
/// one): the table is learned from all of `inputs` first (or loaded), as
/// `clean` learns it, so the cuts are the ones `clean` makes. Writes nothing.
pub fn explain_document(inputs: &[Input], id: &str, opts: &CleanOptions) -> Result<DocumentExplanation> {
    // Stdin is spooled to a temporary directory, removed on return.
    let spool = tempfile::tempdir().map_err(|e| Error::io(Path::new("."), e))?;
    let mut corpus = Corpus::open(inputs, spool.path())?;
    if let Some(bytes) = opts.max_record_bytes {
        corpus = corpus.with_max_record_bytes(bytes);
    }
    let (cleaner, _, _) = build_cleaner(&corpus, opts, Progress { enabled: opts.progress })?;
    // The id as the user typed it, and as JSON: `d3` finds `"d3"`, `3` finds 3.
    let wanted = [id.to_string(), json_string(id)];
    let counter = Arc::new(AtomicU64::new(0));
    let mut found = None;
    super::batches::for_each_batch(&corpus, &counter, |batch| {
        for rec in batch.records.iter() {
            if found.is_some() {
                break;
            }
            let source = &corpus.sources[rec.source as usize];
            let Ok(doc) = read_doc(&source.kind, batch.bytes(rec), &opts.fields) else { continue };
            let raw = doc.id.as_deref().map_or_else(|| fallback_id(source, rec.line), str::to_string);
            if wanted.contains(&raw) {
                let cleaned = cleaner.clean(&doc.text, doc.site.as_deref());
                found = Some(DocumentExplanation {
                    location: format!("{}:{}", source.name, rec.line),
                    site: doc.site.as_deref().map(str::to_string),
                    text: doc.text.into_owned(),
                    cuts: cleaned.cuts,
                });
            }
        }
        Ok(())
    })?;
    found.ok_or_else(|| Error::config(format!("no record has the id {id:?}")))
}
