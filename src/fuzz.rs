//! Entry points for the fuzz targets under `fuzz/` and for the test that
//! replays their corpora (`tests/fuzz_corpora.rs`). Each takes arbitrary
//! bytes, must not panic, and checks the promise its part of doppel makes.
//! Not a stable interface.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::clean::{BoilerplateTable, Cleaner, LineModel, Rules, restore};
use crate::input::{BatchReader, Corpus, FieldNames, Input, parse_record};

/// Decoded bytes read from one input at most: a small compressed input
/// may stand for gigabytes.
const MAX_DECODED_BYTES: u64 = 16 << 20;

/// The record reader on `data` as an input file: every record read is
/// parsed (a record or a reason, never a panic), line numbers only grow,
/// and a record is never longer than the limit.
pub fn records(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("input.jsonl");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(corpus) = Corpus::open(&[Input::Path(path)], dir.path()) else { return };
    let corpus = corpus.with_max_record_bytes(4096);
    let names = FieldNames { site: Some("site".into()), ..FieldNames::default() };
    let mut reader = BatchReader::new(&corpus, Arc::new(AtomicU64::new(0)));
    let mut last_line = 0;
    let mut decoded = 0u64;
    while let Some(batch) = reader.next_batch() {
        for rec in &batch.records {
            assert!(rec.line > last_line, "line numbers grow");
            last_line = rec.line;
            let bytes = batch.bytes(rec);
            assert!(bytes.len() <= 4096 + 64, "a record over the limit is not held");
            if let Ok(fields) = parse_record(bytes, &names) {
                let _ = fields.site_text();
            }
            decoded += bytes.len() as u64;
        }
        if batch.failure.is_some() || decoded > MAX_DECODED_BYTES {
            break;
        }
    }
}

/// The decompressing readers on `data` (gzip, zstd or plain, told by its
/// first bytes): any bytes give bytes or an error, never a panic.
pub fn decoders(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("input");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(reader) = crate::input::open_decoded(&path, Arc::new(AtomicU64::new(0))) else { return };
    let _ = std::io::copy(&mut reader.take(MAX_DECODED_BYTES), &mut std::io::sink());
}

/// The cleaner on `data` as a page's text (with a site): its cuts put back
/// into the cleaned text give the original exactly. Observing the page for
/// learning (story signature, line keys, tails) does not panic either. A
/// second cleaner, whose classifier cuts every line it scores, runs what
/// the default one rarely does: putting a story back, a headline's tail.
pub fn cleaner(data: &[u8]) {
    use std::sync::OnceLock;
    static CLEANERS: OnceLock<[Cleaner; 2]> = OnceLock::new();
    let cleaners = CLEANERS.get_or_init(|| {
        let mut cut_all = Rules::default();
        cut_all.classifier.threshold = Some(0.0);
        [&Rules::default(), &cut_all]
            .map(|rules| Cleaner::new(rules, BoilerplateTable::default()).expect("the default rules compile"))
    });
    let text = String::from_utf8_lossy(data);
    let _ = cleaners[0].observe(&text, Some("site.example"));
    for cleaner in cleaners {
        let cleaned = cleaner.clean(&text, Some("site.example"));
        assert_eq!(restore(&cleaned.text, &cleaned.cuts), text, "cuts rebuild the original");
    }
}

/// The loaders of a rules file, a saved table and a model on `data`: a
/// value or a reason, never a panic; rules that load compile or say why.
pub fn loaders(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(rules) = Rules::from_json(&text) {
        let _ = Cleaner::new(&rules, BoilerplateTable::default());
    }
    if let Ok(table) = BoilerplateTable::from_json(&text)
        && let Ok(cleaner) = Cleaner::new(&Rules::default(), table)
    {
        let _ = cleaner.clean("Home\nA line of a story, long enough to be prose for the cleaner.\nHome", Some("a"));
    }
    let _ = LineModel::from_json(&text);
}
