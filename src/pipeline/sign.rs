//! The sign pass: every record is read once, its text (cleaned first
//! under `doppel run`) shingled and MinHash-signed in parallel, and its
//! exact shingle set logged for verification; and the second read that
//! builds those sets instead when the log could not be kept.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::batches::{Rejected, Rejects, for_each_batch_into, record_text, records_per_chunk};
use super::cleaning::{ChunkPool, CleanTally, CleanedChunk, clean_for_signing};
use super::cuts::CutLog;
use super::engine::Signatures;
use super::files::Upstream;
use super::options::{ExactSets, JobOptions};
use super::walk::{CutWalk, DocWalk, RecordCuts, RejectMatch, changed, input_changed, read_cuts};
use crate::clean::Cleaner;
use crate::config::KeepRule;
use crate::input::{Batch, Corpus, FieldNames, RawRecord, SourceKind, fallback_id, own_id, parse_record};
use crate::minhash::{MinHasher, SignScratch};
use crate::progress::Progress;
use crate::shingle::Shingling;
use crate::verify::{SetLog, SpilledSets, Verify};
use crate::{Error, Result};

pub(super) enum Outcome {
    Doc {
        chars: usize,
        shingles: usize,
        id: Option<String>,
        // The hash of the record's own id (`None` when it has none and is
        // named FILE:LINE), to find ids given twice.
        id_hash: Option<u64>,
        // Its date, when a keep rule asks for dates and it has one.
        date: Option<i64>,
        // Its rank in the priority list (`None` without a list).
        rank: Option<u32>,
    },
    Bad(String),
    /// Rejected before dedup, and reported there.
    PassedOver,
    /// Readable, but not the text that was cleaned: the input changed.
    Changed(String),
}

/// Records a worker signs at a time in the sign pass, at most, their sets
/// built in one buffer (see `SetLog::append_documents`): enough that the
/// log holds a buffer (and the writer frees one) every 16 news articles,
/// not every article.
pub(super) const SIGN_RUN_RECORDS: usize = 16;

/// What the sign pass needs to sign the records of one batch.
pub(super) struct BatchSigner<'a> {
    pub(super) corpus: &'a Corpus,
    pub(super) batch: &'a Batch,
    pub(super) opts: &'a JobOptions,
    // The job's fields, and the priority list's.
    pub(super) fields: &'a FieldNames,
    pub(super) hasher: &'a MinHasher,
    /// Per record: rejected before dedup, and passed over here.
    pub(super) passed: &'a [bool],
    pub(super) cuts: &'a RecordCuts<'a>,
    pub(super) with_ids: bool,
    /// Whether each document's shingle hashes are appended to the run's set.
    pub(super) with_sets: bool,
    /// Whether each document's date is read (for `--keep earliest|latest`).
    pub(super) with_dates: bool,
    /// The cleaner, when each text is cleaned before it is signed (`run`).
    pub(super) cleaner: Option<&'a Cleaner>,
}

