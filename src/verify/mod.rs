//! Verification: deciding whether a candidate pair really is a near-duplicate.
//!
//! LSH candidates are only likely matches. With exact verification (the
//! default) a pair is confirmed on the true Jaccard similarity of the two
//! documents' sets of shingles, counted by 32-bit fingerprints of their
//! hashes (see [`fingerprint`] for the odds of a collision and how far it
//! moves a similarity), or on containment: the
//! share of the smaller set found in the larger, which is what a truncated
//! syndicated copy has in common with the full article. The hashes come
//! from a log the sign pass wrote, or from a second read of the
//! candidate documents ([`SpilledSets::push`]); shared hashes are counted
//! with a small hash table, so no set is sorted, after maps of bins, when
//! made for a corpus dense with candidates, have ruled out the pairs they
//! can (`set_bins`). With estimate
//! verification the MinHash estimates are used instead, and the texts are
//! looked at once.

mod bins;
mod sets;
mod table;

#[cfg(test)]
use bins::set_bins;
use bins::{bins_differing, may_match};
pub(crate) use sets::SetLog;
pub use sets::{ShingleSets, SpilledSets};
pub(crate) use table::{HashList, JudgeScratch};

#[cfg(doc)]
use crate::shingle::fingerprint;
use crate::shingle::intersection_size;

/// The similarities at or above which a pair is a near-duplicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Jaccard similarity.
    pub jaccard: f64,
    /// Containment of the smaller set in the larger (`--containment`), if
    /// contained copies count.
    pub containment: Option<f64>,
}

/// What estimate verification reads: each document's MinHash signature and
/// its number of shingles (the pipeline's signature store).
pub trait SignatureStore: Sync + std::fmt::Debug {
    /// The signature of document `doc`.
    fn signature(&self, doc: u32) -> &[u32];
    /// Number of shingles of document `doc`.
    fn shingle_count(&self, doc: u32) -> u32;
}

/// How candidate pairs are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verify {
    /// True Jaccard (and containment) of the shingle sets.
    #[default]
    Exact,
    /// MinHash estimates only.
    Estimate,
}

/// Similarity of a pair: Jaccard and containment of the smaller in the larger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairSimilarity {
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: f64,
    /// |A ∩ B| / min(|A|, |B|).
    pub containment: f64,
}

impl PairSimilarity {
    /// From set sizes and the size of the intersection (which may be an estimate).
    pub fn from_sizes(a: f64, b: f64, intersection: f64) -> PairSimilarity {
        let union = a + b - intersection;
        let smaller = a.min(b);
        PairSimilarity {
            jaccard: if union > 0.0 { intersection / union } else { 0.0 },
            containment: if smaller > 0.0 { (intersection / smaller).min(1.0) } else { 0.0 },
        }
    }

    /// Exact similarity of two sorted, repeat-free sets.
    pub fn exact<T: Ord>(a: &[T], b: &[T]) -> PairSimilarity {
        PairSimilarity::from_sizes(a.len() as f64, b.len() as f64, intersection_size(a, b) as f64)
    }

    /// True when the pair meets the configured thresholds: Jaccard at or
    /// above the threshold, or containment at or above `--containment`.
    pub fn matches(&self, config: &Thresholds) -> bool {
        self.jaccard >= config.jaccard || config.containment.is_some_and(|c| self.containment >= c)
    }
}

