//! `doppel dedup` end to end.

use std::collections::BTreeSet;
use std::io::Write;

use crate::util::*;

/// A corpus of 3 stories; story 0 has two edited copies, story 1 one exact copy.
fn small_corpus() -> (String, Vec<&'static str>) {
    let s0 = story(1, 300);
    let s1 = story(2, 200);
    let s2 = story(3, 250);
    let lines = [
        record("a", &s0),
        record("b", &s1),
        record("c", &edit(&s0, 60)),
        record("d", &s2),
        record("e", &s1),
        record("f", &edit(&s0, 75)),
    ];
    (lines.join("\n") + "\n", vec!["a", "b", "c", "d", "e", "f"])
}

fn ids_of(values: &[serde_json::Value], field: &str) -> Vec<String> {
    values.iter().map(|v| v[field].as_str().unwrap().to_string()).collect()
}

/// Every input document is kept, removed as a duplicate, or rejected: exactly once.
fn assert_accounted(dir: &Dir, out: &str, all_ids: &[&str]) {
    let kept = ids_of(&dir.json_lines(&format!("{out}/deduped.jsonl")), "id");
    let mut seen: Vec<String> = kept.clone();
    for c in dir.json_lines(&format!("{out}/clusters.jsonl")) {
        assert!(kept.contains(&c["kept"].as_str().unwrap().to_string()), "kept id of a cluster is in deduped.jsonl");
        for d in c["duplicates"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
        }
    }
    let rejected = dir.json_lines(&format!("{out}/rejected.jsonl")).len();
    let stats: serde_json::Value = serde_json::from_str(&dir.read(&format!("{out}/stats.json"))).unwrap();
    assert_eq!(stats["documents"].as_u64(), Some((all_ids.len() + rejected) as u64));
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no document appears twice");
    let expect: BTreeSet<String> = all_ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expect);
}

#[test]
fn finds_edited_and_exact_copies_and_keeps_the_first() {
    let dir = Dir::new();
    let (corpus, ids) = small_corpus();
    dir.write("in.jsonl", &corpus);
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "--quiet"]);
    let clusters = dir.read("out/clusters.jsonl");
    let lines: Vec<&str> = clusters.lines().collect();
    assert_eq!(lines.len(), 2, "{clusters}");
    let c0: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(c0["kept"], "a");
    assert_eq!(ids_of(c0["duplicates"].as_array().unwrap(), "id"), ["c", "f"]);
    let c1: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(c1["kept"], "b");
    assert_eq!(c1["duplicates"][0]["jaccard"], 1.0);
    assert_eq!(ids_of(&dir.json_lines("out/deduped.jsonl"), "id"), ["a", "b", "d"]);
    assert_accounted(&dir, "out", &ids);
}

#[test]
fn duplicates_only_writes_the_same_lists_and_no_second_corpus() {
    let dir = Dir::new();
    let (corpus, _) = small_corpus();
    dir.write("in.jsonl", &corpus);
    dir.ok(&["dedup", "in.jsonl", "--out", "full", "--quiet"]);
    // A deduped.jsonl of an earlier run would not match this run's lists.
    dir.ok(&["dedup", "in.jsonl", "--out", "lists", "--quiet"]);
    dir.ok(&["dedup", "in.jsonl", "--out", "lists", "--quiet", "--duplicates-only"]);
    assert!(!dir.path("lists/deduped.jsonl").exists());
    for name in ["clusters.jsonl", "rejected.jsonl"] {
        assert_eq!(dir.read(&format!("lists/{name}")), dir.read(&format!("full/{name}")), "{name}");
    }
    let stats: serde_json::Value = serde_json::from_str(&dir.read("lists/stats.json")).unwrap();
    assert_eq!(
        (stats["documents"].as_u64(), stats["kept"].as_u64(), stats["duplicates"].as_u64()),
        (Some(6), Some(3), Some(3))
    );
    // An input is never removed, even where a stale output would be.
    let kept = dir.read("full/deduped.jsonl");
    dir.ok(&["dedup", "full/deduped.jsonl", "--out", "full", "--quiet", "--duplicates-only"]);
    assert_eq!(dir.read("full/deduped.jsonl"), kept);
}