impl BatchSigner<'_> {
    /// Signs record `i` of the batch, `rec`, into `sig`, appending its
    /// shingle hashes to `set` when sets are kept. With a cleaner, the text
    /// is cleaned first, its cuts and figures going to `cleaned`.
    pub(super) fn sign(
        &self,
        i: usize,
        rec: &RawRecord,
        scratch: &mut SignScratch,
        sig: &mut [u32],
        set: &mut Vec<u32>,
        cleaned: &mut CleanedChunk,
    ) -> Outcome {
        if self.passed[i] {
            return Outcome::PassedOver;
        }
        let kind = &self.corpus.sources[rec.source as usize].kind;
        let bytes = self.batch.bytes(rec);
        let fields = self.fields;
        let priority = self.opts.keep_priority.as_ref();
        let read = match kind {
            SourceKind::Text { id } => record_text(kind, bytes, fields).map(|t| {
                let rank = priority.map(|p| p.rank(None));
                let json = crate::input::json_string(id);
                let hash = Some(xxh3_64(json.as_bytes()));
                (t, self.with_ids.then(|| json.clone()), hash, None, rank, None, Some(Cow::Owned(json)))
            }),
            SourceKind::Jsonl => parse_record(bytes, fields).map(|f| {
                let date = f.date.filter(|_| self.with_dates).and_then(crate::dates::parse_raw_json_date);
                let rank = priority.map(|p| p.rank(f.priority));
                let hash = f.id.map(|raw| xxh3_64(raw.as_bytes()));
                let site = f.site_text().filter(|_| self.cleaner.is_some());
                // Borrowed: the removed.jsonl line that names it is rare.
                let raw_id = f.id.map(Cow::Borrowed);
                (f.text, f.id.filter(|_| self.with_ids).map(str::to_owned), hash, date, rank, site, raw_id)
            }),
        };
        let (text, id, id_hash, date, rank, site, raw_id) = match read {
            Ok(read) => read,
            Err(reason) => return Outcome::Bad(reason),
        };
        let text = match self.cleaner {
            Some(cleaner) => {
                let source = &self.corpus.sources[rec.source as usize];
                let id = || raw_id.map_or_else(|| fallback_id(source, rec.line), Cow::into_owned);
                Cow::Owned(clean_for_signing(cleaner, &text, site.as_deref(), id, cleaned))
            }
            // A readable record whose text no longer fits its cuts has changed.
            None => match self.cuts.apply(i, text) {
                Ok(text) => text,
                Err(reason) => return Outcome::Changed(reason),
            },
        };
        let shingles = match self.with_sets {
            true => self.hasher.sign_appending_fingerprints(&text, scratch, sig, set),
            false => self.hasher.sign_into(&text, scratch, sig),
        };
        Outcome::Doc { chars: text.chars().count(), shingles, id, id_hash, date, rank }
    }
}

pub(super) struct SignPass {
    pub(super) signatures: Signatures,
    pub(super) rejected: Vec<Rejected>,
    pub(super) empty: u64,
    // The documents with no words, when they are dropped (`drop_empty`):
    // listed in `rejected.jsonl` after the others.
    pub(super) dropped: Vec<Rejected>,
    // Every document's exact set, when they were logged.
    pub(super) sets: Option<SetLog>,
    // Every document's id, a line each, when only the lists are written:
    // they are then written without reading the corpus again.
    pub(super) ids: Option<IdLog>,
    pub(super) warnings: Vec<String>,
    // The cleaning's figures, when the pass cleaned (`run`).
    pub(super) cleaned: Option<CleanTally>,
}

/// The raw JSON id of every document, one a line in document order (JSON
/// has no raw line breaks), in an unnamed temporary file: a few bytes a
/// document on disk, none in memory. A record without an id gets its
/// `FILE:LINE` id.
pub(super) struct IdLog {
    pub(super) file: crate::spill::SpillFile,
}

impl IdLog {
    /// The line of one document.
    pub(super) fn line(source: &crate::input::Source, line: u64, id: Option<String>, out: &mut Vec<u8>) {
        out.extend_from_slice(id.unwrap_or_else(|| fallback_id(source, line)).as_bytes());
        out.push(b'\n');
    }

    /// The ids of `docs` (sorted document indices), in that order.
    pub(super) fn ids_of(&self, docs: &[u32]) -> std::io::Result<Vec<String>> {
        use std::io::BufRead;
        let mut ids = Vec::with_capacity(docs.len());
        let mut reader = self.file.reader();
        let mut line = Vec::new();
        for doc in 0u32.. {
            let Some(&want) = docs.get(ids.len()) else { break };
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Err(std::io::Error::other("internal: the id log ends before the documents signed"));
            }
            if doc != want {
                continue;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            ids.push(String::from_utf8_lossy(text).into_owned());
        }
        Ok(ids)
    }
}

