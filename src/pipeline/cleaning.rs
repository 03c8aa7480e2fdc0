//! What `doppel clean` and `doppel run` share: the cleaning options and
//! figures, the learning pass that decides the boilerplate table, and the
//! cleaning of one document into a chunk of output lines, cut log entries
//! and `removed.jsonl` lines, counted as it goes.
//!
//! `clean` reads the corpus twice: the learning pass collects the lines
//! each document holds and the tokens trailing its sentences (skipped when
//! a saved table is given); its cleaning pass (`clean_job`) then rewrites
//! each record with its cleaned text and lists every cut. `run`
//! (`run_job`) cleans in dedup's sign pass instead ([`clean_for_signing`]).
//! Stdin is spooled to a file first, like every input read more than once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::batches::{for_each_batch_into, records_per_chunk};
use super::cuts::CutLog;
use crate::Result;
use crate::clean::{
    BoilerplateTable, Cleaner, CutSpan, DocObservation, LineMemo, LineModel, Observer, Rules, TableLearner, Why,
};
use crate::input::{Corpus, FieldNames, SourceKind, json_string, parse_record, push_json_string};
use crate::progress::Progress;

/// Options of `doppel clean` (and the cleaning half of `doppel run`).
#[derive(Debug, Clone, Default)]
pub struct CleanOptions {
    /// The rules.
    pub rules: Rules,
    /// Use this saved table instead of learning one from the input.
    pub table: Option<PathBuf>,
    /// Save the table in force (learned or loaded) here.
    pub save_table: Option<PathBuf>,
    /// Classify lines with this model instead of the built-in one.
    pub model: Option<PathBuf>,
    /// Text, id and site fields.
    pub fields: FieldNames,
    /// Reject bad records and go on.
    pub skip_bad: bool,
    /// Reject records over this many bytes (default
    /// [`crate::input::DEFAULT_MAX_RECORD_BYTES`]).
    pub max_record_bytes: Option<u64>,
    /// Draw progress bars.
    pub progress: bool,
}

/// Cuts and characters removed by one rule.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RuleStats {
    /// Number of cuts.
    pub cuts: u64,
    /// Characters removed.
    pub characters: u64,
}

/// What the cleaner removed from one site's documents.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SiteStats {
    /// The site (as `--site-field` gives it, a URL's host).
    pub site: String,
    /// Its documents.
    pub documents: u64,
    /// Their characters.
    pub characters: u64,
    /// Characters removed from them.
    pub characters_removed: u64,
}

/// Sites listed in the summary and the report: the most cut from.
pub const SITES_LISTED: usize = 50;

pub(super) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Wall-clock seconds of the cleaning stages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanSeconds {
    /// Learning pass (0 when a table was loaded).
    pub learn: f64,
    /// Cleaning pass.
    pub clean: f64,
    /// The whole job.
    pub total: f64,
}

/// Figures of a cleaning run, written as `stats.json` (inside `clean` for `run`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanSummary {
    /// Records read: cleaned plus rejected.
    pub documents: u64,
    /// Documents with at least one cut.
    pub documents_changed: u64,
    /// Documents whose site field (`--site-field`) was present.
    pub documents_with_site: u64,
    /// What a user should know: a site field no record holds, say.
    pub warnings: Vec<String>,
    /// Records that could not be read.
    pub rejected: u64,
    /// Characters of text read.
    pub characters: u64,
    /// Characters removed.
    pub characters_removed: u64,
    /// Per rule.
    pub rules: BTreeMap<String, RuleStats>,
    /// With `--site-field`: the sites the cleaner cut most from, most
    /// characters removed first (at most 50; ties by name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<SiteStats>,
    /// Sites met (all of them, listed or not).
    #[serde(skip_serializing_if = "is_zero")]
    pub sites_seen: u64,
    /// Boilerplate lines in the table in force.
    pub boilerplate_lines: usize,
    /// Stray tokens learned or loaded.
    pub stray_tokens: Vec<String>,
    /// Whether the table was learned from this input (else loaded).
    pub table_learned: bool,
    /// Bytes read per pass.
    pub input_bytes: u64,
    /// Seconds per stage.
    pub seconds: CleanSeconds,
    /// Input bytes over total seconds.
    pub bytes_per_second: f64,
}