#[test]
fn duplicates_only_names_every_kind_of_id_as_the_full_run_does() {
    let dir = Dir::new();
    let a = story(1, 150);
    let b = story(2, 150);
    // String, number, null and missing ids, a bad record between them (so
    // that document and line numbers part), two JSONL inputs and text files.
    let first = [
        serde_json::json!({"id": "s-1", "text": a}).to_string(),
        serde_json::json!({"id": 7, "text": edit(&a, 40)}).to_string(),
        "{not json".to_string(),
        serde_json::json!({"id": null, "text": edit(&a, 50)}).to_string(),
        serde_json::json!({"text": b}).to_string(),
    ];
    dir.write("in/a.jsonl", first.join("\n"));
    dir.write("in/b.jsonl", serde_json::json!({"text": edit(&b, 45)}).to_string());
    dir.write("in/c/copy.txt", edit(&a, 60));
    dir.write("in/c/other.txt", edit(&b, 55));
    for (out, extra) in [("full", None), ("lists", Some("--duplicates-only"))] {
        let mut args = vec!["dedup", "in", "--out", out, "-q", "--skip-bad"];
        args.extend(extra);
        dir.ok(&args);
    }
    assert_eq!(dir.read("lists/clusters.jsonl"), dir.read("full/clusters.jsonl"));
    assert_eq!(dir.read("lists/rejected.jsonl"), dir.read("full/rejected.jsonl"));
    let clusters = dir.read("lists/clusters.jsonl");
    for id in ["\"s-1\"", ":7,", "a.jsonl:4", "a.jsonl:5", "b.jsonl:1", "\"c/copy.txt\"", "\"c/other.txt\""] {
        assert!(clusters.contains(id), "{id} missing from {clusters}");
    }
}

#[test]
fn kept_records_are_copied_byte_for_byte() {
    let dir = Dir::new();
    // Odd spacing, key order and escapes must survive untouched.
    let rec = format!("{{ \"text\" : \"{}\",\"extra\":{{\"x\":[1, 2]}}, \"id\":\"\\u0041\" }}", story(5, 50));
    dir.write("in.jsonl", format!("{rec}\r\n\n   \n"));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    assert_eq!(dir.read("out/deduped.jsonl"), format!("{rec}\n"));
}

#[test]
fn gzip_and_zstd_inputs_give_the_same_output_as_plain() {
    let dir = Dir::new();
    let (corpus, _) = small_corpus();
    dir.write("plain.jsonl", &corpus);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(corpus.as_bytes()).unwrap();
    // Named without a telling extension: detection is by magic bytes.
    dir.write("gz.data", gz.finish().unwrap());
    dir.write("zst.data", zstd::encode_all(corpus.as_bytes(), 3).unwrap());
    for (input, out) in [("plain.jsonl", "o1"), ("gz.data", "o2"), ("zst.data", "o3")] {
        dir.ok(&["dedup", input, "--out", out, "-q"]);
    }
    for f in ["deduped.jsonl", "clusters.jsonl"] {
        assert_same_file(&dir.path(&format!("o1/{f}")), &dir.path(&format!("o2/{f}")));
        assert_same_file(&dir.path(&format!("o1/{f}")), &dir.path(&format!("o3/{f}")));
    }
}

