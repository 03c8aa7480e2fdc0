//! The write pass and the lists: `deduped.jsonl` (or `annotated.jsonl`)
//! copied record by record, `clusters.jsonl` with each member's id and
//! similarity, `rejected.jsonl`, and `report.html`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::batches::{for_each_batch_into, record_text, records_per_chunk};
use super::engine::{DedupOutcome, Signatures};
use super::files::Upstream;
use super::options::JobOptions;
use super::sign::SignPass;
use super::walk::{CutWalk, DocWalk, RecordCuts, changed, read_cuts};
use crate::cluster::DocIndex;
use crate::config::{DedupConfig, KeepRule};
use crate::input::{Corpus, FieldNames, SourceKind, fallback_id, own_id, parse_record, push_json_string};
use crate::output::OutputSet;
use crate::progress::Progress;
use crate::{Error, Result};

/// What the write pass reads: the job and everything the passes before it found.
pub(super) struct Finished<'a> {
    pub(super) corpus: &'a Corpus,
    pub(super) opts: &'a JobOptions,
    pub(super) pass: &'a SignPass,
    pub(super) outcome: &'a DedupOutcome,
    pub(super) progress: Progress,
    pub(super) upstream: &'a Upstream<'a>,
}

/// Second pass: kept records, cluster ids, rejects.
pub(super) fn write_outputs(job: &Finished<'_>, outputs: &mut OutputSet) -> Result<std::time::Duration> {
    crate::failpoint::hit("write_pass");
    let Finished { opts, pass, outcome, .. } = *job;
    let started = Instant::now();
    // A deduped.jsonl of an earlier run is not committed with these lists
    // (the output directory is replaced whole), unless it is what this run
    // read: an input is never removed (see `OutputSet::keep_inputs`).
    let deduped = match (opts.duplicates_only, opts.annotate) {
        (true, _) => None,
        (false, false) => Some(outputs.create("deduped.jsonl")?),
        (false, true) => Some(outputs.create("annotated.jsonl")?),
    };
    // Ids are needed only for clustered documents: collect them on the way.
    let mut clustered: Vec<u32> = outcome
        .clusters
        .iter()
        .flat_map(|c| std::iter::once(c.kept.0).chain(c.duplicates.iter().map(|d| d.doc.0)))
        .collect();
    clustered.sort_unstable();
    // The largest clusters' members, whose texts the report shows.
    let largest = largest_clusters(outcome);
    let mut shown: Vec<u32> = largest
        .iter()
        .flat_map(|c| std::iter::once(c.kept.0).chain(c.duplicates.iter().take(REPORT_COPIES).map(|d| d.doc.0)))
        .collect();
    shown.sort_unstable();
    let mut texts = std::collections::HashMap::new();
    let ids = match (deduped, &pass.ids) {
        // Only the lists: the ids were logged while signing, and the
        // corpus is not read again (unless fields are to be shown).
        (None, Some(log)) if opts.show_fields.is_empty() => {
            log.ids_of(&clustered).map_err(|e| Error::io(outputs.dir(), e))?
        }
        _ => {
            let mut ids = Vec::with_capacity(clustered.len());
            copy_kept_and_collect_ids(job, outputs, deduped, &clustered, &mut ids, &shown, &mut texts)?;
            ids
        }
    };
    write_lists(job, outputs, &clustered, &ids)?;
    write_report(job, outputs, &clustered, &ids, &largest, &texts)?;
    outputs.sync()?;
    Ok(started.elapsed())
}

