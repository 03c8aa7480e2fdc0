//! Per-stage throughput in bytes of input text per second.
//!
//! `cargo bench --bench stages` — documents come from the synthetic news
//! generator (made-up vocabulary, no junk), so the numbers compare across
//! machines without a data download.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use doppel::synth::{Generator, SentencePool, SynthOptions};
use doppel::{MinHasher, Shingling, normalize_into};
use std::hint::black_box;

fn corpus() -> Vec<String> {
    let mut g =
        Generator::new(SynthOptions { junk: false, copy_rate: 0.0, ..Default::default() }, SentencePool::default());
    (0..500).map(|_| g.next_doc().text).collect()
}

fn stages(c: &mut Criterion) {
    let docs = corpus();
    let bytes: u64 = docs.iter().map(|d| d.len() as u64).sum();
    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);

    let mut norm = String::new();
    group.bench_function("normalize", |b| {
        b.iter(|| {
            for d in &docs {
                normalize_into(d, &mut norm);
                black_box(&norm);
            }
        })
    });

    let normalized: Vec<String> = docs
        .iter()
        .map(|d| {
            let mut s = String::new();
            normalize_into(d, &mut s);
            s
        })
        .collect();
    group.bench_function("shingle_hash_word5", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for d in &normalized {
                doppel::shingle::for_each_shingle_hash(d.as_bytes(), Shingling::Words(5), 42, |h| acc ^= h);
            }
            black_box(acc)
        })
    });

    let hasher = MinHasher::new(128, Shingling::Words(5), 42);
    let mut scratch = doppel::minhash::SignScratch::default();
    let mut sig = vec![0u32; 128];
    group.bench_function("normalize_shingle_sign", |b| {
        b.iter(|| {
            for d in &docs {
                hasher.sign_into(d, &mut scratch, &mut sig);
                black_box(&sig);
            }
        })
    });

    group.bench_function("exact_shingle_set", |b| {
        b.iter(|| {
            for d in &docs {
                black_box(doppel::shingle::shingle_set(d, Shingling::Words(5), 42));
            }
        })
    });

    // Sorting a document's hashes into its set: the bucket sort doppel uses
    // against the comparison sort it replaced (both copy the hashes first).
    let hashes: Vec<Vec<u64>> = normalized
        .iter()
        .map(|d| {
            let mut v = Vec::new();
            doppel::shingle::for_each_shingle_hash(d.as_bytes(), Shingling::Words(5), 42, |h| v.push(h));
            v
        })
        .collect();
    let mut set_scratch = doppel::shingle::SetScratch::default();
    let mut buf = Vec::new();
    group.bench_function("set_sort_bucket", |b| {
        b.iter(|| {
            for h in &hashes {
                buf.clear();
                buf.extend_from_slice(h);
                doppel::shingle::sort_set(&mut buf, &mut set_scratch);
                black_box(&buf);
            }
        })
    });
    group.bench_function("set_sort_comparison", |b| {
        b.iter(|| {
            for h in &hashes {
                buf.clear();
                buf.extend_from_slice(h);
                buf.sort_unstable();
                buf.dedup();
                black_box(&buf);
            }
        })
    });
    group.finish();

    // Banding, then judging and clustering, on a corpus as dense with
    // near-copies as real150: each article and ten copies, each copy with
    // its own share of words replaced (0.4% up to 5.8%), so that many
    // candidate pairs fall just short of the threshold.
    let dense = near_copies(&docs[..300], 10);
    let mut dedup =
        doppel::Deduplicator::new(doppel::DedupConfig { cluster: doppel::ClusterMode::Union, ..Default::default() })
            .expect("default config is valid");
    dedup.add_all(&dense);
    let mut group = c.benchmark_group("dedup");
    group.throughput(Throughput::Bytes(dense.iter().map(|d| d.len() as u64).sum()));
    group.sample_size(20);
    group.bench_function("band", |b| b.iter(|| black_box(dedup.candidate_pairs())));
    group.bench_function("band_verify_cluster", |b| b.iter(|| black_box(dedup.finish())));
    group.finish();

    // The cleaner on pages wrapped in per-site junk, learned table included.
    let mut g = Generator::new(SynthOptions { copy_rate: 0.0, ..Default::default() }, SentencePool::default());
    let pages: Vec<(String, String)> = (0..500)
        .map(|_| {
            let d = g.next_doc();
            (d.site, d.text)
        })
        .collect();
    let rules = doppel::clean::Rules::default();
    let learner = doppel::clean::Cleaner::new(&rules, Default::default()).expect("default rules compile");
    let mut table = doppel::clean::TableLearner::default();
    for (site, text) in &pages {
        table.add(learner.observe(text, Some(site)));
    }
    let cleaner = learner.with_table(table.finish(&rules));
    let mut group = c.benchmark_group("clean");
    group.throughput(Throughput::Bytes(pages.iter().map(|(_, t)| t.len() as u64).sum()));
    group.sample_size(20);
    group.bench_function("clean_page", |b| {
        b.iter(|| {
            for (site, text) in &pages {
                black_box(cleaner.clean(text, Some(site)));
            }
        })
    });
    // As a worker cleans: one memo kept across the pages, started afresh
    // each run, so that only the site furniture the pages share is held.
    group.bench_function("clean_page_memo", |b| {
        b.iter(|| {
            let mut memo = doppel::clean::LineMemo::default();
            for (site, text) in &pages {
                black_box(cleaner.clean_with_memo(text, Some(site), &mut memo));
            }
        })
    });
    // The rules' start-up, paid once a run: every pattern parsed and built.
    group.bench_function("compile_rules", |b| b.iter(|| black_box(rules.compile().expect("default rules compile"))));
    // The whole-line rules alone (keyword scan, then the regexes of the
    // rules it lets through) on every line of the pages, none held.
    let compiled = rules.compile().expect("default rules compile");
    let lines: Vec<&str> = pages.iter().flat_map(|(_, text)| text.lines()).filter(|l| !l.trim().is_empty()).collect();
    // Throughput in the bytes of the lines asked about, not of the pages.
    group.throughput(Throughput::Bytes(lines.iter().map(|l| l.len() as u64).sum()));
    group.bench_function("whole_line_rules", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(compiled.whole_line_rule(line));
            }
        })
    });
    group.throughput(Throughput::Bytes(pages.iter().map(|(_, t)| t.len() as u64).sum()));
    // The line classifier alone: features and both networks on every line
    // of each page. The generator's words are made up, so the language is
    // set, not found (cleaning leaves a page of no language to the rules).
    let model = doppel::clean::LineModel::builtin();
    let english = doppel::clean::lang::stopwords("en");
    let page_lines: Vec<Vec<&str>> =
        pages.iter().map(|(_, text)| text.lines().filter(|l| !l.trim().is_empty()).collect()).collect();
    group.bench_function("classify_page", |b| {
        b.iter(|| {
            for lines in &page_lines {
                black_box(model.score(lines, english));
            }
        })
    });
    group.bench_function("detect_language", |b| {
        b.iter(|| {
            for (_, text) in &pages {
                black_box(doppel::clean::lang::detect(text));
            }
        })
    });
    group.bench_function("observe_page", |b| {
        b.iter(|| {
            for (site, text) in &pages {
                black_box(cleaner.observe(text, Some(site)));
            }
        })
    });
    group.finish();
}

/// Each of `originals` followed by `copies` copies, copy `c` replacing
/// `4 + 6c` words in a thousand with made-up ones.
fn near_copies(originals: &[String], copies: usize) -> Vec<String> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (state ^ (state >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 29)
    };
    let mut out = Vec::new();
    for text in originals {
        out.push(text.clone());
        for c in 0..copies {
            let per_thousand = 4 + 6 * c as u64;
            let copy: Vec<String> = text
                .split(' ')
                .map(|w| if next() % 1000 < per_thousand { format!("edit{}", next() % 100_000) } else { w.to_string() })
                .collect();
            out.push(copy.join(" "));
        }
    }
    out
}

criterion_group!(benches, stages);
criterion_main!(benches);