#[test]
fn truncated_gzip_is_an_error_naming_the_file() {
    let dir = Dir::new();
    let (corpus, _) = small_corpus();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(corpus.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    dir.write("cut.jsonl.gz", &bytes[..bytes.len() / 2]);
    let out = dir.run(&["dedup", "cut.jsonl.gz", "--out", "out", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cut.jsonl.gz:1: gzip member 1 at byte 0 is damaged"), "{err}");
    assert!(!dir.path("out/deduped.jsonl").exists(), "nothing that looks complete is written");

    // With --skip-bad the damaged member is rejected, with what it held:
    // its records cannot be checked, so none of them is used.
    dir.ok(&["dedup", "cut.jsonl.gz", "--out", "out", "-q", "--skip-bad"]);
    let rejected = dir.json_lines("out/rejected.jsonl");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["file"], "cut.jsonl.gz");
}

#[test]
fn bad_record_stops_with_file_and_line_and_writes_nothing() {
    let dir = Dir::new();
    let good = record("g", &story(9, 30));
    dir.write("bad.jsonl", format!("{good}\n{{\"id\": 1, \"text\": 5}}\n{good}\n"));
    let out = dir.run(&["dedup", "bad.jsonl", "--out", "out", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.jsonl:2:"), "{err}");
    assert!(err.contains("text field"), "{err}");
    assert!(!dir.path("out/deduped.jsonl").exists());
    assert!(!dir.path("out/stats.json").exists());
}

#[test]
fn skip_bad_rejects_every_kind_of_bad_record_and_loses_nothing() {
    let dir = Dir::new();
    let mut lines: Vec<Vec<u8>> = vec![
        record("ok1", &story(1, 40)).into_bytes(),
        b"{\"id\":\"m\",\"text\":\"unterminated".to_vec(),
        b"{\"id\":\"n\"}".to_vec(),
        b"{\"id\":\"s\",\"text\":[\"not a string\"]}".to_vec(),
        b"{\"id\":\"u\",\"text\":\"bad \xff byte\"}".to_vec(),
        record("ok2", &story(2, 40)).into_bytes(),
    ];
    let mut bytes = Vec::new();
    for l in lines.iter_mut() {
        bytes.append(l);
        bytes.push(b'\n');
    }
    dir.write("in.jsonl", bytes);
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q", "--skip-bad"]);
    let rejected = dir.json_lines("out/rejected.jsonl");
    let lines: Vec<u64> = rejected.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3, 4, 5]);
    let reasons: Vec<&str> = rejected.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("malformed JSON"), "{reasons:?}");
    assert!(reasons[1].contains("missing text field"), "{reasons:?}");
    assert!(reasons[2].contains("text field"), "{reasons:?}");
    assert!(reasons[3].contains("invalid UTF-8"), "{reasons:?}");
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(
        (stats["documents"].as_u64(), stats["kept"].as_u64(), stats["rejected"].as_u64()),
        (Some(6), Some(2), Some(4))
    );
    assert_eq!(ids_of(&dir.json_lines("out/deduped.jsonl"), "id"), ["ok1", "ok2"]);
}

#[test]
fn directory_input_reads_txt_and_jsonl_in_sorted_order() {
    let dir = Dir::new();
    let s = story(4, 120);
    dir.write("corpus/b/copy.txt", &s);
    dir.write("corpus/a.txt", &s);
    dir.write("corpus/c.jsonl", format!("{}\n", record("j1", &story(5, 80))));
    dir.write("corpus/notes.md", "ignored");
    dir.ok(&["dedup", "corpus", "--out", "out", "-q"]);
    let kept = dir.json_lines("out/deduped.jsonl");
    assert_eq!(ids_of(&kept, "id"), ["a.txt", "j1"]);
    assert_eq!(kept[0]["text"], s.as_str());
    let clusters = dir.json_lines("out/clusters.jsonl");
    assert_eq!(clusters[0]["kept"], "a.txt");
    assert_eq!(clusters[0]["duplicates"][0]["id"], "b/copy.txt");
}

#[test]
fn stdin_is_read_and_missing_ids_become_file_and_line() {
    let dir = Dir::new();
    let s = story(6, 100);
    let input = format!("{}\n{}\n", serde_json::json!({"text": s}), serde_json::json!({"text": s, "id": 7}));
    let out = dir.run_with_stdin(&["dedup", "-", "--out", "out", "-q"], Some(input.as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        dir.read("out/clusters.jsonl"),
        "{\"kept\":\"-:1\",\"kept_because\":\"first\",\"duplicates\":[{\"id\":7,\"jaccard\":1.0,\"removed_by\":\"jaccard\"}]}\n"
    );
    // The spool file is gone: only the directory's lock is hidden.
    let names: Vec<String> = std::fs::read_dir(dir.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.') || n == ".doppel.lock"), "{names:?}");
}

#[test]
fn empty_and_short_documents_are_kept_and_not_merged() {
    let dir = Dir::new();
    let lines = [
        record("e1", ""),
        record("e2", "  ... "),
        record("s1", "Breaking."),
        record("s2", "Updated."),
        record("s3", "breaking"),
    ];
    dir.write("in.jsonl", lines.join("\n"));
    let out = dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    // Named, so that nobody indexes a blank page unknowingly.
    let warning = "2 of 5 documents have no words (in.jsonl:1, in.jsonl:2): they are kept and never clustered";
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));
    assert_eq!(ids_of(&dir.json_lines("out/deduped.jsonl"), "id"), ["e1", "e2", "s1", "s2"]);
    let clusters = dir.json_lines("out/clusters.jsonl");
    assert_eq!(clusters.len(), 1);
    assert_eq!((clusters[0]["kept"].as_str(), clusters[0]["duplicates"][0]["id"].as_str()), (Some("s1"), Some("s3")));
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["empty_documents"], 2);
    // Dropped on request: listed as rejected, with the reason.
    for cmd in ["dedup", "run"] {
        dir.ok(&[cmd, "in.jsonl", "--out", "drop", "-q", "--drop-empty"]);
        assert_eq!(ids_of(&dir.json_lines("drop/deduped.jsonl"), "id"), ["s1", "s2"], "{cmd}");
        let rejected = dir.json_lines("drop/rejected.jsonl");
        let lines: Vec<u64> = rejected.iter().map(|r| r["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [1, 2], "{cmd}");
        assert!(rejected.iter().all(|r| r["reason"].as_str().unwrap().starts_with("empty")), "{rejected:?}");
        let stats: serde_json::Value = serde_json::from_str(&dir.read("drop/stats.json")).unwrap();
        let n = |k: &str| stats[k].as_u64().unwrap();
        assert_eq!((n("documents"), n("kept"), n("duplicates"), n("rejected")), (5, 2, 1, 2), "{cmd}");
    }
}

#[test]
fn keep_longest_picks_the_longest_text() {
    let dir = Dir::new();
    let s = story(7, 300);
    let longer = format!("{s} with a short tail");
    dir.write("in.jsonl", [record("short", &s), record("long", &longer)].join("\n"));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q", "--keep", "longest"]);
    assert_eq!(dir.json_lines("out/clusters.jsonl")[0]["kept"], "long");
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let dir = Dir::new();
    let mut lines = Vec::new();
    for i in 0..400u64 {
        let base = story(i % 150, 120 + (i % 7) as usize * 20);
        lines.push(record(&format!("d{i}"), &if i >= 150 { edit(&base, 80 + (i % 11) as usize) } else { base }));
    }
    dir.write("in.jsonl", lines.join("\n"));
    dir.ok(&["dedup", "in.jsonl", "--out", "t1", "-q", "--threads", "1"]);
    dir.ok(&["dedup", "in.jsonl", "--out", "t2", "-q", "--threads", "2"]);
    dir.assert_same_dedup_outputs("t1", "t2");
    assert!(!dir.read("t1/clusters.jsonl").is_empty());
}

#[test]
fn sets_logged_while_signing_or_read_again_give_the_same_output() {
    let dir = Dir::new();
    let mut lines = Vec::new();
    for i in 0..300u64 {
        let base = story(i % 100, 120 + (i % 6) as usize * 25);
        // Copies, some cut short, so that containment has work to do.
        let text = match i {
            0..100 => base,
            100..200 => edit(&base, 60 + (i % 9) as usize),
            _ => base[..base.len() * 2 / 3].to_string(),
        };
        lines.push(record(&format!("d{i}"), &text));
    }
    dir.write("in.jsonl", lines.join("\n"));
    for (name, extra) in
        [("plain", &[][..]), ("contain", &["--containment", "0.8"][..]), ("union", &["--cluster", "union"][..])]
    {
        let mut first: Option<String> = None;
        for (sets, threads) in [("keep", "1"), ("keep", "2"), ("reread", "1"), ("reread", "2")] {
            let out = format!("{name}-{sets}-{threads}");
            let mut args = vec!["dedup", "in.jsonl", "--out", &out, "-q", "--exact-sets", sets, "--threads", threads];
            args.extend(extra);
            dir.ok(&args);
            let stats: serde_json::Value = serde_json::from_str(&dir.read(&format!("{out}/stats.json"))).unwrap();
            let source = if sets == "keep" { "sign_pass" } else { "second_read" };
            assert_eq!(stats["exact_set_source"], source, "{out}");
            // A log this small is held in memory; sets read again go to a file.
            let in_memory = stats["exact_sets_in_memory_bytes"].as_u64().unwrap();
            assert_eq!(in_memory > 0, sets == "keep", "{out}: {in_memory}");
            assert_eq!(stats["warnings"], serde_json::json!([]), "{out}");
            match &first {
                None => first = Some(out),
                Some(f) => dir.assert_same_dedup_outputs(f, &out),
            }
        }
        let clusters = dir.json_lines(&format!("{name}-keep-1/clusters.jsonl")).len();
        assert!(clusters >= 50, "{name}: {clusters} clusters");
    }
    // No temporary file is left in an output directory.
    let left: Vec<_> = std::fs::read_dir(dir.path("plain-keep-2")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 6, "five outputs and the lock: {left:?}");
}

#[test]
fn bad_options_are_refused() {
    let dir = Dir::new();
    dir.write("in.jsonl", record("a", "x"));
    for args in [
        vec!["--threshold", "0"],
        vec!["--threshold", "1.2"],
        vec!["--ngram", "0"],
        vec!["--bands", "20", "--rows", "10"],
    ] {
        let mut all = vec!["dedup", "in.jsonl", "--out", "out", "-q"];
        all.extend(args.iter());
        let out = dir.run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("invalid configuration"), "{}", stderr(&out));
    }
    let out = dir.run(&["dedup", "missing.jsonl", "--out", "out"]);
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));
}

