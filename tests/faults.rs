//! Faults: killed runs, runs at once, inputs that are not plain files, and
//! what each leaves in the output directory. Each asserts that the
//! directory holds one whole run (this one or the one before) and that no
//! record is lost. Kills are failpoints (`DOPPEL_FAILPOINT`, see
//! `src/failpoint.rs`): the binary aborts there, as `kill -9` would stop it.

use std::process::{Command, Output, Stdio};

use crate::util::{Dir, record, stderr, story};

fn corpus(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        // Pairs of copies: half the records are duplicates.
        out.push_str(&record(&format!("d{i}"), &story((i / 2) as u64, 60)));
        out.push('\n');
    }
    out
}

fn run_with_failpoint(dir: &Dir, point: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args(args)
        .current_dir(dir.path(""))
        .env("DOPPEL_FAILPOINT", point)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The names in a directory, sorted.
fn names(dir: &Dir, rel: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path(rel))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn outputs(dir: &Dir, rel: &str) -> Vec<(String, String)> {
    names(dir, rel)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let text = dir.read(&format!("{rel}/{n}"));
            (n, text)
        })
        .collect()
}

#[test]
fn a_run_killed_before_its_commit_leaves_the_previous_run_whole() {
    let dir = Dir::new();
    dir.write("a.jsonl", corpus(40));
    dir.write("b.jsonl", corpus(10));
    dir.write("big.jsonl", corpus(400));
    dir.ok(&["run", "a.jsonl", "--out", "out", "-q"]);
    let before = outputs(&dir, "out");
    let kills: [(&str, &[&str]); 5] = [
        ("commit", &["dedup", "b.jsonl"]),
        ("commit", &["clean", "b.jsonl"]),
        ("spill", &["run", "big.jsonl", "--memory-limit", "2KB"]),
        ("spill", &["dedup", "big.jsonl", "--memory-limit", "2KB"]),
        ("spool", &["dedup", "-"]),
    ];
    for (point, args) in kills {
        let args: Vec<&str> = args.iter().copied().chain(["--out", "out", "-q"]).collect();
        let out = run_with_failpoint(&dir, point, &args);
        assert!(!out.status.success(), "{args:?} was not killed");
        let name = point.split(':').next().unwrap();
        assert!(stderr(&out).contains(&format!("failpoint {name}")), "{}", stderr(&out));
        assert_eq!(outputs(&dir, "out"), before, "{args:?} killed at {point}");
    }
    // What the killed runs left (staging directories, spools) goes with
    // the next run, which commits whole.
    dir.ok(&["dedup", "b.jsonl", "--out", "out", "-q"]);
    assert_eq!(names(&dir, ""), ["a.jsonl", "b.jsonl", "big.jsonl", "out"]);
    assert_eq!(
        names(&dir, "out"),
        [".doppel.lock", "clusters.jsonl", "deduped.jsonl", "rejected.jsonl", "report.html", "stats.json"]
    );
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["documents"], 10);
}

#[test]
fn a_second_run_into_a_busy_directory_fails_at_once_naming_the_first() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(10));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    let before = outputs(&dir, "out");
    // The test holds the lock, as a running doppel does.
    let lock = std::fs::OpenOptions::new().write(true).open(dir.path("out/.doppel.lock")).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(dir.path("out/.doppel.lock"), "pid 12345, `doppel run big.jsonl`").unwrap();
    let out = dir.run(&["clean", "in.jsonl", "--out", "out", "-q"]);
    // A failed run, not bad input: exit code 1.
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("in use by another doppel run") && err.contains("pid 12345"), "{err}");
    assert_eq!(outputs(&dir, "out"), before);
    drop(lock);
    dir.ok(&["clean", "in.jsonl", "--out", "out", "-q"]);
    // A clean replaces the dedup whole: no deduped.jsonl of the earlier run.
    assert_eq!(names(&dir, "out"), [".doppel.lock", "cleaned.jsonl", "rejected.jsonl", "removed.jsonl", "stats.json"]);
}

#[test]
fn an_output_directory_inside_an_input_directory_is_never_read() {
    let dir = Dir::new();
    dir.write("data/part-1.jsonl", corpus(20));
    for _ in 0..2 {
        dir.ok(&["dedup", "data", "--out", "data/out", "-q"]);
        let stats: serde_json::Value = serde_json::from_str(&dir.read("data/out/stats.json")).unwrap();
        assert_eq!(stats["documents"], 20);
    }
    // Nor is an older output directory elsewhere under it, or the output
    // directory named as the input.
    dir.ok(&["dedup", "data", "--out", "other", "-q"]);
    let stats: serde_json::Value = serde_json::from_str(&dir.read("other/stats.json")).unwrap();
    assert_eq!(stats["documents"], 20);
    let out = dir.run(&["dedup", "other", "--out", "other", "-q"]);
    assert!(stderr(&out).contains("is the output directory"), "{}", stderr(&out));
}