/// The set log's expected size: 4 bytes a shingle, about one word shingle
/// per 6 bytes of input (0.6 GB for 1 GB of news) and one character
/// shingle a byte.
pub(super) fn estimated_set_log_bytes(decoded_bytes: u64, shingling: Shingling) -> u64 {
    match shingling {
        Shingling::Words(_) => decoded_bytes / 6 * 4,
        Shingling::Chars(_) => decoded_bytes.saturating_mul(4),
    }
}

/// Whether `available` bytes hold the set log and, beside it, the outputs.
pub(super) fn set_log_fits(available: u64, log_bytes: u64, output_bytes: u64) -> bool {
    log_bytes.saturating_add(output_bytes) <= available
}

/// Why the set log is not kept in `dir`, when its free space would not hold
/// the log and the outputs: the sets are then built by a second read from
/// the start, rather than after the disk has filled. `None` when there is
/// room, or the free space cannot be told (the fallback on a full disk
/// still stands).
pub(super) fn set_log_room_warning(corpus: &Corpus, opts: &JobOptions, dir: &Path) -> Option<String> {
    let available = fs4::available_space(dir).ok()?;
    let decoded = corpus.estimated_decoded_bytes();
    let log = estimated_set_log_bytes(decoded, opts.dedup.shingling);
    // deduped.jsonl is at most the input; the lists alone are small.
    let outputs = if opts.duplicates_only { 0 } else { decoded };
    let mb = |b: u64| b.div_ceil(1 << 20);
    (!set_log_fits(available, log, outputs)).then(|| {
        format!(
            "{} has {} MiB free, and logging exact shingle sets would take about {} MiB (the outputs about {} MiB); \
             they are built by reading the candidate documents again instead (as --exact-sets reread does)",
            dir.display(),
            mb(available),
            mb(log),
            mb(outputs)
        )
    })
}

/// True for the write errors that mean the disk has no room, after which
/// the set log is given up rather than the run.
pub(super) fn is_disk_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    // A file system's size limit for one file (FAT32's 4 GiB) is no room too.
    matches!(e.kind(), StorageFull | QuotaExceeded | FileTooLarge)
}