/// The pass that copies the kept records to `deduped` (when it is asked
/// for) and collects the ids of the `clustered` documents on the way.
///
/// A kept record is copied byte for byte, unless cuts were handed over
/// (`doppel run`): it is then written with its text cleaned, as `doppel
/// clean` writes it. Workers make the lines, a chunk of records each, and
/// a thread of its own writes them, a batch behind.
pub(super) fn copy_kept_and_collect_ids(
    job: &Finished<'_>,
    outputs: &mut OutputSet,
    deduped: Option<usize>,
    clustered: &[u32],
    ids: &mut Vec<String>,
    shown: &[u32],
    texts: &mut std::collections::HashMap<u32, String>,
) -> Result<()> {
    let Finished { corpus, opts, pass, outcome, progress, upstream } = *job;
    let counter = Arc::new(AtomicU64::new(0));
    let bar = progress.bytes(corpus.total_bytes(), "writing");
    let dir = outputs.dir().to_path_buf();
    let mut walk = DocWalk::new(corpus, pass, upstream);
    let mut cut_walk = CutWalk::new(upstream.cuts.as_ref());
    let out = deduped.map(|d| outputs.file(d));
    // Each clustered document's cluster, the line of `clusters.jsonl`.
    let cluster_of: std::collections::HashMap<u32, usize> = match opts.annotate {
        true => outcome
            .clusters
            .iter()
            .enumerate()
            .flat_map(|(n, c)| std::iter::once((c.kept.0, n)).chain(c.duplicates.iter().map(move |d| (d.doc.0, n))))
            .collect(),
        false => Default::default(),
    };
    for_each_batch_into(
        corpus,
        &counter,
        |batch| {
            let assigned = walk.assign(&batch)?;
            // Records of the report's clusters: their texts, cleaned as the
            // run cleaned them once the batch's cuts are read.
            let mut shown_here = Vec::new();
            for (i, (rec, doc)) in batch.records.iter().zip(&assigned).enumerate() {
                if doc.is_some() && clustered.get(ids.len()) == doc.as_ref() {
                    let source = &corpus.sources[rec.source as usize];
                    let bytes = batch.bytes(rec);
                    let mut id = own_id(source, bytes, &opts.fields).unwrap_or_else(|| fallback_id(source, rec.line));
                    if !opts.show_fields.is_empty() {
                        push_shown_fields(&mut id, bytes, &opts.show_fields);
                    }
                    ids.push(id);
                    if let Some(d) = doc.filter(|d| shown.binary_search(d).is_ok()) {
                        shown_here.push((i, d));
                    }
                }
            }
            bar.set_position(counter.load(Ordering::Relaxed));
            let shown_text = |i: usize, cuts: Option<&RecordCuts<'_>>| -> Option<String> {
                let rec = &batch.records[i];
                let text =
                    record_text(&corpus.sources[rec.source as usize].kind, batch.bytes(rec), &opts.fields).ok()?;
                let text = match cuts {
                    Some(cuts) => cuts.apply(i, text).ok()?,
                    None => text,
                };
                Some(text.chars().take(4000).collect())
            };
            if deduped.is_none() {
                texts.extend(shown_here.iter().filter_map(|&(i, d)| Some((d, shown_text(i, None)?))));
                return Ok(Vec::new());
            }
            let cuts = read_cuts(&mut cut_walk, assigned.iter().map(Option::is_some), corpus, &dir)?;
            texts.extend(shown_here.iter().filter_map(|&(i, d)| Some((d, shown_text(i, Some(&cuts))?))));
            let per_chunk = records_per_chunk(batch.records.len(), KEPT_RECORDS_PER_CHUNK);
            let lines: Vec<Result<Vec<u8>>> = batch
                .records
                .par_chunks(per_chunk)
                .zip(assigned.par_chunks(per_chunk))
                .enumerate()
                .map(|(chunk, (recs, docs))| {
                    let mut lines = Vec::new();
                    for (j, (rec, doc)) in recs.iter().zip(docs).enumerate() {
                        let Some(doc) = *doc else { continue };
                        let duplicate = outcome.is_duplicate(DocIndex(doc));
                        if (duplicate && !opts.annotate) || (opts.drop_empty && pass.signatures.shingles(doc) == 0) {
                            continue;
                        }
                        let i = chunk * per_chunk + j;
                        let source = &corpus.sources[rec.source as usize];
                        push_kept_line(&mut lines, source, batch.bytes(rec), &opts.fields, &cuts, i)
                            .map_err(|e| changed(corpus, rec.source, &format!("line {}: {e}", rec.line)))?;
                        if opts.annotate {
                            annotate_line(&mut lines, cluster_of.get(&doc).copied(), !duplicate);
                        }
                    }
                    Ok(lines)
                })
                .collect();
            // The first failure in input order, whichever worker met it first.
            lines.into_iter().collect()
        },
        |batches| {
            // Drained even when nothing is written, or the reader would
            // find the channel closed.
            let mut out = out;
            for lines in batches {
                if let Some(out) = out.as_mut() {
                    for line in lines {
                        out.write_all(&line)?;
                    }
                }
            }
            Ok(())
        },
    )?;
    walk.finish()?;
    if let Some(walk) = cut_walk.as_mut() {
        walk.finish(corpus, &dir)?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Records of a batch whose kept lines one worker makes, at most (see
/// [`records_per_chunk`]): a batch of news (about a thousand records)
/// splits into a few dozen pieces of work, enough to share between
/// workers, few enough that each line buffer is large.
pub(super) const KEPT_RECORDS_PER_CHUNK: usize = 64;

/// Appends kept record `i`'s line to `out`: the record as it is, or, when
/// cuts were handed over, with its text cleaned as `doppel clean` writes it.
/// A `.txt` document becomes `{"id": PATH, "text": TEXT}`.
pub(super) fn push_kept_line(
    out: &mut Vec<u8>,
    source: &crate::input::Source,
    bytes: &[u8],
    fields: &FieldNames,
    cuts: &RecordCuts<'_>,
    i: usize,
) -> std::result::Result<(), String> {
    match &source.kind {
        SourceKind::Jsonl if cuts.batch.is_none() => out.extend_from_slice(bytes),
        SourceKind::Jsonl => {
            let f = parse_record(bytes, fields)?;
            let text = cuts.apply(i, f.text)?;
            push_record_with_text(out, &source.kind, bytes, Some(f.text_span), &text)?;
        }
        SourceKind::Text { .. } => {
            let text = std::str::from_utf8(bytes).map_err(|_| "text is no longer valid UTF-8".to_string())?;
            let text = cuts.apply(i, std::borrow::Cow::Borrowed(text))?;
            push_record_with_text(out, &source.kind, bytes, None, &text)?;
        }
    }
    out.push(b'\n');
    Ok(())
}

/// Turns the line just written to `out` (a JSON object and a newline) into
/// the same object with `"doppel_cluster"` and `"doppel_kept"` last.
pub(super) fn annotate_line(out: &mut Vec<u8>, cluster: Option<usize>, kept: bool) {
    out.pop();
    while out.last().is_some_and(u8::is_ascii_whitespace) {
        out.pop();
    }
    match out.pop() {
        Some(b'}') => {}
        // Not an object (every record doppel reads is one): left as it was.
        other => {
            out.extend(other);
            out.push(b'\n');
            return;
        }
    }
    let empty = out.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !empty {
        out.push(b',');
    }
    match cluster {
        Some(n) => out.extend_from_slice(format!("\"doppel_cluster\":{n}").as_bytes()),
        None => out.extend_from_slice(b"\"doppel_cluster\":null"),
    }
    out.extend_from_slice(if kept { b",\"doppel_kept\":true}\n" } else { b",\"doppel_kept\":false}\n" });
}

/// Appends a record (`bytes`, of a source of `kind`) with its text replaced
/// by `text`: a JSONL record keeps every other byte, its text value
/// (`text_span`) escaped anew; a text file's becomes `{"id": PATH, "text":
/// TEXT}`. No newline.
pub(crate) fn push_record_with_text(
    out: &mut Vec<u8>,
    kind: &SourceKind,
    bytes: &[u8],
    text_span: Option<(usize, usize)>,
    text: &str,
) -> std::result::Result<(), String> {
    match (kind, text_span) {
        (SourceKind::Jsonl, Some((start, end))) => {
            out.extend_from_slice(&bytes[..start]);
            push_json_string(out, text);
            out.extend_from_slice(&bytes[end..]);
        }
        (SourceKind::Text { id }, _) => {
            let start = out.len();
            if let Err(e) = serde_json::to_writer(&mut *out, &TextRecord { id, text }) {
                out.truncate(start);
                return Err(e.to_string());
            }
        }
        (SourceKind::Jsonl, None) => return Err("internal: JSONL record without a text span".into()),
    }
    Ok(())
}

/// Appends to `id` (a raw JSON id) the record's `fields` as `,"fields":
/// {...}`, each its raw JSON value or `null`: read only for clustered
/// records, so a full parse costs little.
pub(super) fn push_shown_fields(id: &mut String, bytes: &[u8], fields: &[String]) {
    let record: std::collections::HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(bytes).unwrap_or_default();
    id.push_str(",\"fields\":{");
    for (i, name) in fields.iter().enumerate() {
        if i > 0 {
            id.push(',');
        }
        id.push_str(&crate::input::json_string(name));
        id.push(':');
        id.push_str(record.get(name).map_or("null", |v| v.get()));
    }
    id.push('}');
}

/// Why a cluster's kept document was kept: the keep rule; or under
/// `--containment`, where the documents that hold others come first,
/// `contains` when a member went by containment alone and `largest`
/// otherwise; `priority` when the `--keep-priority` list ranked a copy
/// below it; or `first_without_date` when no member had a date.
pub(super) fn kept_because(c: &super::engine::Cluster, config: &DedupConfig, sigs: &Signatures) -> &'static str {
    if config.containment.is_some() {
        let by_containment = c.duplicates.iter().any(|d| removed_by(d, config) == "containment");
        return if by_containment { "contains" } else { "largest" };
    }
    // The priority list decided when a copy ranked lower than the kept one.
    if c.duplicates.iter().any(|d| sigs.rank(d.doc.0) > sigs.rank(c.kept.0)) {
        return "priority";
    }
    match config.keep {
        KeepRule::First => "first",
        KeepRule::Longest => "longest",
        KeepRule::Earliest | KeepRule::Latest if sigs.date(c.kept.0).is_none() => "first_without_date",
        KeepRule::Earliest => "earliest",
        KeepRule::Latest => "latest",
    }
}

/// Copies the report shows of each of its clusters, beside the kept
/// document: a cluster of thousands would be a page no one reads.
pub(super) const REPORT_COPIES: usize = 8;

/// Clusters the report shows: the five largest, the earlier first among
/// equals.
pub(super) fn largest_clusters(outcome: &DedupOutcome) -> Vec<&super::engine::Cluster> {
    let mut by_size: Vec<&super::engine::Cluster> = outcome.clusters.iter().collect();
    by_size.sort_by_key(|c| (std::cmp::Reverse(c.duplicates.len()), c.kept));
    by_size.truncate(5);
    by_size
}

/// `report.html` (see [`crate::report`]).
pub(super) fn write_report(
    job: &Finished<'_>,
    outputs: &mut OutputSet,
    clustered: &[u32],
    ids: &[String],
    largest: &[&super::engine::Cluster],
    texts: &std::collections::HashMap<u32, String>,
) -> Result<()> {
    let Finished { opts, pass, outcome, upstream, .. } = *job;
    // An id as collected may carry its shown fields after it (a JSON
    // string or number holds no unescaped `,"fields":{`).
    let id_of = |d: DocIndex| {
        let id = clustered.binary_search(&d.0).map_or("", |i| ids[i].as_str());
        id.split(",\"fields\":{").next().unwrap_or(id).to_string()
    };
    let duplicates: usize = outcome.clusters.iter().map(|c| c.duplicates.len()).sum();
    let rejected = upstream.rejected.len() + pass.rejected.len() + pass.dropped.len();
    let documents = pass.signatures.len() + upstream.rejected.len() + pass.rejected.len();
    let counts = [
        ("documents", documents),
        ("kept", documents - duplicates - rejected),
        ("duplicates", duplicates),
        ("rejected", rejected),
        ("clusters", outcome.clusters.len()),
        ("candidate pairs", outcome.candidate_pairs as usize),
        ("confirmed pairs", outcome.confirmed_pairs as usize),
    ];
    let not_read = "(text not read: the lists alone were written)".to_string();
    let data = crate::report::ReportData {
        command: if upstream.cuts.is_some() { "run".into() } else { "dedup".into() },
        counts: counts.iter().map(|(k, v)| ((*k).to_string(), v.to_string())).collect(),
        similarities: outcome.clusters.iter().flat_map(|c| c.duplicates.iter().map(|d| d.jaccard)).collect(),
        threshold: opts.dedup.jaccard_threshold,
        cluster_sizes: outcome.clusters.iter().map(|c| c.duplicates.len() + 1).collect(),
        largest: largest
            .iter()
            .map(|c| crate::report::ShownCluster {
                size: c.duplicates.len() + 1,
                kept_because: kept_because(c, &opts.dedup, &pass.signatures).into(),
                members: std::iter::once((c.kept, 1.0))
                    .chain(c.duplicates.iter().take(REPORT_COPIES).map(|d| (d.doc, d.jaccard)))
                    .map(|(d, j)| (id_of(d), j, texts.get(&d.0).cloned().unwrap_or_else(|| not_read.clone())))
                    .collect(),
            })
            .collect(),
        cuts_per_rule: upstream.cuts_per_rule.clone(),
        cuts_per_site: upstream.cuts_per_site.clone(),
    };
    let report = outputs.create("report.html")?;
    outputs.file(report).write_all(crate::report::render(&data).as_bytes())
}

/// What removed a duplicate for its kept document: its Jaccard, its
/// containment in the kept one, or (union clusters) a chain of matches.
pub(super) fn removed_by(d: &super::engine::Duplicate, config: &DedupConfig) -> &'static str {
    if d.jaccard >= config.jaccard_threshold {
        "jaccard"
    } else if config.containment.is_some_and(|c| d.containment >= c) {
        "containment"
    } else {
        "chain"
    }
}

