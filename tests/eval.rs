//! `doppel eval` end to end on the samples, whose raw-text truth is known.

use crate::util::*;

fn samples(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(rel).display().to_string()
}

#[test]
fn eval_scores_the_samples_exactly_and_against_labels() {
    let dir = Dir::new();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples("expected_clusters.json")).unwrap()).unwrap();
    // Human labels: the raw-text clusters.
    let mut labels = String::new();
    for (i, group) in expected["raw_clusters"].as_array().unwrap().iter().enumerate() {
        for id in group.as_array().unwrap() {
            labels.push_str(&format!("{}\n", serde_json::json!({"id": id, "cluster": i})));
        }
    }
    dir.write("labels.jsonl", labels);
    let out = dir.ok(&["eval", &samples("news.jsonl"), "--out", "ev", "-q", "--labels", "labels.jsonl"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("document level") && printed.contains("0.80"), "{printed}");
    let report: serde_json::Value = serde_json::from_str(&dir.read("ev/eval.json")).unwrap();
    assert_eq!(report["documents"], 39);
    // Every truth pair is inside one planted raw cluster, and doppel finds them all.
    let truth = dir.json_lines("ev/truth_pairs.jsonl");
    assert!(!truth.is_empty());
    for p in &truth {
        assert!(p["jaccard"].as_f64().unwrap() >= 0.8);
    }
    assert_eq!(report["document_level"]["precision"], 1.0);
    assert_eq!(report["document_level"]["recall"], 1.0);
    assert_eq!(report["pair_level"]["precision"], 1.0);
    assert_eq!(report["duplicates_below_threshold"], 0);
    // No near-duplicate pair is left among the kept documents; scoring an
    // empty clustering leaves every true pair.
    assert_eq!(report["residual_pairs"], 0);
    dir.write("none.jsonl", "");
    let samples_path = samples("news.jsonl");
    let args =
        ["eval", &samples_path, "--out", "ev0", "-q", "--pairs", "ev/truth_pairs.jsonl", "--clusters", "none.jsonl"];
    dir.ok(&args);
    let none: serde_json::Value = serde_json::from_str(&dir.read("ev0/eval.json")).unwrap();
    assert_eq!(none["residual_pairs"].as_u64(), Some(truth.len() as u64));
    assert_eq!(report["labels"]["adjusted_rand_index"], 1.0);
    assert_eq!(report["lsh_curve"].as_array().unwrap().len(), 21);

    // Reusing the truth and scoring a given clusters file gives the same scores.
    dir.ok(&[
        "eval",
        &samples("news.jsonl"),
        "--out",
        "ev2",
        "-q",
        "--pairs",
        "ev/truth_pairs.jsonl",
        "--clusters",
        "ev/run/clusters.jsonl",
    ]);
    let again: serde_json::Value = serde_json::from_str(&dir.read("ev2/eval.json")).unwrap();
    assert_eq!(again["document_level"], report["document_level"]);
    assert_eq!(again["truth_pairs"], report["truth_pairs"]);
}

#[test]
fn eval_names_a_cluster_id_missing_from_the_corpus() {
    let dir = Dir::new();
    dir.write("clusters.jsonl", "{\"kept\":\"nope\",\"duplicates\":[]}\n");
    let out = dir.run(&["eval", &samples("news.jsonl"), "--out", "ev", "-q", "--clusters", "clusters.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("clusters.jsonl:1") && err.contains("not in the corpus"), "{err}");
}

#[test]
fn eval_scores_run_on_the_cleaned_text_and_containment_runs_on_containment() {
    let dir = Dir::new();
    let news = samples("news.jsonl");
    let raw = dir.ok(&["eval", &news, "--out", "raw", "-q"]);
    assert!(!String::from_utf8_lossy(&raw.stdout).contains("cleaned text"));
    let out = dir.ok(&["eval", &news, "--out", "ev", "-q", "--clean", "--site-field", "site"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("on the cleaned text"));
    let report: serde_json::Value = serde_json::from_str(&dir.read("ev/eval.json")).unwrap();
    let raw: serde_json::Value = serde_json::from_str(&dir.read("raw/eval.json")).unwrap();
    assert_eq!(report["cleaned_text"], true);
    // Junk hides pairs from the raw truth: the cleaned text has more, and
    // the run (not dedup) that eval scores finds them, all correct.
    assert!(report["truth_pairs"].as_u64() > raw["truth_pairs"].as_u64(), "{report}");
    assert_eq!(report["pair_level"]["precision"], 1.0, "{report}");
    assert_eq!(report["duplicates_below_threshold"], 0);
    assert!(dir.path("ev/run/removed.jsonl").exists(), "the scored run is `doppel run`");

    // With --containment the truth holds the planted truncated copy, which
    // is far below the Jaccard threshold, and the run is scored against it.
    dir.ok(&["eval", &news, "--out", "cont", "-q", "--clean", "--site-field", "site", "--containment", "0.8"]);
    let report: serde_json::Value = serde_json::from_str(&dir.read("cont/eval.json")).unwrap();
    assert_eq!(report["containment"], 0.8);
    let truth = dir.json_lines("cont/truth_pairs.jsonl");
    let planted = truth.iter().find(|p| p["a"] == "wire-006" && p["b"] == "wire-020").expect("the truncated copy");
    assert!(planted["jaccard"].as_f64().unwrap() < 0.8 && planted["containment"].as_f64().unwrap() >= 0.8);
    assert_eq!(report["pair_level"]["precision"], 1.0, "{report}");
    assert_eq!(report["duplicates_below_threshold"], 0);
}