pub(super) fn sign_pass(
    corpus: &Corpus,
    opts: &JobOptions,
    hasher: &MinHasher,
    progress: Progress,
    spill_dir: &Path,
    upstream: &Upstream<'_>,
    fusing: Option<Fusing<'_>>,
) -> Result<SignPass> {
    let k = opts.dedup.num_perm;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), if fusing.is_some() { "cleaning and signing" } else { "signing" });
    // Whether the texts signed are cleaned ones, for what the warnings say.
    let cleaned_texts = fusing.is_some() || upstream.cuts.is_some();
    let cleaner = fusing.as_ref().map(|f| f.cleaner);
    // Cleaned chunks' buffers go back to the workers once written.
    let chunk_pool = ChunkPool::default();
    // Exact verification needs only the band keys: 72 bytes a document
    // instead of 512 with the defaults.
    let mut signatures = match opts.dedup.verify {
        Verify::Exact => Signatures::band_keys_only(k, opts.dedup.bands(), opts.dedup.rows()),
        Verify::Estimate => Signatures::new(k),
    };
    if let Some(limit) = opts.memory_limit_bytes {
        signatures.limit_band_memory(limit, spill_dir);
    }
    let mut warnings = Vec::new();
    let log = match (opts.dedup.verify, opts.exact_sets) {
        (Verify::Exact, ExactSets::Keep) => match set_log_memory_budget(corpus, opts) {
            // A log expected to stay in memory needs no room on disk.
            0 => match set_log_room_warning(corpus, opts, spill_dir) {
                None => Some(SetLog::create(spill_dir, 0).map_err(|e| Error::io(spill_dir, e))?),
                Some(warning) => {
                    warnings.push(warning);
                    None
                }
            },
            budget => Some(SetLog::create(spill_dir, budget).map_err(|e| Error::io(spill_dir, e))?),
        },
        _ => None,
    };
    // Cleared when the log is given up, so that workers stop building sets.
    let logging = std::sync::atomic::AtomicBool::new(log.is_some());
    let ids = match opts.duplicates_only {
        true => Some(IdLog { file: crate::spill::SpillFile::create(spill_dir).map_err(|e| Error::io(spill_dir, e))? }),
        false => None,
    };
    let with_ids = ids.is_some();
    let mut pass = SignPass {
        signatures,
        rejected: Vec::new(),
        empty: 0,
        dropped: Vec::new(),
        sets: None,
        ids: None,
        warnings,
        cleaned: None,
    };
    // Records without an id of their own: named FILE:LINE, and said so.
    let mut without_id = 0u64;
    // Records without a date a keep rule can read: never preferred, counted,
    // the first few named.
    let with_dates = matches!(opts.dedup.keep, KeepRule::Earliest | KeepRule::Latest);
    let (mut without_date, mut undated) = (0u64, Vec::new());
    // Ids met so far, by hash (8 bytes and a little a document): a record
    // whose id was met before is counted, the first few named, so that a
    // user never loses track of which record a cluster's id means.
    let mut ids_seen = rustc_hash::FxHashSet::<u64>::default();
    let (mut given_twice, mut twice_named) = (0u64, Vec::new());
    // Records whose priority field holds none of the listed values.
    let mut unlisted = 0u64;
    // Documents with no words (a placeholder brief, a page the cleaner
    // emptied): kept, never clustered, and named so that nobody indexes a
    // blank page unknowingly.
    let mut empty_named = Vec::new();
    let mut rejects = Rejects::new(corpus, opts.skip_bad);
    let mut passed_over = RejectMatch::new(&upstream.rejected);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let mut sigs = Vec::new();
    let fields = FieldNames { priority: opts.keep_priority.as_ref().map(|p| p.field.clone()), ..opts.fields.clone() };
    // Sets are written on a thread of their own, a batch behind, so that
    // the workers never wait for the disk.
    let ((log, warning), ids, tally) = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            sigs.clear();
            sigs.resize(batch.records.len() * k, 0u32);
            let with_sets = logging.load(Ordering::Relaxed);
            let passed: Vec<bool> = batch.records.iter().map(|r| passed_over.takes(r.source, r.line)).collect();
            let cuts = read_cuts(&mut cut_walk, passed.iter().map(|p| !p), corpus, spill_dir)?;
            let batch_signer = BatchSigner {
                corpus,
                batch: &batch,
                opts,
                fields: &fields,
                hasher,
                passed: &passed,
                cuts: &cuts,
                with_ids,
                with_sets,
                with_dates,
                cleaner,
            };
            // Records are signed a run at a time, their sets built back to
            // back in one buffer that the log keeps as it is.
            let run_records = records_per_chunk(batch.records.len(), SIGN_RUN_RECORDS);
            let runs: Vec<(Vec<Outcome>, Vec<u32>, CleanedChunk)> = sigs
                .par_chunks_mut(k * run_records)
                .zip(batch.records.par_chunks(run_records).enumerate())
                .map_init(SignScratch::default, |scratch, (run_sigs, (run, recs))| {
                    let mut set = Vec::new();
                    if with_sets {
                        // About one shingle per 6 bytes of news text, and a
                        // record is at least as long as its text.
                        set.reserve(recs.iter().map(|rec| (rec.end - rec.start) / 5 + 1).sum());
                    }
                    let mut cleaned = match cleaner {
                        Some(_) => chunk_pool.take(),
                        None => CleanedChunk::default(),
                    };
                    let outcomes = recs
                        .iter()
                        .zip(run_sigs.chunks_mut(k))
                        .enumerate()
                        .map(|(j, (rec, sig))| {
                            batch_signer.sign(run * run_records + j, rec, scratch, sig, &mut set, &mut cleaned)
                        })
                        .collect();
                    set.shrink_to_fit();
                    (outcomes, set, cleaned)
                })
                .collect();
            let mut sets = Vec::with_capacity(if with_sets { runs.len() } else { 0 });
            let mut id_lines = Vec::new();
            let mut cleaned_chunks = Vec::with_capacity(if cleaner.is_some() { runs.len() } else { 0 });
            let mut records = batch.records.iter().zip(sigs.chunks(k));
            for (outcomes, set, cleaned) in runs {
                if cleaner.is_some() {
                    cleaned_chunks.push(cleaned);
                }
                let mut documents = 0;
                for (outcome, (rec, sig)) in outcomes.into_iter().zip(records.by_ref()) {
                    match outcome {
                        Outcome::Doc { chars, shingles, id, id_hash, date, rank } => {
                            without_id += u64::from(id_hash.is_none());
                            if let Some(h) = id_hash
                                && !ids_seen.insert(h)
                            {
                                given_twice += 1;
                                if twice_named.len() < 3 {
                                    let source = &corpus.sources[rec.source as usize];
                                    let id = own_id(source, batch.bytes(rec), &fields).unwrap_or_default();
                                    twice_named.push(format!("{id} at {}:{}", source.name, rec.line));
                                }
                            }
                            if with_dates && date.is_none() {
                                without_date += 1;
                                if undated.len() < 3 {
                                    undated.push(format!("{}:{}", corpus.sources[rec.source as usize].name, rec.line));
                                }
                            }
                            if with_sets && u32::try_from(shingles).is_err() {
                                let e = std::io::Error::other("a document has more than 2^32 shingles");
                                return Err(Error::io(spill_dir, e));
                            }
                            if with_ids {
                                IdLog::line(&corpus.sources[rec.source as usize], rec.line, id, &mut id_lines);
                            }
                            pass.signatures.push(sig, chars, shingles);
                            if with_dates {
                                pass.signatures.push_date(date);
                            }
                            if let Some(rank) = rank {
                                pass.signatures.push_rank(rank);
                                unlisted += u64::from(
                                    rank as usize == opts.keep_priority.as_ref().map_or(0, |p| p.values.len()),
                                );
                            }
                            pass.signatures.spill_bands_if_full().map_err(|e| Error::io(spill_dir, e))?;
                            pass.empty += u64::from(shingles == 0);
                            if shingles == 0 && opts.drop_empty {
                                let file = corpus.sources[rec.source as usize].name.clone();
                                let reason = if cleaned_texts { "empty once cleaned" } else { "empty" };
                                pass.dropped.push(Rejected {
                                    source: rec.source,
                                    file,
                                    line: rec.line,
                                    reason: reason.into(),
                                });
                            }
                            if shingles == 0 && empty_named.len() < 3 {
                                empty_named.push(format!("{}:{}", corpus.sources[rec.source as usize].name, rec.line));
                            }
                            documents += 1;
                        }
                        Outcome::Bad(reason) => rejects.record(rec.source, rec.line, reason)?,
                        Outcome::Changed(reason) => {
                            return Err(changed(corpus, rec.source, &format!("line {}: {reason}", rec.line)));
                        }
                        Outcome::PassedOver => {}
                    }
                }
                if with_sets {
                    sets.push((set, documents));
                }
            }
            if let Some(f) = batch.failure
                && !passed_over.takes(f.source, f.line)
            {
                rejects.failure(f)?;
            }
            bar.set_position(counter.load(Ordering::Relaxed));
            bar.set_message(format!("{} docs", pass.signatures.len()));
            Ok((sets, id_lines, cleaned_chunks))
        },
        |batches| {
            let mut ids = ids;
            let mut fusing = fusing;
            let mut tally = fusing.as_ref().map(|_| CleanTally::default());
            let mut sets = SetLogging { log, warning: None, logging: &logging, spill_dir };
            for (batch_sets, id_lines, cleaned_chunks) in batches {
                if let Some(log) = ids.as_mut() {
                    // The id log is a few bytes a document: a full disk
                    // here is an error like any other.
                    log.file.append(&id_lines).map_err(|e| Error::io(spill_dir, e))?;
                }
                sets.add(batch_sets)?;
                if let (Some(f), Some(tally)) = (fusing.as_mut(), tally.as_mut()) {
                    for mut chunk in cleaned_chunks {
                        f.log.append(&chunk.records).map_err(|e| Error::io(spill_dir, e))?;
                        f.removed.write_all(&chunk.removed)?;
                        tally.absorb(&mut chunk);
                        chunk_pool.give_back(chunk);
                    }
                }
            }
            if let Some(log) = ids.as_mut() {
                log.file.finish().map_err(|e| Error::io(spill_dir, e))?;
            }
            if let Some(f) = fusing.as_mut() {
                f.log.finish().map_err(|e| Error::io(spill_dir, e))?;
            }
            Ok((sets.finish()?, ids, tally))
        },
    )?;
    pass.ids = ids;
    pass.cleaned = tally;
    // Every record the cleaner saw was met again.
    if let Some(walk) = cut_walk.as_mut() {
        walk.finish(corpus, spill_dir)?;
    }
    if !passed_over.all_taken() {
        return Err(input_changed(corpus, "a record rejected when it was cleaned is gone"));
    }
    // A batch signed before the log was given up may have sent no sets: the
    // log is complete or absent.
    if let Some(l) = &log
        && l.documents() != pass.signatures.len()
    {
        return Err(Error::internal(format!(
            "{} sets logged for {} documents signed",
            l.documents(),
            pass.signatures.len()
        )));
    }
    pass.sets = log;
    pass.warnings.extend(warning);
    let documents = pass.signatures.len() as u64;
    if without_id > 0 {
        let field = &opts.fields.id;
        let which = if without_id == documents {
            "no record has".to_string()
        } else {
            format!("{without_id} of {documents} records have no")
        };
        pass.warnings.push(format!("{which} id field {field:?} (or a null one): they are named FILE:LINE"));
    }
    if given_twice > 0 {
        let more = if given_twice > twice_named.len() as u64 { ", ..." } else { "" };
        pass.warnings.push(format!(
            "{given_twice} records repeat an id an earlier record has ({}{more}): clusters.jsonl and removed \
             lists name them by id, so these are ambiguous there",
            twice_named.join(", ")
        ));
    }
    if pass.empty > 0 && !opts.drop_empty {
        let more = if pass.empty > empty_named.len() as u64 { ", ..." } else { "" };
        let cleaned = if cleaned_texts { " once cleaned" } else { "" };
        pass.warnings.push(format!(
            "{} of {documents} documents have no words{cleaned} ({}{more}): they are kept and never clustered",
            pass.empty,
            empty_named.join(", ")
        ));
    }
    if without_date > 0 {
        let field = opts.fields.date.as_deref().unwrap_or_default();
        let more = if without_date > undated.len() as u64 { ", ..." } else { "" };
        pass.warnings.push(format!(
            "{without_date} of {documents} records have no date in field {field:?} that doppel can read ({}{more}): \
             they are kept only where no copy has one",
            undated.join(", ")
        ));
    }
    if let Some(p) = &opts.keep_priority
        && unlisted == documents
        && documents > 0
    {
        pass.warnings.push(format!(
            "no record's field {:?} holds one of the --keep-priority values ({}): the priority decides nothing",
            p.field,
            p.values.join(", ")
        ));
    }
    bar.finish_and_clear();
    pass.rejected = rejects.list;
    Ok(pass)
}

