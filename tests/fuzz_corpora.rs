//! Replays the fuzz targets' corpora (`fuzz/corpus/TARGET/`) and their
//! regressions (`fuzz/regressions/TARGET/`, one file a crash once found)
//! through the same entry points, on every `cargo test`: what fuzzing
//! reached stays covered without libFuzzer or a nightly compiler.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| run(&bytes));
            assert!(result.is_ok(), "fuzz target {target} fails on {}", path.display());
            inputs += 1;
        }
    }
    assert!(inputs > 0, "no corpus for fuzz target {target}");
}

#[test]
fn the_record_reader_corpus_replays() {
    replay("records", doppel::fuzz::records);
}

#[test]
fn the_decoders_corpus_replays() {
    replay("decoders", doppel::fuzz::decoders);
}

#[test]
fn the_cleaner_corpus_replays() {
    replay("cleaner", doppel::fuzz::cleaner);
}

#[test]
fn the_loaders_corpus_replays() {
    replay("loaders", doppel::fuzz::loaders);
}