#[test]
fn files_in_the_output_directory_that_doppel_did_not_write_stop_the_run_before_any_work() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(10));
    dir.write("results/notes.md", "my notes");
    let out = dir.run(&["dedup", "in.jsonl", "--out", "results", "-q"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("notes.md"), "{}", stderr(&out));
    assert_eq!(dir.read("results/notes.md"), "my notes");
    // An out dir that is a file, and a missing input, say so; the latter
    // leaves no empty directory behind.
    dir.write("file", "x");
    let out = dir.run(&["dedup", "in.jsonl", "--out", "file", "-q"]);
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
    let out = dir.run(&["dedup", "missing.jsonl", "--out", "new", "-q"]);
    assert_eq!(out.status.code(), Some(2), "bad input");
    assert!(!dir.path("new").exists());
    // Every cause is said once.
    let err = stderr(&out);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_pipe_is_read_once_into_a_spool_like_stdin() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(20));
    dir.ok(&["dedup", "in.jsonl", "--out", "file", "-q"]);
    let fifo = dir.path("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let fifo = fifo.clone();
        let bytes = corpus(20);
        std::thread::spawn(move || std::fs::write(fifo, bytes).unwrap())
    };
    let out = dir.run(&["dedup", "pipe", "--out", "piped", "-q"]);
    writer.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dir.read("piped/clusters.jsonl"), dir.read("file/clusters.jsonl"));
    assert_eq!(dir.read("piped/deduped.jsonl"), dir.read("file/deduped.jsonl"));
}

#[cfg(unix)]
#[test]
fn unreadable_paths_in_an_input_directory_are_rejected_under_skip_bad() {
    let dir = Dir::new();
    dir.write("data/a.jsonl", corpus(10));
    std::os::unix::fs::symlink("nowhere.jsonl", dir.path("data/dangling.jsonl")).unwrap();
    std::os::unix::fs::symlink("loop2.jsonl", dir.path("data/loop1.jsonl")).unwrap();
    std::os::unix::fs::symlink("loop1.jsonl", dir.path("data/loop2.jsonl")).unwrap();
    // A symlink to a directory above: walked once.
    std::os::unix::fs::symlink("..", dir.path("data/up")).unwrap();
    // An editor's lock file: a dangling symlink named like no input.
    std::os::unix::fs::symlink("user@host.1234", dir.path("data/.#a.jsonl")).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path("data/notes")).unwrap();
    let out = dir.run(&["dedup", "data", "--out", "strict", "-q"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("dangling.jsonl"), "{}", stderr(&out));
    dir.ok(&["dedup", "data", "--out", "lenient", "-q", "--skip-bad"]);
    let rejected = dir.read("lenient/rejected.jsonl");
    for name in ["dangling.jsonl", "loop1.jsonl", "loop2.jsonl"] {
        assert!(rejected.contains(name), "{name} not rejected: {rejected}");
    }
    let stats: serde_json::Value = serde_json::from_str(&dir.read("lenient/stats.json")).unwrap();
    // The ten records of a.jsonl, once, and one rejection a bad path.
    assert_eq!((stats["kept"].as_u64(), stats["duplicates"].as_u64()), (Some(5), Some(5)), "{stats}");
    assert_eq!(stats["rejected"], 3, "{stats}");
}