/// The set log as the sign pass's writer thread keeps it. A full disk
/// gives the log up (which frees its disk at once: the file has no name),
/// clears `logging` so that the workers stop building sets, and says so in
/// the warning; any other write error ends the run.
pub(super) struct SetLogging<'a> {
    pub(super) log: Option<SetLog>,
    pub(super) warning: Option<String>,
    pub(super) logging: &'a std::sync::atomic::AtomicBool,
    pub(super) spill_dir: &'a Path,
}

impl SetLogging<'_> {
    /// Appends one batch's sets, in document order: runs of documents'
    /// sets back to back, each with its number of documents.
    pub(super) fn add(&mut self, sets: Vec<(Vec<u32>, usize)>) -> Result<()> {
        let Some(log) = self.log.as_mut() else { return Ok(()) };
        for (set, documents) in sets {
            if let Err(e) = log.append_documents(set, documents) {
                return self.give_up(e);
            }
        }
        Ok(())
    }

    /// The log, complete, or `None` if it was given up; and the warning.
    pub(super) fn finish(mut self) -> Result<(Option<SetLog>, Option<String>)> {
        // The buffered tail is written here, and may be what meets a full disk.
        if let Some(Err(e)) = self.log.as_mut().map(SetLog::finish) {
            self.give_up(e)?;
        }
        Ok((self.log, self.warning))
    }

    pub(super) fn give_up(&mut self, e: std::io::Error) -> Result<()> {
        if !is_disk_full(&e) {
            return Err(Error::io(self.spill_dir, e));
        }
        self.warning = Some(format!(
            "the disk in {} filled up while logging exact shingle sets ({e}); \
             they were built by reading the candidate documents again instead \
             (--exact-sets reread does this from the start)",
            self.spill_dir.display()
        ));
        self.logging.store(false, Ordering::Relaxed);
        self.log = None;
        Ok(())
    }
}

