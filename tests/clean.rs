//! `doppel clean` and `doppel run` end to end.

use std::collections::BTreeMap;

use crate::util::*;

fn samples(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(rel).display().to_string()
}

/// Puts the cuts of removed.jsonl back into a cleaned text.
fn restore(cleaned: &str, cuts: &[serde_json::Value]) -> String {
    let mut out = String::new();
    let chars: Vec<char> = cleaned.chars().collect();
    let mut taken = 0usize;
    let mut pos = 0usize;
    for c in cuts {
        let (start, end) = (c["start"].as_u64().unwrap() as usize, c["end"].as_u64().unwrap() as usize);
        let keep = start - pos;
        out.extend(&chars[taken..taken + keep]);
        taken += keep;
        out.push_str(c["text"].as_str().unwrap());
        pos = end;
    }
    out.extend(&chars[taken..]);
    out
}

#[test]
fn golden_directory_comes_out_as_expected_and_expected_files_are_left_alone() {
    let dir = Dir::new();
    dir.ok(&["clean", &samples("cleaner"), "--out", "out", "-q"]);
    let cleaned: BTreeMap<String, String> = dir
        .json_lines("out/cleaned.jsonl")
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v["text"].as_str().unwrap().to_string()))
        .collect();
    let mut cases = 0;
    for (id, text) in &cleaned {
        if let Some(stem) = id.strip_suffix(".input.txt") {
            let expected = std::fs::read_to_string(samples(&format!("cleaner/{stem}.expected.txt"))).unwrap();
            assert_eq!(text, &expected, "case {stem}");
            cases += 1;
        } else if id.ends_with(".expected.txt") {
            // Cleaning clean text changes nothing.
            let original = std::fs::read_to_string(samples(&format!("cleaner/{id}"))).unwrap();
            assert_eq!(text, &original, "{id} was changed");
        }
    }
    assert!(cases >= 16);
}

#[test]
fn cleaned_records_keep_every_other_field_and_cuts_rebuild_the_original() {
    let dir = Dir::new();
    dir.ok(&["clean", &samples("news.jsonl"), "--out", "out", "-q", "--site-field", "site"]);
    let input = std::fs::read_to_string(samples("news.jsonl")).unwrap();
    let originals: Vec<serde_json::Value> = input.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let cleaned = dir.json_lines("out/cleaned.jsonl");
    assert_eq!(cleaned.len(), originals.len());
    let removed: BTreeMap<String, Vec<serde_json::Value>> = dir
        .json_lines("out/removed.jsonl")
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v["removed"].as_array().unwrap().clone()))
        .collect();
    assert!(removed.len() > 30, "most sample articles carry junk");
    for (orig, clean) in originals.iter().zip(&cleaned) {
        for field in ["id", "site", "url"] {
            assert_eq!(orig[field], clean[field]);
        }
        let id = orig["id"].as_str().unwrap();
        let cuts = removed.get(id).cloned().unwrap_or_default();
        assert_eq!(restore(clean["text"].as_str().unwrap(), &cuts), orig["text"].as_str().unwrap(), "{id}");
    }
    // No article is cleaned away (the golden cases pin what must be kept).
    for (orig, clean) in originals.iter().zip(&cleaned) {
        let words = |v: &serde_json::Value| v["text"].as_str().unwrap().split_whitespace().count();
        assert!(words(orig) < 5 || words(clean) * 2 > words(orig), "{} lost most of its text", orig["id"]);
    }
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["documents"], 39);
    assert!(stats["rules"]["site_boilerplate"]["cuts"].as_u64().unwrap() > 0);
}

#[test]
fn run_equals_clean_then_dedup_and_finds_the_planted_clusters() {
    let dir = Dir::new();
    dir.ok(&["run", &samples("news.jsonl"), "--out", "run", "-q", "--site-field", "site"]);
    dir.ok(&["clean", &samples("news.jsonl"), "--out", "clean", "-q", "--site-field", "site"]);
    dir.ok(&["dedup", "clean/cleaned.jsonl", "--out", "dedup", "-q"]);
    assert_same_file(&dir.path("run/clusters.jsonl"), &dir.path("dedup/clusters.jsonl"));
    assert_same_file(&dir.path("run/deduped.jsonl"), &dir.path("dedup/deduped.jsonl"));
    assert_same_file(&dir.path("run/removed.jsonl"), &dir.path("clean/removed.jsonl"));
    // All six planted clusters, where dedup on raw text finds three.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(samples("expected_clusters.json")).unwrap()).unwrap();
    let clusters = dir.json_lines("run/clusters.jsonl");
    assert_eq!(clusters.len(), expected["clusters"].as_array().unwrap().len());
    let removed: usize = clusters.iter().map(|c| c["duplicates"].as_array().unwrap().len()).sum();
    let planted: usize = expected["clusters"].as_array().unwrap().iter().map(|c| c.as_array().unwrap().len() - 1).sum();
    assert_eq!(removed, planted);
}