#[test]
fn a_record_over_the_size_limit_is_rejected_with_its_length_and_read_past() {
    let dir = Dir::new();
    let mut input = corpus(4);
    input.push_str(&record("huge", &story(99, 2000)));
    input.push('\n');
    input.push_str(&corpus(4));
    dir.write("in.jsonl", &input);
    // No line break at all: a file of zeros, read past within bounded memory.
    dir.write("zeros.jsonl", vec![0u8; 8 << 20]);
    let out = dir.run(&["dedup", "in.jsonl", "--out", "strict", "-q", "--max-record-bytes", "4KiB"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("in.jsonl:5") && err.contains("over the limit of 4096 bytes"), "{err}");
    dir.ok(&["run", "in.jsonl", "zeros.jsonl", "--out", "lenient", "-q", "--skip-bad", "--max-record-bytes", "4KiB"]);
    let rejected = dir.json_lines("lenient/rejected.jsonl");
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!((rejected[0]["line"].as_u64(), rejected[1]["line"].as_u64()), (Some(5), Some(1)));
    assert!(rejected[1]["reason"].as_str().unwrap().contains(&format!("record of {} bytes", 8 << 20)), "{rejected:?}");
    let stats: serde_json::Value = serde_json::from_str(&dir.read("lenient/stats.json")).unwrap();
    assert_eq!((stats["documents"].as_u64(), stats["rejected"].as_u64()), (Some(10), Some(2)));
}

/// zstd frames of `lines` records each, every one after a skippable frame
/// (as `pzstd` writes them).
fn pzstd_like(corpus: &str, lines: usize) -> (Vec<u8>, Vec<usize>) {
    let all: Vec<&str> = corpus.lines().collect();
    let (mut file, mut frame_starts) = (Vec::new(), Vec::new());
    for chunk in all.chunks(lines) {
        let frame = zstd::encode_all((chunk.join("\n") + "\n").as_bytes(), 3).unwrap();
        file.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]);
        file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        frame_starts.push(file.len());
        file.extend_from_slice(&frame);
    }
    (file, frame_starts)
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn compressed_streams_as_tools_write_them_are_read_and_a_damaged_frame_costs_its_records_only() {
    let dir = Dir::new();
    let text = corpus(600);
    dir.write("plain.jsonl", &text);
    dir.ok(&["dedup", "plain.jsonl", "--out", "plain", "-q"]);
    // Skippable frames before every data frame.
    let (file, starts) = pzstd_like(&text, 100);
    dir.write("p.jsonl.zst", &file);
    dir.ok(&["dedup", "p.jsonl.zst", "--out", "pz", "-q"]);
    assert_eq!(dir.read("pz/clusters.jsonl"), dir.read("plain/clusters.jsonl"));
    assert_eq!(dir.read("pz/deduped.jsonl"), dir.read("plain/deduped.jsonl"));

    // A byte of the third frame damaged: the run stops naming it, or with
    // --skip-bad goes on with the other five frames' 500 records.
    let mut damaged = file.clone();
    damaged[(starts[2] + starts[3]) / 2] ^= 0x55;
    dir.write("d.jsonl.zst", &damaged);
    let out = dir.run(&["dedup", "d.jsonl.zst", "--out", "d", "-q"]);
    assert!(stderr(&out).contains(&format!("zstd frame 3 at byte {} is damaged", starts[2])), "{}", stderr(&out));
    dir.ok(&["dedup", "d.jsonl.zst", "--out", "d", "-q", "--skip-bad"]);
    let stats: serde_json::Value = serde_json::from_str(&dir.read("d/stats.json")).unwrap();
    assert_eq!((stats["kept"].as_u64(), stats["duplicates"].as_u64()), (Some(250), Some(250)), "{stats}");
    let rejected = dir.json_lines("d/rejected.jsonl");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0]["reason"].as_str().unwrap().contains("zstd frame 3"), "{rejected:?}");

    // gzip members (as bgzip or `cat a.gz b.gz` make them): a corrupt byte
    // in the second member's data rejects that member; trailing garbage is
    // reported, not read as a record.
    let all: Vec<&str> = text.lines().collect();
    let members: Vec<Vec<u8>> = all.chunks(200).map(|c| gzip(&(c.join("\n") + "\n"))).collect();
    let mut file = members.concat();
    file[members[0].len() + members[1].len() / 2] ^= 0x55;
    file.extend_from_slice(b"trailing garbage\n");
    dir.write("g.jsonl.gz", &file);
    let out = dir.run(&["dedup", "g.jsonl.gz", "--out", "g", "-q"]);
    assert!(stderr(&out).contains(&format!("gzip member 2 at byte {}", members[0].len())), "{}", stderr(&out));
    dir.ok(&["dedup", "g.jsonl.gz", "--out", "g", "-q", "--skip-bad"]);
    let stats: serde_json::Value = serde_json::from_str(&dir.read("g/stats.json")).unwrap();
    assert_eq!((stats["kept"].as_u64(), stats["duplicates"].as_u64()), (Some(200), Some(200)), "{stats}");
    let reasons: Vec<String> =
        dir.json_lines("g/rejected.jsonl").iter().map(|r| r["reason"].as_str().unwrap().to_string()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("gzip member 2") && reasons[1].contains("17 bytes at byte"), "{reasons:?}");
}