#[test]
fn memory_limit_spills_band_keys_and_gives_the_same_output() {
    let dir = Dir::new();
    let mut lines = Vec::new();
    for i in 0..300u64 {
        // Copies far apart in input order land in different runs.
        let base = story(i % 100, 120 + (i % 5) as usize * 30);
        lines.push(record(&format!("d{i}"), &if i >= 100 { edit(&base, 70 + (i % 13) as usize) } else { base }));
    }
    dir.write("in.jsonl", lines.join("\n"));
    dir.ok(&["dedup", "in.jsonl", "--out", "whole", "-q"]);
    for (out, limit, threads) in [("one", "1", "1"), ("tiny", "2KB", "2"), ("small", "10KiB", "1")] {
        dir.ok(&["dedup", "in.jsonl", "--out", out, "-q", "--memory-limit", limit, "--threads", threads]);
        dir.assert_same_dedup_outputs("whole", out);
        let stats: serde_json::Value = serde_json::from_str(&dir.read(&format!("{out}/stats.json"))).unwrap();
        assert!(stats["band_runs"].as_u64().unwrap() > 1, "{out}: {stats}");
        // Under a limit the set log is on disk, and gives the same clusters
        // as the unlimited run's log in memory.
        assert_eq!(stats["exact_sets_in_memory_bytes"], 0, "{out}");
        assert!(stats["exact_set_bytes"].as_u64().unwrap() > 0, "{out}");
    }
    let whole: serde_json::Value = serde_json::from_str(&dir.read("whole/stats.json")).unwrap();
    assert_eq!(whole["band_runs"].as_u64(), Some(0));
    assert!(dir.json_lines("whole/clusters.jsonl").len() >= 90);
    // No spill file is left behind in the output directory.
    let left: Vec<_> = std::fs::read_dir(dir.path("one")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 6, "five outputs and the lock: {left:?}");

    for cmd in ["dedup", "run"] {
        let out = dir.run(&[cmd, "in.jsonl", "--out", "est", "-q", "--memory-limit", "1MB", "--verify", "estimate"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("--memory-limit needs --verify exact"), "{}", stderr(&out));
    }
}

#[test]
fn synth_is_deterministic_and_quiet_when_asked() {
    let dir = Dir::new();
    let talkative = dir.ok(&["synth", "--out", "a.jsonl", "--docs", "40", "--seed", "5"]);
    // Not a terminal: no progress bar, only the summary line.
    assert_eq!(stderr(&talkative).lines().count(), 1, "{}", stderr(&talkative));
    assert!(stderr(&talkative).contains("wrote 40 documents"));
    let quiet = dir.ok(&["synth", "--out", "b.jsonl", "--docs", "40", "--seed", "5", "--quiet"]);
    assert!(quiet.stderr.is_empty() && quiet.stdout.is_empty());
    assert_eq!(dir.read("a.jsonl"), dir.read("b.jsonl"));
    assert_eq!(dir.json_lines("a.jsonl").len(), 40);
}

/// The library's `Deduplicator` and `doppel dedup` judge by the same
/// fingerprints: on stories with copies edited from far above the threshold
/// to just under it, they make the same clusters with the same Jaccard.
#[test]
fn the_library_and_the_command_make_the_same_clusters() {
    let dir = Dir::new();
    let mut texts = Vec::new();
    for s in 0..12u64 {
        let base = story(100 + s, 300 + 60 * s as usize);
        texts.push(base.clone());
        // Replacing every 200th to every 35th word: Jaccard about 0.95 down
        // to 0.75 against the story.
        for every in [200, 120, 80, 60, 45, 35] {
            texts.push(edit(&base, every + s as usize % 3));
        }
    }
    let lines: Vec<String> = texts.iter().enumerate().map(|(i, t)| record(&format!("d{i}"), t)).collect();
    dir.write("in.jsonl", lines.join("\n") + "\n");
    dir.ok(&["dedup", "in.jsonl", "--out", "o", "-q", "--duplicates-only"]);
    // Jaccard as the command writes it: six decimals.
    let from_command: Vec<(String, Vec<(String, f64)>)> = dir
        .json_lines("o/clusters.jsonl")
        .iter()
        .map(|c| {
            let dups = c["duplicates"].as_array().unwrap();
            let dups =
                dups.iter().map(|d| (d["id"].as_str().unwrap().into(), d["jaccard"].as_f64().unwrap())).collect();
            (c["kept"].as_str().unwrap().into(), dups)
        })
        .collect();
    let mut dedup = doppel::Deduplicator::new(doppel::DedupConfig::default()).unwrap();
    dedup.add_all(&texts);
    let six_places = |x: f64| (x * 1e6).round() / 1e6;
    let from_library: Vec<(String, Vec<(String, f64)>)> = dedup
        .finish()
        .clusters
        .iter()
        .map(|c| {
            let dups = c.duplicates.iter().map(|d| (format!("d{}", d.doc.0), six_places(d.jaccard))).collect();
            (format!("d{}", c.kept.0), dups)
        })
        .collect();
    assert!(from_command.len() >= 10, "{from_command:?}");
    // Some copies fall short of the threshold.
    let removed: usize = from_command.iter().map(|c| c.1.len()).sum();
    assert!(removed > 12 && removed < 12 * 6, "{removed} removed");
    assert_eq!(from_command, from_library);
}

#[test]
fn no_two_kept_documents_are_near_duplicates_of_each_other() {
    // Drifting chains: each copy edits words of the one before, so a
    // chain's ends fall below the threshold while neighbours stay above.
    let dir = Dir::new();
    let mut lines = Vec::new();
    for chain in 0..40u64 {
        let mut words: Vec<String> = story(chain, 120).split(' ').map(str::to_string).collect();
        for step in 0..8u64 {
            lines.push(record(&format!("c{chain}-{step}"), &words.join(" ")));
            let at = ((chain * 31 + step * 37) % 120) as usize;
            words[at] = format!("e{chain}x{step}");
        }
    }
    dir.write("in.jsonl", lines.join("\n") + "\n");
    for keep in ["first", "longest"] {
        dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q", "--keep", keep]);
        let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
        assert!(stats["duplicates"].as_u64().unwrap() > 100, "{stats}");
        // The kept documents, deduplicated again: nothing is left to find.
        dir.ok(&["dedup", "out/deduped.jsonl", "--out", "again", "-q", "--cluster", "union"]);
        let again: serde_json::Value = serde_json::from_str(&dir.read("again/stats.json")).unwrap();
        assert_eq!(again["clusters"], 0, "--keep {keep}: {}", dir.read("again/clusters.jsonl"));
    }
}

#[test]
fn by_containment_a_stub_goes_for_its_source_never_the_source_for_the_stub() {
    let dir = Dir::new();
    let stub = story(1, 60);
    let full_a = format!("{stub} {}", story(2, 200));
    let full_b = format!("{} {stub}", story(3, 200));
    // The stub comes first, as a wire's first short take does.
    let lines = [record("stub", &stub), record("full-a", &full_a), record("full-b", &full_b)];
    dir.write("in.jsonl", lines.join("\n") + "\n");
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q", "--containment", "0.8", "--keep", "first"]);
    let clusters = dir.json_lines("out/clusters.jsonl");
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    assert_eq!(clusters[0]["kept"], "full-a");
    assert_eq!(clusters[0]["kept_because"], "contains");
    assert_eq!(clusters[0]["duplicates"][0]["removed_by"], "containment");
    let removed: Vec<&str> =
        clusters[0]["duplicates"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(removed, ["stub"]);
    // The two full articles share only the stub: both are kept.
    let kept: Vec<String> =
        dir.json_lines("out/deduped.jsonl").iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(kept, ["full-a", "full-b"]);
}

#[test]
fn keep_earliest_keeps_the_earliest_dated_copy_whatever_the_date_format() {
    // 50 stories, 4 copies each, dated in the formats feeds use; 2% of the
    // records have no date (or one that names no day).
    let dir = Dir::new();
    let formats = [
        |s: i64| serde_json::json!(s),
        |s: i64| serde_json::json!(s * 1000),
        |s: i64| serde_json::json!(format!("{}", jiff::Timestamp::from_second(s).unwrap())),
        |s: i64| {
            let t = jiff::Timestamp::from_second(s).unwrap().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)));
            serde_json::json!(t.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        },
        |s: i64| {
            serde_json::json!(
                jiff::fmt::rfc2822::to_string(
                    &jiff::Timestamp::from_second(s).unwrap().to_zoned(jiff::tz::TimeZone::UTC)
                )
                .unwrap()
            )
        },
    ];
    let mut lines = Vec::new();
    let mut dates = std::collections::HashMap::new();
    for i in 0..200u64 {
        let (story_no, copy) = (i / 4, i % 4);
        let text = edit(&story(story_no, 300), 100 + copy as usize);
        // Copies' dates in no order: the earliest is any of them.
        let seconds = 1_700_000_000 + ((i * 7919) % 1000) as i64 * 3600;
        let id = format!("s{story_no}-c{copy}");
        let date = match i {
            13 | 77 | 150 => serde_json::Value::Null,
            99 => serde_json::json!("soon"),
            _ => {
                dates.insert(id.clone(), seconds);
                formats[(i % 5) as usize](seconds)
            }
        };
        lines.push(serde_json::json!({"id": id, "date": date, "text": text}).to_string());
    }
    dir.write("in.jsonl", lines.join("\n") + "\n");
    let out = dir.ok(&["dedup", "in.jsonl", "--out", "early", "-q", "--keep", "earliest", "--date-field", "date"]);
    let warning = "4 of 200 records have no date in field \"date\" that doppel can read (in.jsonl:14, in.jsonl:78, in.jsonl:100, ...)";
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));
    dir.ok(&["dedup", "in.jsonl", "--out", "late", "-q", "--keep", "latest", "--date-field", "date"]);
    for (out, earliest) in [("early", true), ("late", false)] {
        let clusters = dir.json_lines(&format!("{out}/clusters.jsonl"));
        assert_eq!(clusters.len(), 50, "{out}");
        for c in clusters {
            let kept = dates.get(c["kept"].as_str().unwrap()).copied();
            for d in c["duplicates"].as_array().unwrap() {
                let Some(&other) = dates.get(d["id"].as_str().unwrap()) else { continue };
                let kept = kept.unwrap_or_else(|| panic!("{out}: undated {} kept over a dated copy", c["kept"]));
                assert!(if earliest { kept <= other } else { kept >= other }, "{out}: {c}");
            }
        }
    }
    // The rule needs its field, and the field its rule.
    let out = dir.run(&["dedup", "in.jsonl", "--out", "x", "-q", "--keep", "earliest"]);
    assert!(stderr(&out).contains("need --date-field"), "{}", stderr(&out));
}