impl CleanSummary {
    /// Share of the characters read that the cleaner removed, in percent.
    pub fn percent_removed(&self) -> f64 {
        100.0 * self.characters_removed as f64 / self.characters.max(1) as f64
    }
}

/// One paragraph a person reads at the end of a run (without the output
/// directory, which the caller names).
impl std::fmt::Display for CleanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cleaned {} documents ({} changed, {} rejected), removed {} of {} characters ({:.1}%) in {:.2} s \
             ({:.1} MB/s); {} boilerplate lines and {} stray tokens {}.",
            self.documents,
            self.documents_changed,
            self.rejected,
            self.characters_removed,
            self.characters,
            self.percent_removed(),
            self.seconds.total,
            self.bytes_per_second / 1e6,
            self.boilerplate_lines,
            self.stray_tokens.len(),
            if self.table_learned { "learned" } else { "loaded" },
        )
    }
}

/// The cleaner for a job: rules plus a learned or loaded table, saved when
/// `--save-table` asks.
pub(crate) fn build_cleaner(corpus: &Corpus, opts: &CleanOptions, progress: Progress) -> Result<(Cleaner, bool, f64)> {
    let (cleaner, learned, seconds) = learn_or_load(corpus, opts, progress)?;
    if let Some(path) = &opts.save_table {
        cleaner.table().save(path)?;
    }
    Ok((cleaner, learned, seconds))
}

pub(super) fn learn_or_load(corpus: &Corpus, opts: &CleanOptions, progress: Progress) -> Result<(Cleaner, bool, f64)> {
    let started = Instant::now();
    // A bad model fails the run before the learning pass, not after it.
    let model = match &opts.model {
        Some(path) => Some(LineModel::load(path)?),
        None => opts.rules.classifier.enabled.then(|| LineModel::builtin().clone()),
    };
    if let Some(path) = &opts.table {
        let table = BoilerplateTable::load(path)?;
        return Ok((Cleaner::with_rules_table_model(&opts.rules, table, model)?, false, 0.0));
    }
    let learns = opts.rules.boilerplate.enabled || opts.rules.stray_token.learn_min_docs > 0;
    if !learns {
        return Ok((Cleaner::with_rules_table_model(&opts.rules, BoilerplateTable::default(), model)?, true, 0.0));
    }
    // The line rules' regexes compile on a thread of their own (tens of
    // milliseconds on one core) while the learning pass, which needs none
    // of them, reads the corpus.
    // Rules that do not compile stop the learning pass at its next batch:
    // their error, not a corpus read for nothing, is what the caller gets.
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let compiling = scope.spawn(|| {
            let cleaner = Cleaner::with_rules_table_model(&opts.rules, BoilerplateTable::default(), model);
            failed.store(cleaner.is_err(), Ordering::Relaxed);
            cleaner
        });
        let table = learn_table(corpus, &Observer::new(&opts.rules), opts, progress, &failed);
        // The compile error first: it is why learning stopped.
        let cleaner = compiling.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((cleaner.with_table(table?), true, started.elapsed().as_secs_f64()))
    })
}

/// The learning pass: what `observer` sees in every document of `corpus`;
/// it stops, with an error, at the first batch after `stop` is set.
fn learn_table(
    corpus: &Corpus,
    observer: &Observer,
    opts: &CleanOptions,
    progress: Progress,
    stop: &AtomicBool,
) -> Result<BoilerplateTable> {
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "learning");
    let learner = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            if stop.load(Ordering::Relaxed) {
                return Err(crate::Error::config("learning stopped: the cleaning rules did not compile"));
            }
            // Bad records are reported by the cleaning pass; learning passes them over.
            // A chunk of records a worker: one observation's few buffers,
            // not a document's, go to the counting thread.
            let observations: Vec<DocObservation> = batch
                .records
                .par_chunks(records_per_chunk(batch.records.len(), RECORDS_PER_CHUNK))
                .map(|recs| {
                    let mut obs = DocObservation::default();
                    for rec in recs {
                        let kind = &corpus.sources[rec.source as usize].kind;
                        if let Ok(d) = read_doc(kind, batch.bytes(rec), &opts.fields) {
                            observer.observe_into(&d.text, d.site.as_deref(), &mut obs);
                        }
                    }
                    // Freed here, on the thread that made it.
                    obs.drop_scratch();
                    obs
                })
                .collect();
            bar.set_position(counter.load(Ordering::Relaxed));
            Ok(observations)
        },
        // Counting, a batch behind, so the workers do not wait for it.
        |batches| {
            let mut learner = TableLearner::default();
            for obs in batches.into_iter().flatten() {
                learner.add(obs);
            }
            Ok(learner)
        },
    );
    free_worker_state();
    let learner = learner?;
    bar.finish_and_clear();
    Ok(learner.finish(&opts.rules))
}