#[test]
fn bad_rules_name_the_rule_and_the_file() {
    let dir = Dir::new();
    dir.write("rules.json", r#"{"caption": {"extra_patterns": ["(unclosed"]}}"#);
    dir.write("in.jsonl", record("a", "text"));
    let out = dir.run(&["clean", "in.jsonl", "--out", "out", "--rules", "rules.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("rules.json") && err.contains("rule `caption`"), "{err}");
}

#[test]
fn show_rules_prints_rules_that_load_back_and_a_rules_file_changes_behaviour() {
    let dir = Dir::new();
    let out = dir.ok(&["clean", "--show-rules"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules["caption"]["patterns"].as_array().unwrap().len() > 2);
    dir.write("rules.json", r#"{"prompt": {"enabled": false}}"#);
    dir.write(
        "in.jsonl",
        record("a", "Ships wait offshore as the strike goes on for a third day.\n\nShare this article"),
    );
    dir.ok(&["clean", "in.jsonl", "--out", "on", "-q"]);
    dir.ok(&["clean", "in.jsonl", "--out", "off", "-q", "--rules", "rules.json"]);
    assert!(!dir.json_lines("on/cleaned.jsonl")[0]["text"].as_str().unwrap().contains("Share"));
    assert!(dir.json_lines("off/cleaned.jsonl")[0]["text"].as_str().unwrap().contains("Share"));
}

#[test]
fn explain_shows_how_one_document_is_cut_and_names_a_missing_id() {
    let dir = Dir::new();
    dir.write("in.jsonl", site_pages("site", |_| "harbour.example".into()));
    for cmd in ["clean", "run"] {
        let out = dir.ok(&[cmd, "in.jsonl", "--site-field", "site", "--explain", "d3"]);
        let shown = String::from_utf8_lossy(&out.stdout);
        let mut lines = shown.lines();
        assert!(lines.next().unwrap().starts_with("in.jsonl:4, site harbour.example: 2 cuts"), "{shown}");
        // The site's furniture is cut whole, with the rule and where it was met;
        // the story is kept.
        assert!(shown.contains("- Harbour Ledger Weekly Bulletin\n    ^ site_boilerplate"), "{shown}");
        assert!(shown.contains("- Subscribe to the Harbour Ledger Weekly Bulletin\n    ^ prompt"), "{shown}");
        assert!(shown.contains("\"documents\":6"), "{shown}");
        assert!(shown.lines().filter(|l| l.starts_with("  ")).count() >= 2, "{shown}");
        // Nothing is written.
        assert!(!dir.path("out").exists());
    }
    let out = dir.run(&["clean", "in.jsonl", "--explain", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no record has the id \"nope\""), "{}", stderr(&out));
}

#[test]
fn a_saved_table_cleans_a_later_batch_the_same_way() {
    let dir = Dir::new();
    let slogan = "The Harbour Post: your city, every day";
    let docs: Vec<String> = (0..8)
        .map(|i| {
            serde_json::json!({"id": format!("d{i}"), "site": "post.example",
                "text": format!("{}\n\n{slogan}", story(i, 40))})
            .to_string()
        })
        .collect();
    dir.write("archive.jsonl", docs[..6].join("\n"));
    dir.write("daily.jsonl", docs[6..].join("\n"));
    dir.ok(&["clean", "archive.jsonl", "--out", "a", "-q", "--site-field", "site", "--save-table", "table.json"]);
    dir.ok(&["clean", "daily.jsonl", "--out", "b", "-q", "--site-field", "site", "--table", "table.json"]);
    for c in dir.json_lines("b/cleaned.jsonl") {
        assert!(!c["text"].as_str().unwrap().contains("Harbour Post"), "{c}");
    }
    // Learned from two documents alone, the slogan would not qualify.
    dir.ok(&["clean", "daily.jsonl", "--out", "c", "-q", "--site-field", "site"]);
    assert!(dir.json_lines("c/cleaned.jsonl")[0]["text"].as_str().unwrap().contains("Harbour Post"));
}

#[test]
fn clean_reports_bad_records_like_dedup() {
    let dir = Dir::new();
    dir.write("in.jsonl", format!("{}\nnot json\n", record("a", "Fine text here.")));
    let out = dir.run(&["clean", "in.jsonl", "--out", "out", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("in.jsonl:2:"), "{}", stderr(&out));
    assert!(!dir.path("out/cleaned.jsonl").exists());
    dir.ok(&["run", "in.jsonl", "--out", "out", "-q", "--skip-bad"]);
    assert_eq!(dir.json_lines("out/rejected.jsonl")[0]["line"], 2);
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(
        (stats["documents"].as_u64(), stats["rejected"].as_u64(), stats["kept"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
}

#[test]
fn run_cleans_the_records_it_reads_again_exactly_as_clean_writes_them() {
    // `run` signs and writes texts rebuilt from the original records and
    // the cleaner's cuts: text files, records without ids, escapes that the
    // cleaner writes back differently, and a bad record passed over.
    let dir = Dir::new();
    let article = |seed: u64, copy: bool, n: usize| {
        let body = story(seed, 150);
        let body = if copy { edit(&body, 50) } else { body };
        format!(
            " date 2024-12-28 Home\n\nHarbour strike enters day {n} | Image: X\n\n{body}\n\nShare this article\n\nPhoto: Reuters"
        )
    };
    for i in 0..4u64 {
        dir.write(&format!("in/t{i}.txt"), article(i / 2, i % 2 == 1, i as usize));
    }
    let mut lines: Vec<String> = (0..4u64)
        .map(|i| {
            let record = serde_json::json!({"text": article(10 + i / 2, i % 2 == 1, i as usize), "n": i}).to_string();
            record.replace("Home", "H\\u006fme").replace("Reuters", "Reu\\/ters")
        })
        .collect();
    lines.insert(2, r#"{"text": 7}"#.to_string());
    dir.write("in/docs.jsonl", lines.join("\n") + "\n");

    dir.ok(&["run", "in", "--out", "run", "-q", "--skip-bad"]);
    dir.ok(&["clean", "in", "--out", "clean", "-q", "--skip-bad"]);
    dir.ok(&["dedup", "clean/cleaned.jsonl", "--out", "dedup", "-q"]);
    assert_same_file(&dir.path("run/deduped.jsonl"), &dir.path("dedup/deduped.jsonl"));
    assert_same_file(&dir.path("run/removed.jsonl"), &dir.path("clean/removed.jsonl"));
    assert_same_file(&dir.path("run/rejected.jsonl"), &dir.path("clean/rejected.jsonl"));
    assert!(!dir.read("run/deduped.jsonl").contains("Home"), "the header is cut");
    // The ids name the original records: FILE:LINE of the input, not of a spool.
    let pairs: Vec<(String, String)> = dir
        .json_lines("run/clusters.jsonl")
        .iter()
        .map(|c| (c["kept"].as_str().unwrap().into(), c["duplicates"][0]["id"].as_str().unwrap().into()))
        .collect();
    let want = [
        ("in/docs.jsonl:1", "in/docs.jsonl:2"),
        ("in/docs.jsonl:4", "in/docs.jsonl:5"),
        ("t0.txt", "t1.txt"),
        ("t2.txt", "t3.txt"),
    ];
    assert_eq!(pairs, want.map(|(a, b)| (a.to_string(), b.to_string())));
    // The reread and spill paths cut the texts the same way.
    let args = ["--exact-sets", "reread", "--memory-limit", "1", "--threads", "1"];
    dir.ok(&[&["run", "in", "--out", "reread", "-q", "--skip-bad"][..], &args].concat());
    dir.assert_same_dedup_outputs("run", "reread");
}

#[test]
fn run_keeps_each_records_cuts_with_it_across_batches_bad_records_and_a_broken_file() {
    // Several 4 MiB batches with bad records inside them, then a gzip file
    // cut short: every later pass of `run` must meet the records the
    // cleaning pass met, with the cuts it logged for each.
    use std::io::Write;
    let dir = Dir::new();
    let article = |i: u64| {
        let body = story(i % 1500, 250);
        let body = if i >= 1500 { edit(&body, 60 + (i % 7) as usize) } else { body };
        format!(" date 2024-12-28 Home\n\nHarbour strike day {i} | Image: X\n\n{body}\n\nShare this article")
    };
    let mut lines = Vec::new();
    for i in 0..6000u64 {
        match i % 401 {
            7 => lines.push(r#"{"text": not json}"#.to_string()),
            9 => lines.push(r#"{"id": "no text"}"#.to_string()),
            _ => lines.push(serde_json::json!({"id": format!("d{i}"), "text": article(i)}).to_string()),
        }
    }
    dir.write("in/a.jsonl", lines.join("\n") + "\n");
    let tail: Vec<String> =
        (6000..6400u64).map(|i| serde_json::json!({"text": article(i % 3000)}).to_string()).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all((tail.join("\n") + "\n").as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    dir.write("in/b.jsonl.gz", &bytes[..bytes.len() * 2 / 3]);

    dir.ok(&["run", "in", "--out", "run", "-q", "--skip-bad"]);
    dir.ok(&["clean", "in", "--out", "clean", "-q", "--skip-bad"]);
    dir.ok(&["dedup", "clean/cleaned.jsonl", "--out", "dedup", "-q"]);
    assert_same_file(&dir.path("run/deduped.jsonl"), &dir.path("dedup/deduped.jsonl"));
    assert_same_file(&dir.path("run/rejected.jsonl"), &dir.path("clean/rejected.jsonl"));
    let rejected = dir.json_lines("run/rejected.jsonl");
    assert_eq!(rejected.len(), 2 * 15 + 1, "bad records and the broken file");
    assert!(rejected.last().unwrap()["reason"].as_str().unwrap().contains("gzip member 1 at byte 0 is damaged"));
    let stats: serde_json::Value = serde_json::from_str(&dir.read("run/stats.json")).unwrap();
    assert!(stats["duplicates"].as_u64().unwrap() > 1000, "{stats}");
    // One thread, and the sets read again under a memory limit: the same.
    dir.ok(&["run", "in", "--out", "one", "-q", "--skip-bad", "--threads", "1", "--exact-sets", "reread"]);
    dir.assert_same_dedup_outputs("run", "one");
}

/// Pages of one site: the same furniture around different stories.
fn site_pages(site_field: &str, site_value: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for i in 0..6 {
        let text = format!(
            "Harbour Ledger Weekly Bulletin\n\n{}.\n\n{}.\n\nSubscribe to the Harbour Ledger Weekly Bulletin",
            story(i as u64, 40),
            story(100 + i as u64, 40)
        );
        out.push_str(&serde_json::json!({"id": format!("d{i}"), site_field: site_value(i), "text": text}).to_string());
        out.push('\n');
    }
    out
}

#[test]
fn a_sites_bylines_are_cut_as_a_template_and_learned_cuts_say_where_they_were_met() {
    let names = ["Ana Ruiz", "Li Wei", "Tom Okafor", "Mia Berg", "Omar Haddad", "Jo Park"];
    let mut input = String::new();
    for (i, name) in names.iter().enumerate() {
        let text = format!(
            "Harbour Ledger Weekly Bulletin\n\nBy {name} | June {}, 2024\n\n{}.\n\n{}.",
            i + 3,
            story(i as u64, 40),
            story(100 + i as u64, 40)
        );
        input
            .push_str(&serde_json::json!({"id": format!("d{i}"), "site": "harbour.example", "text": text}).to_string());
        input.push('\n');
    }
    let dir = Dir::new();
    dir.write("in.jsonl", input);
    dir.ok(&["clean", "in.jsonl", "--out", "out", "-q", "--site-field", "site"]);
    let cuts: Vec<serde_json::Value> =
        dir.json_lines("out/removed.jsonl").iter().flat_map(|v| v["removed"].as_array().unwrap().clone()).collect();
    let by_rule = |rule: &str| cuts.iter().filter(|c| c["rule"] == rule).cloned().collect::<Vec<_>>();
    let bylines = by_rule("site_template");
    assert_eq!(bylines.len(), 6, "{cuts:#?}");
    for (cut, name) in bylines.iter().zip(names) {
        assert!(cut["text"].as_str().unwrap().starts_with(&format!("By {name} | June")), "{cut}");
        assert_eq!((cut["documents"].as_u64(), cut["sites"].as_u64()), (Some(6), Some(1)), "{cut}");
    }
    let slogans = by_rule("site_boilerplate");
    assert_eq!(slogans.len(), 6, "{cuts:#?}");
    assert!(slogans.iter().all(|c| c["documents"] == 6 && c["sites"] == 1), "{slogans:#?}");
    let cleaned = dir.json_lines("out/cleaned.jsonl");
    assert!(cleaned.iter().all(|d| !d["text"].as_str().unwrap().contains("By ")), "{cleaned:#?}");
}

#[test]
fn a_site_field_holding_urls_groups_pages_by_host() {
    let dir = Dir::new();
    dir.write("in.jsonl", site_pages("url", |i| format!("https://www.Harbour.example/news/{i}.html")));
    dir.ok(&["clean", "in.jsonl", "--out", "out", "-q", "--site-field", "url", "--save-table", "table.json"]);
    let table: serde_json::Value = serde_json::from_str(&dir.read("table.json")).unwrap();
    let sites: Vec<&str> = table["lines"].as_array().unwrap().iter().filter_map(|e| e["site"].as_str()).collect();
    assert!(!sites.is_empty() && sites.iter().all(|&s| s == "harbour.example"), "{sites:?}");
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["documents_with_site"], 6);
}

#[test]
fn a_site_field_no_record_holds_is_a_warning_even_when_quiet() {
    let dir = Dir::new();
    dir.write("in.jsonl", site_pages("site", |_| "harbour.example".into()));
    let out = dir.ok(&["clean", "in.jsonl", "--out", "out", "-q", "--site-field", "sitee"]);
    assert!(stderr(&out).contains("warning: no record has the site field \"sitee\""), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["warnings"].as_array().unwrap().len(), 1);
    let out = dir.ok(&["clean", "in.jsonl", "--out", "out2", "-q", "--site-field", "site"]);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    // A field few records hold is a warning too: 2 of 6 here (null is none).
    let sparse = site_pages("site", |i| if i < 2 { "harbour.example".into() } else { "null".into() })
        .replace("\"site\":\"null\"", "\"site\":null");
    dir.write("sparse.jsonl", sparse);
    let out = dir.ok(&["run", "sparse.jsonl", "--out", "out3", "-q", "--site-field", "site"]);
    assert!(stderr(&out).contains("only 2 of 6 records have the site field \"site\""), "{}", stderr(&out));
}

/// Labelled pages in the `train-cleaner` format: a menu, a headline, prose,
/// and a footer.
fn labelled_pages(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let mut lines = vec![
            serde_json::json!({"text": "Home | World | Business | Sport", "label": "boilerplate"}),
            serde_json::json!({"text": format!("Harbour talks stall for day {i}"), "label": "content"}),
        ];
        for k in 0..3 {
            lines.push(serde_json::json!({"text": format!("The union said on day {i} that the strike in part {k} of the port would go on until the owners returned to the talks."), "label": "content"}));
        }
        lines.push(serde_json::json!({"text": "Share on Facebook", "label": "boilerplate"}));
        lines.push(serde_json::json!({"text": "© 2024 Harbour Ledger", "label": "boilerplate"}));
        out.push_str(&serde_json::json!({"id": i, "lines": lines}).to_string());
        out.push('\n');
    }
    out
}

#[test]
fn a_model_trained_with_doppel_cleans_with_its_threshold_and_explains_each_cut() {
    let dir = Dir::new();
    dir.write("train.jsonl", labelled_pages(60));
    let out = dir.ok(&["train-cleaner", "train.jsonl", "--out", "model.json", "--hidden", "8", "--epochs", "30"]);
    assert!(stderr(&out).contains("junk threshold"), "{}", stderr(&out));
    let text = "Home | World | Business | Sport\n\nHarbour talks stall again\n\n\
                The union said on Friday that the strike would go on until the owners returned to the talks.\n\n\
                The owners said the offer on the table was fair and final, and urged the workers to return.\n\n\
                Share on Facebook";
    dir.write("in.jsonl", record("a", text) + "\n");
    // Rules off, so that every cut is the classifier's.
    dir.write(
        "rules.json",
        r#"{"caption":{"enabled":false},"prompt":{"enabled":false},"read_more":{"enabled":false},
        "copyright":{"enabled":false},"tags":{"enabled":false},"author":{"enabled":false},"header":{"enabled":false}}"#,
    );
    dir.ok(&["clean", "in.jsonl", "--out", "out", "-q", "--model", "model.json", "--rules", "rules.json"]);
    let cleaned = dir.json_lines("out/cleaned.jsonl");
    let kept = cleaned[0]["text"].as_str().unwrap();
    assert!(kept.starts_with("Harbour talks stall again\n\nThe union said"), "{kept}");
    assert!(!kept.contains("Share on") && !kept.contains("Home |"), "{kept}");
    let removed = dir.json_lines("out/removed.jsonl");
    for cut in removed[0]["removed"].as_array().unwrap() {
        assert_eq!(cut["rule"], "classifier");
        assert!(cut["junk"].as_f64().unwrap() >= 0.5, "{cut}");
        assert_eq!(cut["because"].as_array().unwrap().len(), 3, "{cut}");
    }
    // The knob: at a threshold of 1 nothing is cut.
    dir.ok(&[
        "clean",
        "in.jsonl",
        "--out",
        "out1",
        "-q",
        "--model",
        "model.json",
        "--rules",
        "rules.json",
        "--junk-threshold",
        "1",
    ]);
    assert_eq!(dir.json_lines("out1/cleaned.jsonl")[0]["text"].as_str().unwrap(), text);
    // A labelled page with a bad label names its file and line.
    dir.write("bad.jsonl", labelled_pages(1) + "{\"lines\":[{\"text\":\"x\",\"label\":\"menu\"}]}\n");
    let out = dir.run(&["train-cleaner", "bad.jsonl", "--out", "m2.json"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad.jsonl:2") && stderr(&out).contains("\"menu\""), "{}", stderr(&out));
    // Pages of one label only teach nothing: refused, not a model that cuts everything.
    dir.write("junk.jsonl", "{\"lines\":[{\"text\":\"Home | World\",\"label\":\"junk\"}]}\n");
    let out = dir.run(&["train-cleaner", "junk.jsonl", "--out", "m3.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no content line"), "{}", stderr(&out));
    assert!(!dir.path("m3.json").exists());
}

#[test]
fn a_custom_rule_needs_only_a_name_and_its_patterns() {
    // The worked example of docs/rules.md.
    let dir = Dir::new();
    dir.write("rules.json", r#"{"custom": [{"name": "radio", "patterns": ["^harbour ledger radio\\b.*$"]}]}"#);
    let text = "Ships wait offshore as the strike goes on for a third day, the union said.\n\n\
                Harbour Ledger Radio: listen live on weekdays at 7";
    dir.write("in.jsonl", record("a", text));
    dir.ok(&["clean", "in.jsonl", "--out", "out", "-q", "--rules", "rules.json"]);
    let removed = dir.json_lines("out/removed.jsonl");
    let rules: Vec<&str> =
        removed[0]["removed"].as_array().unwrap().iter().map(|c| c["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["radio"]);
    // A rule without its patterns says which field is missing.
    dir.write("bad.json", r#"{"custom": [{"name": "radio"}]}"#);
    let out = dir.run(&["clean", "in.jsonl", "--out", "bad", "-q", "--rules", "bad.json"]);
    assert!(stderr(&out).contains("bad.json") && stderr(&out).contains("patterns"), "{}", stderr(&out));
}

#[test]
fn a_missing_table_model_or_rules_file_is_bad_input_that_names_it() {
    let dir = Dir::new();
    dir.write("in.jsonl", record("a", "Ships wait offshore as the strike goes on.") + "\n");
    for flag in ["--table", "--model", "--rules"] {
        let out = dir.run(&["clean", "in.jsonl", "-o", "out", flag, "missing.json"]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(stderr(&out).contains("missing.json"), "{flag}: {}", stderr(&out));
        assert!(!dir.path("out").exists(), "{flag}");
    }
}