#[test]
fn an_input_rewritten_in_place_during_a_run_stops_it_naming_the_file() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(40));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    let before = outputs(&dir, "out");
    let touch = format!("write_pass=touch:{}", dir.path("in.jsonl").display());
    for extra in [None, Some("--skip-bad")] {
        let mut args = vec!["dedup", "in.jsonl", "--out", "out", "-q"];
        args.extend(extra);
        let out = run_with_failpoint(&dir, &touch, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("in.jsonl") && err.contains("changed while doppel read it"), "{err}");
        assert_eq!(outputs(&dir, "out"), before);
    }
}

#[test]
fn records_without_an_id_of_their_own_are_named_file_and_line_and_said_so() {
    let dir = Dir::new();
    let lines = [
        serde_json::json!({"id": "a", "text": story(1, 30)}),
        serde_json::json!({"id": null, "text": story(2, 30)}),
        serde_json::json!({"text": story(3, 30)}),
        serde_json::json!({"id": 7, "text": story(4, 30)}),
    ];
    dir.write("in.jsonl", lines.iter().map(|l| l.to_string() + "\n").collect::<String>());
    let out = dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    let warning = "2 of 4 records have no id field \"id\" (or a null one): they are named FILE:LINE";
    assert!(stderr(&out).contains(warning), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!(stats["warnings"], serde_json::json!([warning]));
    let out = dir.ok(&["run", "in.jsonl", "--out", "out", "-q", "--id-field", "doc_id"]);
    assert!(stderr(&out).contains("no record has id field \"doc_id\""), "{}", stderr(&out));
}

#[test]
fn a_full_disk_is_blamed_on_the_output_directory_and_leaves_the_previous_run() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(20));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    let before = outputs(&dir, "out");
    // Spooling stdin: the spool's directory is named, not the input.
    let out = Command::new(env!("CARGO_BIN_EXE_doppel"))
        .args(["dedup", "-", "--out", "out", "-q"])
        .current_dir(dir.path(""))
        .env("DOPPEL_FAILPOINT", "spool_write=enospc")
        .stdin(std::fs::File::open(dir.path("in.jsonl")).unwrap())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains(".out.doppel-staging-") && err.contains("cannot spool input - here"), "{err}");
    assert!(!err.contains("cannot read input"), "{err}");
    assert_eq!(out.status.code(), Some(1));
    // Writing the outputs.
    let out = run_with_failpoint(&dir, "output_sync=enospc", &["run", "in.jsonl", "--out", "out", "-q"]);
    let err = stderr(&out);
    assert!(err.contains("/out/") && err.contains("No space left on device"), "{err}");
    assert_eq!(outputs(&dir, "out"), before);
    assert_eq!(names(&dir, ""), ["in.jsonl", "out"]);
}

#[cfg(unix)]
#[test]
fn the_current_directory_as_the_output_directory_stays_where_it_is() {
    // The outputs are renamed in place: a shell standing in the directory
    // is not left in a deleted one.
    let dir = Dir::new();
    dir.write("work/in.jsonl", corpus(10));
    let inode = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let before = inode(&dir.path("work"));
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_doppel"))
            .args(["dedup", "in.jsonl", "--out", ".", "-q"])
            .current_dir(dir.path("work"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(inode(&dir.path("work")), before);
    assert_eq!(
        names(&dir, "work"),
        [".doppel.lock", "clusters.jsonl", "deduped.jsonl", "in.jsonl", "rejected.jsonl", "report.html", "stats.json"]
    );
}

#[test]
fn an_input_with_an_outputs_name_in_the_output_directory_is_read_not_truncated() {
    let dir = Dir::new();
    dir.write("in.jsonl", corpus(20));
    dir.ok(&["dedup", "in.jsonl", "--out", "out", "-q"]);
    let kept = dir.read("out/deduped.jsonl");
    // Deduplicating the output again, into the same directory: the input is
    // read whole and replaced by this run's output.
    dir.ok(&["dedup", "out/deduped.jsonl", "--out", "out", "-q"]);
    assert_eq!(dir.read("out/deduped.jsonl"), kept);
    let stats: serde_json::Value = serde_json::from_str(&dir.read("out/stats.json")).unwrap();
    assert_eq!((stats["documents"].as_u64(), stats["duplicates"].as_u64()), (Some(10), Some(0)));
    // And cleaning a cleaned file into its own directory.
    dir.ok(&["clean", "in.jsonl", "--out", "c", "-q"]);
    let cleaned = dir.read("c/cleaned.jsonl");
    dir.ok(&["clean", "c/cleaned.jsonl", "--out", "c", "-q"]);
    assert_eq!(dir.read("c/cleaned.jsonl"), cleaned);
}