/// Where similarities come from: exact sets or signatures.
#[derive(Debug, Clone, Copy)]
pub enum SimilaritySource<'a> {
    /// Exact shingle sets, as fingerprints (every document asked about
    /// must be stored).
    Exact(&'a ShingleSets<u32>),
    /// MinHash estimates; containment is derived from the estimated
    /// intersection `J (|A| + |B|) / (1 + J)`.
    Estimate(&'a dyn SignatureStore),
    /// Exact shingle sets read back from a spill file.
    Spilled(&'a SpilledSets),
}

impl SimilaritySource<'_> {
    /// Similarity of documents `a` and `b`.
    pub fn similarity(&self, a: u32, b: u32) -> PairSimilarity {
        match self {
            // Every document of a candidate pair has its set; one without
            // (which does not happen) would match nothing.
            SimilaritySource::Exact(sets) => match (sets.get(a), sets.get(b)) {
                (Some(x), Some(y)) => PairSimilarity::exact(x, y),
                _ => PairSimilarity { jaccard: 0.0, containment: 0.0 },
            },
            SimilaritySource::Estimate(sigs) => estimate(*sigs, a, b),
            SimilaritySource::Spilled(_) => {
                let mut found = PairSimilarity { jaccard: 0.0, containment: 0.0 };
                self.similarities_to(a, std::iter::once(b), |_, s| found = s);
                found
            }
        }
    }

    /// Calls `each(b, judgement)` for every `b` of `others`: the similarity
    /// of `a` and `b`, or `None` for a pair that does not match `config`
    /// and whose similarity was not worked out to the end. Reading back a
    /// pair's hashes stops once too few are left to reach the threshold,
    /// and a pair whose sizes alone rule it out, or whose maps of bins (when
    /// made, see [`set_bins`]) do, is not read at all: on a dense corpus
    /// most candidate pairs fall short.
    pub(crate) fn judge_to(
        &self,
        a: u32,
        others: impl Iterator<Item = u32>,
        config: &Thresholds,
        judge_scratch: &mut JudgeScratch,
        mut each: impl FnMut(u32, Option<PairSimilarity>),
    ) {
        match self {
            SimilaritySource::Spilled(sets) => {
                let JudgeScratch { buf, table, missed: scratch } = judge_scratch;
                // A document that is not stored (which does not happen)
                // matches nothing.
                let Some(ia) = sets.index(a) else {
                    others.for_each(|b| each(b, None));
                    return;
                };
                // `a`'s table is filled when a pair first gets past the bins.
                let mut have_a = None;
                let bins_a = sets.bins(ia);
                let mut a_known = sets.known_distinct_count(ia);
                for b in others {
                    let Some(ib) = sets.index(b) else {
                        each(b, None);
                        continue;
                    };
                    // Sizes first, when both distinct counts are known; then
                    // the bins, which bound how much the sets differ.
                    let known = sets.known_distinct_count(ib);
                    if let (Some(a_len), Some(b_len)) = (a_known, known)
                        && fewest_shared_to_match(a_len, b_len, config).is_none()
                    {
                        each(b, None);
                        continue;
                    }
                    if let (Some((words_a, ones_a)), Some((words_b, ones_b))) = (bins_a, sets.bins(ib)) {
                        let differ = bins_differing(words_a, words_b);
                        let a_span = a_known.map_or((ones_a, sets.list_len(ia)), |n| (n, n));
                        let b_span = known.map_or((ones_b, sets.list_len(ib)), |n| (n, n));
                        if !may_match(a_span, b_span, differ, config) {
                            each(b, None);
                            continue;
                        }
                    }
                    let have_a = *have_a.get_or_insert_with(|| {
                        sets.with_list(ia, buf, |list| {
                            table.fill(list);
                            sets.note_distinct_count(ia, table.len());
                        })
                        .is_some()
                    });
                    if !have_a {
                        // A read error is kept by the store and ends the run.
                        each(b, None);
                        continue;
                    }
                    let a_len = table.len();
                    a_known = Some(a_len);
                    let judged = match known.map(|b_len| (b_len, fewest_shared_to_match(a_len, b_len, config))) {
                        Some((_, None)) => None,
                        Some((b_len, Some(needed))) => sets
                            .with_list(ib, buf, |list| {
                                let shared = table.shared_at_least(list, needed)?;
                                Some(PairSimilarity::from_sizes(a_len as f64, b_len as f64, shared as f64))
                            })
                            .flatten(),
                        // `b`'s distinct count is found in the same pass
                        // that counts what it shares: only the hashes `a`
                        // lacks go into a table of their own.
                        None => sets
                            .with_list(ib, buf, |list| {
                                let (shared, missed) = table.shared_and_missed(list, scratch, |shared, missed| {
                                    // No more can be shared than `a` holds.
                                    let shared = shared.min(a_len);
                                    let b_len = (shared + missed) as f64;
                                    PairSimilarity::from_sizes(a_len as f64, b_len, shared as f64).matches(config)
                                })?;
                                sets.note_distinct_count(ib, shared + missed);
                                let b_len = (shared + missed) as f64;
                                Some(PairSimilarity::from_sizes(a_len as f64, b_len, shared as f64))
                            })
                            .flatten(),
                    };
                    each(b, judged);
                }
            }
            _ => others.for_each(|b| each(b, Some(self.similarity(a, b)))),
        }
    }

    /// Calls `each(b, similarity of a and b)` for every `b` of `others`.
    /// The same values as [`SimilaritySource::similarity`], but a spilled
    /// set of `a` is read once, not once a pair, and reads reuse one buffer.
    pub fn similarities_to(
        &self,
        a: u32,
        others: impl Iterator<Item = u32>,
        mut each: impl FnMut(u32, PairSimilarity),
    ) {
        const NOTHING: PairSimilarity = PairSimilarity { jaccard: 0.0, containment: 0.0 };
        match self {
            // A read error is kept by the store and ends the run.
            SimilaritySource::Spilled(sets) => {
                let mut buf = Vec::new();
                let (mut table, mut scratch) = (HashList::default(), HashList::default());
                let have_a =
                    sets.index(a).and_then(|ia| sets.with_list(ia, &mut buf, |list| table.fill(list))).is_some();
                for b in others {
                    let similarity = have_a.then(|| sets.index(b)).flatten().and_then(|ib| {
                        sets.with_list(ib, &mut buf, |list| {
                            let b_len = sets.distinct_count(ib, list, &mut scratch);
                            let shared = table.shared_with(list);
                            PairSimilarity::from_sizes(table.len() as f64, b_len as f64, shared as f64)
                        })
                    });
                    each(b, similarity.unwrap_or(NOTHING));
                }
            }
            _ => others.for_each(|b| each(b, self.similarity(a, b))),
        }
    }
}

/// The fewest shared hashes with which sets of `a` and `b` distinct hashes
/// match under `config`, or `None` when no overlap would do: the similarity
/// only grows with the overlap, so a binary search finds it.
fn fewest_shared_to_match(a: usize, b: usize, config: &Thresholds) -> Option<usize> {
    let matches = |i: usize| PairSimilarity::from_sizes(a as f64, b as f64, i as f64).matches(config);
    let (mut lo, mut hi) = (0, a.min(b));
    if !matches(hi) {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if matches(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

fn estimate(sigs: &dyn SignatureStore, a: u32, b: u32) -> PairSimilarity {
    let j = crate::minhash::estimate_jaccard(sigs.signature(a), sigs.signature(b));
    let (na, nb) = (f64::from(sigs.shingle_count(a)), f64::from(sigs.shingle_count(b)));
    let inter = j * (na + nb) / (1.0 + j);
    let mut s = PairSimilarity::from_sizes(na, nb, inter);
    s.jaccard = j;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// doppel's default threshold, without containment.
    const DEFAULT: Thresholds = Thresholds { jaccard: 0.8, containment: None };

    #[test]
    fn jaccard_and_containment() {
        let full: Vec<u64> = (0..100).collect();
        let half: Vec<u64> = (0..50).collect();
        let s = PairSimilarity::exact(&full, &half);
        assert_eq!(s.jaccard, 0.5);
        assert_eq!(s.containment, 1.0);
        let cfg = Thresholds { containment: Some(0.8), ..DEFAULT };
        assert!(s.matches(&cfg));
        assert!(!s.matches(&DEFAULT));
    }

    #[test]
    fn spilled_sets_read_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = SpilledSets::create(dir.path()).unwrap();
        sets.push(2, &[1, u32::MAX]).unwrap();
        sets.push(7, &[]).unwrap();
        sets.push(9, &[5, 6, 7]).unwrap();
        sets.finish().unwrap();
        assert_eq!(sets.get(2), Some(vec![1, u32::MAX]));
        assert_eq!(sets.get(7), Some(vec![]));
        assert_eq!(sets.get(9), Some(vec![5, 6, 7]));
        assert_eq!(sets.get(3), None);
        assert!(sets.take_error().is_none());
        // Nothing is left in the directory: the file has no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_set_log_gives_back_the_hashes_of_the_documents_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<Vec<u32>> = vec![vec![3, 1, 3], vec![], vec![u32::MAX], vec![9, 4], vec![0, 7, 8, 10]];
        let len = |d: u32| all[d as usize].len() as u32;
        // On disk from the start; in memory, then moved to a file when the
        // third list passes the budget of three hashes; in memory to the end.
        for (budget_bytes, on_disk) in [(0, true), (12, true), (1 << 20, false)] {
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            for set in &all {
                log.append(set).unwrap();
            }
            assert_eq!(log.documents(), 5);
            assert_eq!(log.file_bytes(), if on_disk { 10 * 4 } else { 0 });
            let sets = log.into_sets(&[1, 3, 4], len).unwrap();
            assert_eq!(sets.memory_bytes(), if on_disk { 0 } else { 10 * 4 }, "budget {budget_bytes}");
            assert_eq!(sets.len(), 3);
            assert_eq!(sets.get(1), Some(vec![]));
            assert_eq!(sets.get(3), Some(vec![9, 4]));
            assert_eq!(sets.get(4), Some(vec![0, 7, 8, 10]));
            assert_eq!(sets.get(0), None);
            assert_eq!(sets.get(2), None);
            let mut buf = vec![99; 50];
            assert!(sets.get_into(4, &mut buf));
            assert_eq!(buf, vec![0, 7, 8, 10]);
            // Lengths that do not add up to what was logged are an error,
            // not a silent misreading.
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            log.append(&[1, 2]).unwrap();
            assert!(log.into_sets(&[0], |_| 1).is_err());
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            log.append(&[1]).unwrap();
            assert!(log.into_sets(&[0, 1], |_| 1).is_err());
        }
    }

    #[test]
    fn a_set_log_finds_each_document_in_the_runs_it_was_logged_in() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<Vec<u32>> =
            vec![vec![], vec![5, 6], vec![], vec![7], vec![8, 9, 10], vec![], vec![], vec![11], vec![12, 12]];
        let len = |d: u32| all[d as usize].len() as u32;
        // Runs of 2, 0, 1, 3 and 3 documents, empty lists at their edges;
        // the budget of 6 hashes is passed by the last run.
        let runs = [0..2, 2..2, 2..3, 3..6, 6..9];
        for (budget_bytes, on_disk) in [(0, true), (24, true), (1 << 20, false)] {
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            for run in runs.clone() {
                log.append_documents(all[run.clone()].concat(), run.len()).unwrap();
            }
            assert_eq!(log.documents(), all.len());
            let every: Vec<u32> = (0..all.len() as u32).collect();
            let sets = log.into_sets(&every, len).unwrap();
            assert_eq!(sets.memory_bytes(), if on_disk { 0 } else { 9 * 4 });
            for (doc, set) in all.iter().enumerate() {
                assert_eq!(sets.get(doc as u32).as_ref(), Some(set), "doc {doc}, budget {budget_bytes}");
            }
        }
    }

    #[test]
    fn hashes_sharing_their_low_bits_switch_the_table_to_mixed_slots() {
        let mut table = HashList::default();
        table.fill(&(0..4000u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect::<Vec<_>>());
        assert_eq!((table.multiplier, table.len()), (0, 4000));
        // Low 20 bits all zero: without mixing, every hash probes one run.
        let crafted: Vec<u32> = (1..4000u32).map(|i| i << 20).collect();
        table.fill(&crafted);
        assert_ne!(table.multiplier, 0);
        assert_eq!(table.len(), 3999);
        assert_eq!(table.shared_with(&crafted[..100]), 100);
    }

    /// Lists of fingerprints near-copies of one another: `base` values,
    /// each kept with odds `keep` and each replaced, spread over the 32 bits.
    fn near_copies(base: &[u32], picks: &[u8], keep: u8) -> Vec<u32> {
        base.iter()
            .zip(picks.iter().cycle())
            .map(|(&v, &p)| if p < keep { v } else { v ^ 0xABCD_0000 ^ u32::from(p) })
            .map(|v| v.wrapping_mul(0x9E37_79B9))
            .collect()
    }

    #[test]
    fn bins_rule_out_pairs_far_below_the_threshold_and_keep_copies() {
        let base: Vec<u32> = (0..600).collect();
        let picks: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
        let a = near_copies(&base, &[0], 1);
        let config = DEFAULT;
        let mut bins = (vec![0u64; 128], vec![0u64; 128]);
        let ones_a = set_bins(&mut bins.0, &a) as usize;
        // Three shingles in ten replaced: Jaccard about 0.54.
        let far = near_copies(&base, &picks, 179);
        let ones_far = set_bins(&mut bins.1, &far) as usize;
        let differ = bins_differing(&bins.0, &bins.1);
        assert!(!may_match((ones_a, 600), (ones_far, 600), differ, &config), "{differ} bins differ");
        // One in twenty replaced: Jaccard about 0.9, a match.
        let near = near_copies(&base, &picks, 243);
        let ones_near = set_bins(&mut bins.1, &near) as usize;
        let differ = bins_differing(&bins.0, &bins.1);
        assert!(may_match((ones_a, 600), (ones_near, 600), differ, &config));
        // Folding the larger map keeps the bound: still ruled out at half the bins.
        set_bins(&mut bins.1, &far);
        let mut half = vec![0u64; 64];
        set_bins(&mut half, &a);
        let differ = bins_differing(&half, &bins.1);
        assert!(differ <= bins_differing(&bins.0, &bins.1));
        assert!(!may_match((ones_a, 600), (ones_far, 600), differ, &config), "{differ} bins differ, folded");
    }

    #[test]
    fn judging_with_bins_decides_every_pair_as_judging_without() {
        let dir = tempfile::tempdir().unwrap();
        let base: Vec<u32> = (0..400).collect();
        // A story and eleven copies, each replacing its own share of the
        // shingles (pairs from Jaccard 0.3 to 1.0), with a few shingles
        // repeated, so that a list is longer than its set.
        let lists: Vec<Vec<u32>> = (0..12u32)
            .map(|d| {
                let picks: Vec<u8> =
                    (0..400u32).map(|i| (i.wrapping_add(d * 97).wrapping_mul(2654435761) >> 24) as u8).collect();
                let mut list = near_copies(&base, &picks, 255 - 12 * d as u8);
                list.extend_from_within(..3 * d as usize);
                list
            })
            .collect();
        let store = || {
            let mut sets = SpilledSets::create(dir.path()).unwrap();
            for (d, list) in lists.iter().enumerate() {
                sets.push(d as u32, list).unwrap();
            }
            sets.finish().unwrap();
            sets
        };
        let config = DEFAULT;
        let judge_all = |sets: &SpilledSets| {
            let mut all = Vec::new();
            // One worker's scratch for every pair, as in the pipeline.
            let mut scratch = JudgeScratch::default();
            for a in 0..12u32 {
                SimilaritySource::Spilled(sets).judge_to(a, a + 1..12, &config, &mut scratch, |b, s| {
                    all.push((a, b, s.is_some_and(|s| s.matches(&config))));
                });
            }
            all
        };
        let without = judge_all(&store());
        // A second store, so that no distinct count is known yet and the
        // maps are judged with the span from their bins to the list length.
        let mut sets = store();
        let words_per_list = sets.plan_bins(1 << 20).unwrap();
        let mut words = vec![0u64; words_per_list.iter().sum()];
        let mut ones = Vec::new();
        let mut at = 0;
        for (i, &n) in words_per_list.iter().enumerate() {
            ones.push(sets.fill_bins(i, &mut words[at..at + n], &mut Vec::new()).unwrap());
            at += n;
        }
        sets.attach_bins(words, &words_per_list, ones);
        let ruled_out = (0..12u32)
            .flat_map(|a| (a + 1..12).map(move |b| (a, b)))
            .filter(|&(a, b)| {
                let (a, b) = (a as usize, b as usize);
                let ((words_a, ones_a), (words_b, ones_b)) = (sets.bins(a).unwrap(), sets.bins(b).unwrap());
                let spans = ((ones_a, sets.list_len(a)), (ones_b, sets.list_len(b)));
                !may_match(spans.0, spans.1, bins_differing(words_a, words_b), &config)
            })
            .count();
        assert_eq!(judge_all(&sets), without);
        let matched = without.iter().filter(|p| p.2).count();
        assert!(matched > 0 && matched < without.len(), "{matched} of {} match", without.len());
        // Most pairs that fall short are ruled out by their maps alone.
        assert!(2 * ruled_out > without.len() - matched, "{ruled_out} of {} ruled out", without.len() - matched);
    }

    #[test]
    fn maps_of_bins_keep_within_their_budget() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = SpilledSets::create(dir.path()).unwrap();
        for (d, n) in [(0u32, 600usize), (1, 1), (2, 5000), (3, 0)] {
            sets.push(d, &(0..n as u32).collect::<Vec<_>>()).unwrap();
        }
        sets.finish().unwrap();
        let hashes = 5601u64;
        for budget_bytes in [1 << 20, 16 * hashes, 4 * hashes, hashes / 4, 700, 33] {
            let words: usize = sets.plan_bins(budget_bytes).map_or(0, |sizes| sizes.iter().sum());
            assert!(words as u64 * 8 <= budget_bytes, "{words} words for {budget_bytes} bytes");
        }
        // Eight bins a hash at most, each map at least a word.
        assert_eq!(sets.plan_bins(1 << 20).unwrap(), vec![128, 1, 1024, 1]);
        // Under one bin a hash, none.
        assert_eq!(sets.plan_bins(hashes / 4), None);
        // Many one-hash lists take a word each, whatever the bins a hash.
        let mut short = SpilledSets::create(dir.path()).unwrap();
        for d in 0..100u32 {
            short.push(d, &[d]).unwrap();
        }
        short.finish().unwrap();
        assert_eq!(short.plan_bins(800).map(|s| s.len()), Some(100));
        assert_eq!(short.plan_bins(799), None);
        assert_eq!(short.plan_bins(100), None);
    }

    proptest::proptest! {
        // The bins never rule out a pair that matches, whatever the sizes
        // of the two maps, the repeats, the thresholds, and the spans of
        // distinct counts the judge knows.
        #[test]
        fn bins_never_rule_out_a_matching_pair(
            base in proptest::collection::vec(0u32..5000, 1..300),
            picks in proptest::collection::vec(0u8..=255, 1..50),
            keep in 150u8..=255,
            extra in proptest::collection::vec(0u32..5000, 0..120),
            words in (0u32..5, 0u32..5),
            threshold in 0.3f64..1.0,
            containment in proptest::option::of(0.3f64..1.0),
            known in (proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()),
        ) {
            let a = near_copies(&base, &[0], 1);
            let mut b = near_copies(&base, &picks, keep);
            // A longer or shorter copy, with repeats.
            b.extend(near_copies(&extra, &[0], 1));
            b.truncate(b.len() - b.len() / 3 * usize::from(keep % 2 == 0));
            let config = Thresholds { jaccard: threshold, containment };
            let set = |v: &[u32]| {
                let mut s = v.to_vec();
                s.sort_unstable();
                s.dedup();
                s
            };
            let (sa, sb) = (set(&a), set(&b));
            let mut bins_a = vec![0u64; 1 << words.0];
            let mut bins_b = vec![0u64; 1 << words.1];
            let ones_a = set_bins(&mut bins_a, &a) as usize;
            let ones_b = set_bins(&mut bins_b, &b) as usize;
            proptest::prop_assert!(ones_a <= sa.len() && ones_b <= sb.len());
            let span = |known: bool, ones: usize, len: usize, exact: usize| if known { (exact, exact) } else { (ones, len) };
            let differ = bins_differing(&bins_a, &bins_b);
            if PairSimilarity::exact(&sa, &sb).matches(&config) {
                proptest::prop_assert!(may_match(
                    span(known.0, ones_a, a.len(), sa.len()),
                    span(known.1, ones_b, b.len(), sb.len()),
                    differ,
                    &config
                ), "ruled out: {} bins differ", differ);
            }
        }

        // Judging gives up on a pair only when it cannot match, and what it
        // finds otherwise is the full count.
        #[test]
        fn a_count_given_up_early_could_not_have_reached_the_need(
            a in proptest::collection::vec(0u32..300, 0..300),
            b in proptest::collection::vec(0u32..300, 0..300),
            needed in 0usize..320,
        ) {
            let mut table = HashList::default();
            table.fill(&a);
            let full = table.shared_with(&b);
            match table.shared_at_least(&b, needed) {
                Some(shared) => proptest::prop_assert_eq!(shared, full),
                None => proptest::prop_assert!(full < needed, "gave up at {full} shared, {needed} needed"),
            }
        }

        // Counting what is shared and what is missed in one pass gives the
        // counts of the sets, and gives up only on a pair that cannot match.
        #[test]
        fn shared_and_missed_counts_the_sets_and_gives_up_only_when_short(
            a in proptest::collection::vec(0u32..400, 0..300),
            b in proptest::collection::vec(0u32..400, 0..300),
            threshold in 0.05f64..1.0,
            containment in proptest::option::of(0.05f64..1.0),
        ) {
            let config = Thresholds { jaccard: threshold, containment };
            let (mut table, mut missed, mut scratch) = (HashList::default(), HashList::default(), HashList::default());
            table.fill(&a);
            scratch.fill(&b);
            let (shared, b_len) = (table.shared_with(&b), scratch.len());
            let sizes = |shared: usize, missed: usize| {
                PairSimilarity::from_sizes(table.len() as f64, (shared + missed) as f64, shared as f64)
            };
            let full = sizes(shared, b_len - shared);
            let a_len = table.len();
            let may_match = |s: usize, m: usize| {
                PairSimilarity::from_sizes(a_len as f64, (s + m) as f64, s as f64).matches(&config)
            };
            match table.shared_and_missed(&b, &mut missed, may_match) {
                Some(counts) => proptest::prop_assert_eq!(counts, (shared, b_len - shared)),
                None => proptest::prop_assert!(!full.matches(&config), "gave up on {:?}", full),
            }
            // Never giving up, it counts to the end.
            proptest::prop_assert_eq!(table.shared_and_missed(&b, &mut missed, |_, _| true), Some((shared, b_len - shared)));
        }

        #[test]
        fn the_fewest_shared_to_match_is_where_matching_starts(
            a in 1usize..400,
            b in 1usize..400,
            threshold in 0.05f64..1.0,
            containment in proptest::option::of(0.05f64..1.0),
        ) {
            let config = Thresholds { jaccard: threshold, containment };
            let fewest = fewest_shared_to_match(a, b, &config);
            for shared in 0..=a.min(b) {
                let matches = PairSimilarity::from_sizes(a as f64, b as f64, shared as f64).matches(&config);
                proptest::prop_assert_eq!(matches, fewest.is_some_and(|f| shared >= f), "{} shared", shared);
            }
        }

        // The table's counts against sorting and merging, with repeats, the
        // hash 0 (the table's empty mark), and lists sharing most values.
        #[test]
        fn hash_list_similarity_equals_the_exact_similarity_of_the_sets(
            a in proptest::collection::vec(0u32..600, 0..400),
            b in proptest::collection::vec(0u32..600, 0..400),
            scale in proptest::prelude::any::<u32>(),
        ) {
            // Odd scales spread the values; a scale of 2^20 makes them share
            // their low bits, the input the probe budget is there for.
            let scale = if scale % 3 == 0 { 1 << 20 } else { scale | 1 };
            let spread = |v: &[u32]| v.iter().map(|&x| x.wrapping_mul(scale)).collect::<Vec<_>>();
            let (a, b) = (spread(&a), spread(&b));
            let set = |v: &[u32]| {
                let mut s = v.to_vec();
                s.sort_unstable();
                s.dedup();
                s
            };
            let (mut table, mut scratch) = (HashList::default(), HashList::default());
            table.fill(&a);
            proptest::prop_assert_eq!(table.len(), set(&a).len());
            let exact = PairSimilarity::exact(&set(&a), &set(&b));
            proptest::prop_assert_eq!(table.similarity(&b, &mut scratch), exact);
            // The probe-only count, twice, so that a second round does not
            // see the first one's marks.
            for _ in 0..2 {
                let shared = table.shared_with(&b);
                proptest::prop_assert_eq!(PairSimilarity::from_sizes(table.len() as f64, set(&b).len() as f64, shared as f64), exact);
            }
        }
    }

    #[test]
    fn sets_are_found_by_document() {
        let mut sets = ShingleSets::new();
        sets.push(3, &[1, 2]);
        sets.push(9, &[7]);
        assert_eq!(sets.get(9), Some(&[7u64][..]));
        assert_eq!(sets.get(4), None);
    }
}