/// Appends each batch's sets to `log`, as the sign pass's writer does (see
/// [`SetLogging`]).
#[cfg(test)]
pub(super) fn log_batches(
    log: Option<SetLog>,
    batches: impl IntoIterator<Item = Vec<(Vec<u32>, usize)>>,
    logging: &std::sync::atomic::AtomicBool,
    spill_dir: &Path,
) -> Result<(Option<SetLog>, Option<String>)> {
    let mut sets = SetLogging { log, warning: None, logging, spill_dir };
    for batch in batches {
        sets.add(batch)?;
    }
    sets.finish()
}

/// What the sign pass needs to clean as it signs (see [`Cleaning`]).
pub(super) struct Fusing<'a> {
    pub(super) cleaner: &'a Cleaner,
    pub(super) log: &'a mut CutLog,
    pub(super) removed: &'a mut crate::output::OutputFile,
}

/// Bytes of the set log held in memory before it moves to a file.
pub(super) const SET_LOG_MEMORY_BYTES: u64 = 256 << 20;

/// How many bytes of the set log to hold in memory: all of it when it is
/// expected to take at most [`SET_LOG_MEMORY_BYTES`], else none, so that a
/// big corpus writes its log to disk from the start and never holds the
/// budget at all. Under `--memory-limit` the log goes to disk. A log that
/// outgrows the estimate moves to a file when it passes the budget.
pub(super) fn set_log_memory_budget(corpus: &Corpus, opts: &JobOptions) -> u64 {
    let expected = estimated_set_log_bytes(corpus.estimated_decoded_bytes(), opts.dedup.shingling);
    match opts.memory_limit_bytes.is_none() && expected <= SET_LOG_MEMORY_BYTES {
        true => SET_LOG_MEMORY_BYTES,
        false => 0,
    }
}