/// The text `clean` writes for a record: its text field (or a text file's
/// text) with the cuts of `cleaner` taken out, as `run` signs it.
pub(crate) fn cleaned_text(
    cleaner: &Cleaner,
    kind: &SourceKind,
    bytes: &[u8],
    fields: &FieldNames,
) -> std::result::Result<String, String> {
    let doc = read_doc(kind, bytes, fields)?;
    Ok(cleaner.clean(&doc.text, doc.site.as_deref()).text)
}

pub(super) struct Doc<'a> {
    pub(super) text: std::borrow::Cow<'a, str>,
    pub(super) text_span: Option<(usize, usize)>,
    /// The id as raw JSON.
    pub(super) id: Option<std::borrow::Cow<'a, str>>,
    pub(super) site: Option<std::borrow::Cow<'a, str>>,
}

pub(super) fn read_doc<'a>(
    kind: &SourceKind,
    bytes: &'a [u8],
    fields: &FieldNames,
) -> std::result::Result<Doc<'a>, String> {
    match kind {
        SourceKind::Jsonl => {
            let f = parse_record(bytes, fields)?;
            let site = f.site_text();
            Ok(Doc { text_span: Some(f.text_span), id: f.id.map(Into::into), site, text: f.text })
        }
        SourceKind::Text { id } => {
            let text = super::batches::record_text(kind, bytes, fields)?;
            Ok(Doc { text, text_span: None, id: Some(json_string(id).into()), site: None })
        }
    }
}

/// Records in a row cleaned by one worker: their output lines (or, for
/// `run`, their cut log entries) and removed.jsonl lines, in two buffers,
/// and their figures. The writer thread hands each chunk back to be filled again
/// ([`ChunkPool`]) rather than freeing each record's and each cut's own
/// allocations: glibc locks the arena of every block freed off the thread
/// that allocated it, and the workers stalled on those locks.
#[derive(Default)]
pub(crate) struct CleanedChunk {
    /// Output lines, or (for `run`) cut log entries.
    pub records: Vec<u8>,
    /// `removed.jsonl` lines.
    pub removed: Vec<u8>,
    /// Each record's `(source, line)` and, for a bad one, why.
    pub(super) outcomes: Vec<(u32, u64, Option<String>)>,
    pub(super) documents_changed: u64,
    pub(super) documents_with_site: u64,
    pub(super) characters: u64,
    pub(super) characters_removed: u64,
    pub(super) rules: BTreeMap<String, RuleStats>,
    /// Per site: documents, characters, characters removed.
    pub(super) sites: rustc_hash::FxHashMap<String, [u64; 3]>,
}

/// Records a worker cleans into one [`CleanedChunk`], at most (see
/// `records_per_chunk`): enough to keep the buffers per chunk few, few
/// enough that two workers share a batch evenly.
pub(super) const RECORDS_PER_CHUNK: usize = 16;

impl CleanedChunk {
    /// The bytes its two buffers hold, used or not.
    pub(super) fn buffer_bytes(&self) -> usize {
        self.records.capacity() + self.removed.capacity()
    }

    pub(super) fn add(&mut self, source: u32, line: u64, result: std::result::Result<CleanedRecord<'_>, String>) {
        let c = match result {
            Ok(c) => c,
            Err(reason) => {
                self.outcomes.push((source, line, Some(reason)));
                return;
            }
        };
        self.outcomes.push((source, line, None));
        self.count(c);
    }

