//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temp directory with the binary at hand.
pub(crate) struct Dir {
    pub(crate) tmp: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir { tmp: tempfile::tempdir().expect("temp dir") }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Asserts that two `dedup` output directories hold the same
    /// `deduped.jsonl`, `clusters.jsonl` and `rejected.jsonl`.
    pub(crate) fn assert_same_dedup_outputs(&self, a: &str, b: &str) {
        for f in ["deduped.jsonl", "clusters.jsonl", "rejected.jsonl"] {
            assert_same_file(&self.path(&format!("{a}/{f}")), &self.path(&format!("{b}/{f}")));
        }
    }

    pub(crate) fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Runs doppel with `args` (relative paths resolve inside the dir).
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doppel"));
        cmd.args(args).current_dir(self.tmp.path());
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn doppel");
        if let Some(bytes) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(bytes).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs and asserts success.
    pub(crate) fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "doppel {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    pub(crate) fn json_lines(&self, rel: &str) -> Vec<serde_json::Value> {
        self.read(rel).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: {e}: {l}"))).collect()
    }
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Deterministic pseudo-random words: distinct stories share almost no 5-grams.
pub(crate) fn story(seed: u64, words: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(words);
    for _ in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(format!("w{}", x % 5000));
    }
    out.join(" ")
}

/// `text` with every `every`-th word replaced.
pub(crate) fn edit(text: &str, every: usize) -> String {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| if i % every == every - 1 { "edited".to_string() } else { w.to_string() })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn record(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text}).to_string()
}

/// Asserts that two files are equal, showing the first differing line.
pub(crate) fn assert_same_file(a: &Path, b: &Path) {
    let x = std::fs::read_to_string(a).unwrap();
    let y = std::fs::read_to_string(b).unwrap();
    if x != y {
        for (i, (l, r)) in x.lines().zip(y.lines()).enumerate() {
            assert_eq!(l, r, "{} and {} differ at line {}", a.display(), b.display(), i + 1);
        }
        panic!("{} and {} differ in length", a.display(), b.display());
    }
}