/// Pass 2 of exact verification: the shingle sets of `docs` (sorted),
/// spilled to an unnamed file in `dir`.
pub(super) fn exact_sets(
    corpus: &Corpus,
    opts: &JobOptions,
    pass: &SignPass,
    upstream: &Upstream<'_>,
    docs: &[u32],
    progress: Progress,
    dir: &Path,
) -> Result<SpilledSets> {
    let mut sets = SpilledSets::create(dir).map_err(|e| Error::io(dir, e))?;
    if docs.is_empty() {
        sets.finish().map_err(|e| Error::io(dir, e))?;
        return Ok(sets);
    }
    let config = &opts.dedup;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "verifying");
    let mut walk = DocWalk::new(corpus, pass, upstream);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let mut next = 0usize;
    // Sets are built on the workers and written on a thread of their own, a
    // batch behind, so the workers never wait for the disk.
    let sets = for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            let assigned = walk.assign(&batch)?;
            let cuts = read_cuts(&mut cut_walk, assigned.iter().map(Option::is_some), corpus, dir)?;
            let mut wanted = Vec::new();
            for (i, doc) in assigned.iter().enumerate() {
                if let Some(d) = *doc
                    && docs.get(next) == Some(&d)
                {
                    wanted.push((d, i));
                    next += 1;
                }
            }
            let encoded = wanted
                .par_iter()
                .map(|&(d, i)| {
                    let rec = &batch.records[i];
                    let kind = &corpus.sources[rec.source as usize].kind;
                    let text = record_text(kind, batch.bytes(rec), &opts.fields)
                        .map_err(|_| changed(corpus, rec.source, "a record readable in the first pass is not"))?;
                    let text = cuts
                        .apply(i, text)
                        .map_err(|e| changed(corpus, rec.source, &format!("line {}: {e}", rec.line)))?;
                    let mut fingerprints = Vec::new();
                    crate::shingle::shingle_fingerprints(&text, config.shingling, config.seed, &mut fingerprints);
                    Ok((d, fingerprints))
                })
                .collect::<Result<Vec<_>>>()?;
            bar.set_position(counter.load(Ordering::Relaxed));
            Ok(encoded)
        },
        |batches| {
            for (doc, set) in batches.into_iter().flatten() {
                sets.push(doc, &set).map_err(|e| Error::io(dir, e))?;
            }
            sets.finish().map_err(|e| Error::io(dir, e))?;
            Ok(sets)
        },
    )?;
    walk.finish()?;
    bar.finish_and_clear();
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_log_is_kept_only_where_it_and_the_outputs_fit() {
        let gb = 1u64 << 30;
        let log = estimated_set_log_bytes(gb, Shingling::Words(5));
        assert!(log > gb / 2 && log < gb, "{log}");
        assert_eq!(estimated_set_log_bytes(gb, Shingling::Chars(5)), 4 * gb);
        assert!(set_log_fits(2 * gb, log, gb));
        assert!(!set_log_fits(gb + gb / 2, log, gb));
        assert!(set_log_fits(gb, log, 0));
        assert!(!set_log_fits(u64::MAX - 1, u64::MAX, 1));
    }

    #[test]
    fn a_full_disk_gives_the_set_log_up_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let logging = std::sync::atomic::AtomicBool::new(true);
        // Runs of documents' sets, back to back, with their counts.
        let batches = || vec![vec![(vec![1u32, 2, 3, 4], 2)], vec![(vec![5, 6], 1)], vec![(vec![7], 1)]];
        // Room for everything: the log holds every document.
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        assert_eq!(log.map(|l| l.documents()), Some(4));
        assert!(warning.is_none() && logging.load(Ordering::Relaxed));
        // Room for the first batch only: the log goes, the workers are told,
        // the warning names the directory, and the run goes on.
        crate::spill::tests::set_disk_room(4 * 4);
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        crate::spill::tests::set_disk_room(u64::MAX);
        assert!(log.is_none());
        assert!(!logging.load(Ordering::Relaxed));
        let warning = warning.unwrap();
        assert!(warning.contains("filled up") && warning.contains(&dir.path().display().to_string()), "{warning}");
        // Nothing is left on disk.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Room for every append, but not for the buffered tail: the same.
        logging.store(true, Ordering::Relaxed);
        crate::spill::tests::fail_next_flush();
        let log = SetLog::create(dir.path(), 0).unwrap();
        let (log, warning) = log_batches(Some(log), batches(), &logging, dir.path()).unwrap();
        assert!(log.is_none() && warning.is_some() && !logging.load(Ordering::Relaxed));
    }
}