    /// Counts a document of `site` (if known): its characters and those cut.
    pub(super) fn count_site(&mut self, site: Option<&str>, characters: usize, cuts: &[CutSpan<'_>]) {
        let Some(site) = site else { return };
        let removed: usize = cuts.iter().map(|c| c.end - c.start).sum();
        let figures = match self.sites.get_mut(site) {
            Some(f) => f,
            None => self.sites.entry(site.to_string()).or_default(),
        };
        figures[0] += 1;
        figures[1] += characters as u64;
        figures[2] += removed as u64;
    }

    /// Counts a cleaned document's figures.
    pub(super) fn count(&mut self, c: CleanedRecord<'_>) {
        self.characters += c.characters;
        self.documents_with_site += u64::from(c.has_site);
        if c.cuts.is_empty() {
            return;
        }
        self.documents_changed += 1;
        for cut in &c.cuts {
            let n = (cut.end - cut.start) as u64;
            self.characters_removed += n;
            let r = match self.rules.get_mut(cut.rule) {
                Some(r) => r,
                None => self.rules.entry(cut.rule.to_string()).or_default(),
            };
            r.cuts += 1;
            r.characters += n;
        }
    }
}

/// Chunks the writer has written, for the workers to fill again: fresh
/// buffers were faulted in and, freed on the writer thread, trimmed from
/// the workers' heaps, only to be grown again for the next chunk.
#[derive(Default)]
pub(crate) struct ChunkPool {
    /// The chunks, and the bytes their buffers hold.
    pub(super) free: std::sync::Mutex<(Vec<CleanedChunk>, usize)>,
}

impl ChunkPool {
    /// About four batches' worth (each about 4 MiB of records): the chunks
    /// in flight, so workers rarely allocate. A buffer keeps the size of the
    /// largest chunk it held, so the bound is in bytes: a few huge records
    /// must not leave every pooled chunk huge.
    const MAX_BYTES: usize = 32 << 20;

    pub(crate) fn take(&self) -> CleanedChunk {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let chunk = free.0.pop().unwrap_or_default();
        free.1 -= chunk.buffer_bytes();
        chunk
    }

    pub(crate) fn give_back(&self, mut chunk: CleanedChunk) {
        chunk.records.clear();
        chunk.removed.clear();
        chunk.outcomes.clear();
        (chunk.documents_changed, chunk.documents_with_site, chunk.characters, chunk.characters_removed) = (0, 0, 0, 0);
        // The rule names stay, counted from zero: the same few come back.
        chunk.rules.values_mut().for_each(|r| *r = RuleStats::default());
        let bytes = chunk.buffer_bytes();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.1 + bytes <= ChunkPool::MAX_BYTES {
            free.0.push(chunk);
            free.1 += bytes;
        }
    }
}

/// One record, cleaned: its cuts and characters (its lines are already in
/// the chunk's buffers).
pub(super) struct CleanedRecord<'r> {
    pub(super) cuts: Vec<CutSpan<'r>>,
    pub(super) characters: u64,
    pub(super) has_site: bool,
}

thread_local! {
    /// Each worker's memory of the lines it has judged: a site's furniture
    /// is judged once a thread, not once a page, and workers share nothing.
    pub(super) static LINE_MEMO: std::cell::RefCell<LineMemo> = std::cell::RefCell::default();

    /// Each worker's own clone of the pass's cleaner (see [`own_cleaner`]).
    static OWN_CLEANER: std::cell::RefCell<Option<Cleaner>> = const { std::cell::RefCell::new(None) };
}

/// Calls `f` with this thread's own clone of `shared`, made at its first
/// use in a pass: the regexes of one cleaner keep their scratch space for
/// the first thread that asks and hand it to the others from a pool behind
/// a lock, which with two workers was 3-4% of the cleaning pass. A clone
/// shares the learned table; one made for another cleaner is replaced.
pub(super) fn own_cleaner<R>(shared: &Cleaner, f: impl FnOnce(&Cleaner) -> R) -> R {
    OWN_CLEANER.with_borrow_mut(|own| {
        let own = match own {
            Some(c) if c.is_clone_of(shared) => c,
            _ => own.insert(shared.clone()),
        };
        f(own)
    })
}

/// Frees every worker's memo (about 3 MiB) and own cleaner (with its
/// regexes' caches, up to 32 MiB each): of no use past a pass, they would
/// stay on every thread of the pool.
pub(crate) fn free_worker_state() {
    rayon::broadcast(|_| {
        LINE_MEMO.take();
        OWN_CLEANER.take();
    });
}