#[test]
fn keep_priority_keeps_the_listed_sites_copy_then_applies_the_rule() {
    // 40 stories, 3 copies each on three sites in rotating input order;
    // some stories have no copy on the wire's site.
    let dir = Dir::new();
    let sites = ["blog.example", "wire.example", "paper.example"];
    let mut lines = Vec::new();
    for i in 0..120u64 {
        let (story_no, copy) = (i / 3, (i % 3) as usize);
        let mut site = sites[(copy + story_no as usize) % 3];
        if story_no % 10 == 0 && site == "wire.example" {
            site = "other.example";
        }
        let text = edit(&story(story_no, 300), 100 + copy);
        lines.push(serde_json::json!({"id": format!("s{story_no}-c{copy}"), "site": site, "text": text}).to_string());
    }
    dir.write("in.jsonl", lines.join("\n") + "\n");
    let args = ["dedup", "in.jsonl", "-q", "--keep", "longest", "--show-field", "site"];
    dir.ok(&[&args[..], &["-o", "out", "--keep-priority", "site=wire.example,paper.example"]].concat());
    let clusters = dir.json_lines("out/clusters.jsonl");
    assert_eq!(clusters.len(), 40);
    let rank = |site: &serde_json::Value| ["wire.example", "paper.example"].iter().position(|s| site == s).unwrap_or(2);
    let mut by_priority = 0;
    for c in &clusters {
        let kept = rank(&c["fields"]["site"]);
        for d in c["duplicates"].as_array().unwrap() {
            assert!(kept <= rank(&d["fields"]["site"]), "{c}");
        }
        by_priority += usize::from(c["kept_because"] == "priority");
    }
    assert!(by_priority >= 30, "{by_priority} clusters kept by priority");
    // A list no record matches decides nothing, and says so.
    let out = dir.ok(&[&args[..], &["-o", "none", "--keep-priority", "site=nowhere.example"]].concat());
    assert!(stderr(&out).contains("the priority decides nothing"), "{}", stderr(&out));
    let out = dir.run(&["dedup", "in.jsonl", "-o", "x", "--keep-priority", "site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("FIELD=VALUE"), "{}", stderr(&out));
}

#[test]
fn short_flags_conflicting_options_and_run_with_lists_only() {
    let dir = Dir::new();
    let (corpus, _) = small_corpus();
    dir.write("in.jsonl", &corpus);
    dir.ok(&["dedup", "in.jsonl", "-o", "long", "-q", "--threshold", "0.7", "--threads", "1"]);
    dir.ok(&["dedup", "in.jsonl", "-o", "short", "-q", "-t", "0.7", "-j", "1"]);
    dir.assert_same_dedup_outputs("long", "short");
    let out = dir.run(&["dedup", "in.jsonl", "-o", "x", "--ngram", "3", "--char-ngram", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));
    // `run` writes the lists alone too, the same as its full run's.
    dir.ok(&["run", "in.jsonl", "-o", "full", "-q"]);
    dir.ok(&["run", "in.jsonl", "-o", "lists", "-q", "--duplicates-only"]);
    assert!(!dir.path("lists/deduped.jsonl").exists());
    assert_eq!(dir.read("lists/clusters.jsonl"), dir.read("full/clusters.jsonl"));
}

#[test]
fn clusters_show_the_fields_a_user_names() {
    let dir = Dir::new();
    let text = story(5, 100);
    let lines = [
        serde_json::json!({"id": "a", "site": "one.example", "title": "Port strike", "text": text}),
        serde_json::json!({"id": "b", "site": "two.example", "text": text}),
    ];
    dir.write("in.jsonl", lines.iter().map(|l| l.to_string() + "\n").collect::<String>());
    for extra in [None, Some("--duplicates-only")] {
        let mut args = vec!["dedup", "in.jsonl", "-o", "out", "-q", "--show-field", "site,title"];
        args.extend(extra);
        dir.ok(&args);
        assert_eq!(
            dir.read("out/clusters.jsonl"),
            "{\"kept\":\"a\",\"fields\":{\"site\":\"one.example\",\"title\":\"Port strike\"},\"kept_because\":\"first\",\
             \"duplicates\":[{\"id\":\"b\",\"fields\":{\"site\":\"two.example\",\"title\":null},\"jaccard\":1.0,\
             \"removed_by\":\"jaccard\"}]}\n"
        );
    }
}

#[test]
fn the_report_shows_the_figures_and_opens_in_a_headless_browser() {
    let dir = Dir::new();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/news.jsonl");
    dir.ok(&["run", samples.to_str().unwrap(), "-o", "out", "-q", "--site-field", "site"]);
    let html = dir.read("out/report.html");
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    // Self-contained: no script, nothing fetched.
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
    let parts = ["<svg id=\"similarity\"", "<svg id=\"cluster-sizes\"", "<table id=\"cuts\"", "<table id=\"sites\""];
    for part in parts.into_iter().chain(["class=\"cluster\""]) {
        assert!(html.contains(part), "{part}");
    }
    // Cuts per site: the site cut most from heads the table, as in stats.json.
    let top = &stats["clean"]["sites"][0];
    let row = format!("<tr><td>{}</td><td class=\"n\">{}</td>", top["site"].as_str().unwrap(), top["documents"]);
    assert!(html.contains(&row), "{row}");
    assert!(stats["clean"]["sites_seen"].as_u64() >= Some(2));
    let documents = format!("<th>documents</th><td class=\"n\">{}</td>", stats["documents"]);
    assert!(html.contains(&documents), "{documents}");
    assert_eq!(html.matches("<html").count(), 1);
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    // In a real browser where one is installed: the page parses and shows
    // the figures.
    for browser in ["chromium", "chromium-browser"] {
        let Ok(out) = std::process::Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("file://{}", dir.path("out/report.html").display()))
            .output()
        else {
            continue;
        };
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(dom.contains("<svg id=\"similarity\"") && dom.contains(&documents), "{browser}: {dom}");
        return;
    }
}

#[test]
fn annotate_writes_every_record_with_its_cluster_and_whether_it_is_kept() {
    let dir = Dir::new();
    let (corpus, _) = small_corpus();
    dir.write("in.jsonl", &corpus);
    dir.ok(&["dedup", "in.jsonl", "-o", "plain", "-q"]);
    for cmd in ["dedup", "run"] {
        dir.ok(&[cmd, "in.jsonl", "-o", "ann", "-q", "--annotate"]);
        assert!(!dir.path("ann/deduped.jsonl").exists());
        let records = dir.json_lines("ann/annotated.jsonl");
        assert_eq!(records.len(), corpus.lines().filter(|l| !l.trim().is_empty()).count());
        let clusters = dir.json_lines("ann/clusters.jsonl");
        let kept: Vec<_> = records.iter().filter(|r| r["doppel_kept"] == true).collect();
        assert_eq!(kept.len(), dir.json_lines("plain/deduped.jsonl").len(), "{cmd}");
        for r in &records {
            match r["doppel_cluster"].as_u64() {
                Some(n) => {
                    let c = &clusters[n as usize];
                    let is_kept = c["kept"] == r["id"];
                    assert_eq!(r["doppel_kept"], is_kept, "{cmd}: {r}");
                }
                None => assert_eq!(r["doppel_kept"], true),
            }
        }
    }
    let out = dir.run(&["dedup", "in.jsonl", "-o", "x", "-q", "--annotate", "--duplicates-only"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_id_given_twice_is_a_warning_that_names_it() {
    let dir = Dir::new();
    let lines = [
        r#"{"id":"a","text":"one two three four five six"}"#,
        r#"{"id":"b","text":"seven eight nine ten eleven"}"#,
        r#"{"id":"a","text":"twelve thirteen fourteen fifteen"}"#,
        r#"{"id":7,"text":"x y z w v u"}"#,
        r#"{"id":7,"text":"a b c d e f"}"#,
        r#"{"id":"c","text":"g h i j k l"}"#,
    ];
    dir.write("in.jsonl", lines.join("\n") + "\n");
    for cmd in ["dedup", "run"] {
        let out = dir.ok(&[cmd, "in.jsonl", "-o", cmd, "-q"]);
        let warning = "2 records repeat an id an earlier record has (\"a\" at in.jsonl:3, 7 at in.jsonl:5)";
        assert!(stderr(&out).contains(warning), "{cmd}: {}", stderr(&out));
        let stats: serde_json::Value = serde_json::from_str(&dir.read(&format!("{cmd}/stats.json"))).unwrap();
        assert!(stats["warnings"].to_string().contains("repeat an id"), "{cmd}: {stats}");
    }
    // Unique ids: no warning.
    dir.write("ok.jsonl", lines[..2].join("\n") + "\n");
    assert!(!stderr(&dir.ok(&["dedup", "ok.jsonl", "-o", "ok", "-q"])).contains("repeat an id"));
    // --quiet hides progress only; --no-summary the summary; warnings stay.
    let quiet = stderr(&dir.ok(&["dedup", "in.jsonl", "-o", "q", "-q"]));
    assert!(quiet.contains("doppel: read 6 documents") && quiet.contains("repeat an id"), "{quiet}");
    let bare = stderr(&dir.ok(&["dedup", "in.jsonl", "-o", "n", "-q", "--no-summary"]));
    assert!(!bare.contains("doppel: read") && bare.contains("repeat an id"), "{bare}");
}