/// `clusters.jsonl` and `rejected.jsonl`, given the ids of the clustered
/// documents (each with its shown fields, if any).
///
/// A line: `{"kept": ID, "kept_because": RULE, "duplicates": [{"id": ID,
/// "jaccard": J, "removed_by": "jaccard"|"containment"|"chain"}, ...]}`, with
/// `"containment"` beside `"jaccard"` under `--containment` and
/// `"fields"` after each id under `--show-field`.
pub(super) fn write_lists(
    job: &Finished<'_>,
    outputs: &mut OutputSet,
    clustered: &[u32],
    ids: &[String],
) -> Result<()> {
    let Finished { opts, pass, outcome, upstream, .. } = *job;
    let clusters = outputs.create("clusters.jsonl")?;
    // Every clustered document had its id collected by the write pass: one
    // missing is a bug, never a reason to write another document's id.
    let id_of = |d: DocIndex| -> Result<&str> {
        let i = clustered.binary_search(&d.0).map_err(|_| Error::internal(format!("no id for document {}", d.0)))?;
        ids.get(i).map(String::as_str).ok_or_else(|| Error::internal(format!("no id for document {}", d.0)))
    };
    let with_containment = opts.dedup.containment.is_some();
    let mut line = String::new();
    for c in &outcome.clusters {
        use std::fmt::Write as _;
        line.clear();
        line.push_str("{\"kept\":");
        line.push_str(id_of(c.kept)?);
        let _ = write!(line, ",\"kept_because\":\"{}\"", kept_because(c, &opts.dedup, &pass.signatures));
        line.push_str(",\"duplicates\":[");
        for (i, d) in c.duplicates.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{{\"id\":{},\"jaccard\":{}", id_of(d.doc)?, format_similarity(d.jaccard));
            if with_containment {
                let _ = write!(line, ",\"containment\":{}", format_similarity(d.containment));
            }
            let _ = write!(line, ",\"removed_by\":\"{}\"", removed_by(d, &opts.dedup));
            line.push('}');
        }
        line.push_str("]}\n");
        outputs.file(clusters).write_all(line.as_bytes())?;
    }

    let rejected = outputs.create("rejected.jsonl")?;
    for r in upstream.rejected.iter().chain(&pass.rejected).chain(&pass.dropped) {
        outputs.file(rejected).write_json_line(r)?;
    }
    Ok(())
}

#[derive(Serialize)]
pub(super) struct TextRecord<'a> {
    pub(super) id: &'a str,
    pub(super) text: &'a str,
}

/// Similarities are written with at most 6 decimals: enough to read, and
/// stable across platforms.
pub(crate) fn format_similarity(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').map_or_else(|| s.to_string(), |t| format!("{t}.0"))
}