/// Cleans one document for `run`, whose sign pass cleans each text as it
/// signs it: logs its cuts (the cut log entry goes to `chunk.records`) and
/// its `removed.jsonl` line, counts it in `chunk`, and returns the cleaned
/// text. `id` names the document (raw JSON), asked only when it has cuts.
pub(crate) fn clean_for_signing(
    cleaner: &Cleaner,
    text: &str,
    site: Option<&str>,
    id: impl FnOnce() -> String,
    chunk: &mut CleanedChunk,
) -> String {
    own_cleaner(cleaner, |cleaner| {
        let (cleaned, cuts) = LINE_MEMO.with_borrow_mut(|memo| cleaner.clean_spans_with_memo(text, site, memo, true));
        CutLog::encode(&mut chunk.records, text.len(), cuts.iter().map(|c| (c.byte_start, c.byte_end)));
        if !cuts.is_empty() {
            push_removed_line(&mut chunk.removed, &id(), text, &cuts);
        }
        let characters = match cuts.last() {
            Some(last) => last.end + text[last.byte_end..].chars().count(),
            None => text.chars().count(),
        };
        chunk.count_site(site, characters, &cuts);
        chunk.count(CleanedRecord { cuts, characters: characters as u64, has_site: site.is_some() });
        cleaned
    })
}

/// Appends a `removed.jsonl` line, `{"id":ID,"removed":[CUT,...]}` and a
/// newline, each cut as `serde_json` writes a [`Cut`](crate::clean::Cut) (its text taken from
/// `text`), with the fast string escaper.
pub(super) fn push_removed_line(out: &mut Vec<u8>, id: &str, text: &str, cuts: &[CutSpan<'_>]) {
    out.reserve(64 + cuts.iter().map(|c| c.byte_end - c.byte_start + 48).sum::<usize>());
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b",\"removed\":[");
    for (i, cut) in cuts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"start\":");
        push_decimal(out, cut.start);
        out.extend_from_slice(b",\"end\":");
        push_decimal(out, cut.end);
        out.extend_from_slice(b",\"rule\":");
        push_json_string(out, cut.rule);
        out.extend_from_slice(b",\"text\":");
        push_json_string(out, &text[cut.byte_start..cut.byte_end]);
        match &cut.why {
            Some(Why::Learned(seen)) => {
                out.extend_from_slice(b",\"documents\":");
                push_decimal(out, seen.documents as usize);
                out.extend_from_slice(b",\"sites\":");
                push_decimal(out, seen.sites as usize);
            }
            // Rare (one cut a page, not a line) next to the rest: serde's
            // writer is fast enough here.
            Some(why) => {
                if let Ok(json) = serde_json::to_string(why) {
                    out.push(b',');
                    out.extend_from_slice(&json.as_bytes()[1..json.len() - 1]);
                }
            }
            None => {}
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
}

/// Appends `n` in decimal: `write!` went through the formatting machinery,
/// a twentieth of the cleaning workers' time, for two numbers a cut.
pub(super) fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The figures of a cleaning pass, summed chunk by chunk in input order.
#[derive(Default)]
pub(crate) struct CleanTally {
    /// The figures so far (documents and rejects are counted by the caller).
    pub summary: CleanSummary,
    /// Per site: documents, characters, characters removed.
    pub(super) sites: rustc_hash::FxHashMap<String, [u64; 3]>,
}

impl CleanTally {
    /// Adds a chunk's figures (its lines are the caller's to write).
    pub fn absorb(&mut self, chunk: &mut CleanedChunk) {
        let s = &mut self.summary;
        s.documents_changed += chunk.documents_changed;
        s.documents_with_site += chunk.documents_with_site;
        s.characters += chunk.characters;
        s.characters_removed += chunk.characters_removed;
        for (rule, r) in chunk.rules.iter().filter(|(_, r)| r.cuts > 0) {
            let total = match s.rules.get_mut(rule) {
                Some(total) => total,
                None => s.rules.entry(rule.clone()).or_default(),
            };
            total.cuts += r.cuts;
            total.characters += r.characters;
        }
        for (site, f) in chunk.sites.drain() {
            let total = self.sites.entry(site).or_default();
            total.iter_mut().zip(f).for_each(|(t, x)| *t += x);
        }
    }

