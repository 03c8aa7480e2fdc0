//! The bundled samples: the README's command finds the planted clusters.

use std::collections::BTreeSet;

use crate::util::*;

fn expected() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/expected_clusters.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn groups(v: &serde_json::Value) -> BTreeSet<BTreeSet<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_string()).collect())
        .collect()
}

/// Clusters as sets of ids (kept plus duplicates).
fn clusters_of(dir: &Dir, out: &str) -> BTreeSet<BTreeSet<String>> {
    dir.json_lines(&format!("{out}/clusters.jsonl"))
        .iter()
        .map(|c| {
            let mut g: BTreeSet<String> =
                c["duplicates"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
            g.insert(c["kept"].as_str().unwrap().to_string());
            g
        })
        .collect()
}

fn samples() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/news.jsonl").display().to_string()
}

#[test]
fn dedup_on_raw_samples_finds_exactly_the_raw_clusters() {
    let dir = Dir::new();
    dir.ok(&["dedup", &samples(), "--out", "out", "-q"]);
    assert_eq!(clusters_of(&dir, "out"), groups(&expected()["raw_clusters"]));
    // Every reported similarity is exact and at or above the threshold.
    for c in dir.json_lines("out/clusters.jsonl") {
        for d in c["duplicates"].as_array().unwrap() {
            assert!(d["jaccard"].as_f64().unwrap() >= 0.8, "{c}");
        }
    }
}

#[test]
fn containment_finds_the_truncated_copy() {
    let dir = Dir::new();
    dir.ok(&["dedup", &samples(), "--out", "out", "-q", "--containment", "0.8"]);
    let found = clusters_of(&dir, "out");
    for pair in expected()["containment"].as_array().unwrap() {
        let (full, part) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        assert!(found.iter().any(|g| g.contains(full) && g.contains(part)), "{full} ~ {part} in {found:?}");
    }
    // Stories about the same event written independently stay apart.
    for nd in expected()["not_duplicates"].as_array().unwrap() {
        let (a, b) = (nd[0].as_str().unwrap(), nd[1].as_str().unwrap());
        let together = found.iter().any(|g| g.contains(a) && g.contains(b));
        let contained = expected()["containment"].as_array().unwrap().iter().any(|p| p[1] == b || p[1] == a);
        assert!(!together || contained, "{a} and {b} must not be merged");
    }
}
