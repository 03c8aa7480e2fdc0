//! The library's top-level modules import one way: no cycle between them,
//! and the primitives never reach up to the pipeline or the configuration.
//!
//! Read from the source: an import is a `crate::NAME` outside a comment,
//! where NAME is a top-level module declared in `src/lib.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that are building blocks: each does one job on its input, and
/// the pipeline wires them together.
const PRIMITIVES: [&str; 6] = ["shingle", "minhash", "lsh", "verify", "cluster", "clean"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules `lib.rs` declares.
fn modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The top-level modules `source` names through `crate::`, outside comments.
fn imports_in(source: &str, modules: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let code = line.split(" // ").next().unwrap_or(line);
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

/// Each top-level module and the others it imports.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for m in &modules {
        let mut files = Vec::new();
        for path in [src().join(format!("{m}.rs")), src().join(m)] {
            if path.exists() {
                rust_files(&path, &mut files);
            }
        }
        assert!(!files.is_empty(), "no source for module {m}");
        let mut imports = BTreeSet::new();
        for f in files {
            imports.extend(imports_in(&std::fs::read_to_string(f).unwrap(), &modules));
        }
        imports.remove(m);
        graph.insert(m.clone(), imports);
    }
    graph
}

/// A cycle of `graph`, as the modules on it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_import_one_way() {
    let graph = import_graph();
    assert!(graph.len() >= 10, "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between top-level modules: {}", cycle.join(" -> "));
    }
    for p in PRIMITIVES {
        for above in ["pipeline", "config"] {
            assert!(!graph[p].contains(above), "primitive module {p} imports {above}");
        }
    }
}

#[test]
fn the_check_finds_a_cycle_and_reads_past_comments() {
    let modules: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let source = "use crate::b::X;\n// crate::c in a comment\nlet y = crate::Error; // not a module\n";
    assert_eq!(imports_in(source, &modules), BTreeSet::from(["b".to_string()]));
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
        for (from, to) in edges {
            g.get_mut(*from).unwrap().insert(to.to_string());
        }
        g
    };
    assert_eq!(find_cycle(&graph(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap().len(), 4);
}