    /// The summary: the sites cut from most, and warnings on the site field.
    pub fn finish(self, opts: &CleanOptions) -> CleanSummary {
        let mut s = self.summary;
        s.sites_seen = self.sites.len() as u64;
        let mut sites: Vec<SiteStats> = self
            .sites
            .into_iter()
            .map(|(site, [documents, characters, characters_removed])| SiteStats {
                site,
                documents,
                characters,
                characters_removed,
            })
            .collect();
        sites.sort_by(|a, b| b.characters_removed.cmp(&a.characters_removed).then_with(|| a.site.cmp(&b.site)));
        sites.truncate(SITES_LISTED);
        s.sites = sites;
        let read = s.documents - s.rejected;
        if let Some(field) = &opts.fields.site
            && read > 0
            && s.documents_with_site == 0
        {
            s.warnings.push(format!(
                "no record has the site field {field:?}: boilerplate was learned across the corpus only, not per site"
            ));
        } else if let Some(field) = &opts.fields.site
            && s.documents_with_site * 2 < read
        {
            // A field most records lack is likely a misspelt or sparse one.
            s.warnings.push(format!(
                "only {} of {read} records have the site field {field:?}: the others' boilerplate was learned \
                 across the corpus only",
                s.documents_with_site,
            ));
        }
        s
    }
}

/// What the summary says of the table in force and the input.
pub(super) fn table_figures(s: &mut CleanSummary, cleaner: &Cleaner, learned: bool, corpus: &Corpus) {
    s.boilerplate_lines = cleaner.table().entries().iter().filter(|e| e.kind != "story").count();
    s.stray_tokens = cleaner.table().stray_entries().iter().map(|e| e.token.clone()).collect();
    s.table_learned = learned;
    s.input_bytes = corpus.total_bytes();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_of(bytes: usize) -> CleanedChunk {
        CleanedChunk { records: Vec::with_capacity(bytes), ..CleanedChunk::default() }
    }

    #[test]
    fn rules_that_do_not_compile_fail_the_clean_with_their_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        let lines: String =
            (0..50).map(|i| format!("{{\"id\":\"{i}\",\"text\":\"Story {i}.\\nShare this\"}}\n")).collect();
        std::fs::write(&input, lines).unwrap();
        let mut opts = CleanOptions::default();
        opts.rules.caption.extra_patterns.push("(unclosed".into());
        let err = crate::pipeline::clean_files(&[crate::input::Input::Path(input)], &dir.path().join("out"), &opts)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unclosed") && !err.contains("learning stopped"), "{err}");
    }

    #[test]
    fn decimals_are_written_as_format_writes_them() {
        for n in [0, 7, 10, 99, 100, 12_345, usize::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn the_chunk_pool_holds_at_most_its_bytes_and_gives_chunks_back_empty() {
        let pool = ChunkPool::default();
        let mut used = chunk_of(1 << 10);
        used.records.extend_from_slice(b"{\"text\":\"x\"}\n");
        used.outcomes.push((0, 1, None));
        used.rules.insert("prompt".into(), RuleStats { cuts: 2, characters: 9 });
        pool.give_back(used);
        let back = pool.take();
        assert!(back.records.is_empty() && back.outcomes.is_empty() && back.records.capacity() >= 1 << 10);
        assert_eq!(back.rules.get("prompt"), Some(&RuleStats::default()));
        // A chunk grown by a huge record is not kept, nor one past the bound.
        pool.give_back(chunk_of(ChunkPool::MAX_BYTES + 1));
        for _ in 0..64 {
            pool.give_back(chunk_of(ChunkPool::MAX_BYTES / 16));
        }
        let (kept, bytes) = {
            let free = pool.free.lock().unwrap();
            (free.0.len(), free.1)
        };
        assert!(bytes <= ChunkPool::MAX_BYTES && kept <= 16, "{kept} chunks, {bytes} bytes");
        assert_eq!(bytes, (0..kept).map(|_| pool.take().buffer_bytes()).sum::<usize>());
        assert_eq!(pool.free.lock().unwrap().1, 0);
    }
}
