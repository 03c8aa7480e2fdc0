//! Scoring a run against exact ground truth.
//!
//! The truth is every pair of documents whose shingle sets have Jaccard
//! similarity at or above the threshold, found exactly by an all-pairs
//! similarity join (see `pipeline::truth`). A run is scored at three levels:
//!
//! - **documents**: a document with a true partner should be flagged (a
//!   removed duplicate or the kept head of a cluster); precision is the
//!   share of flagged documents that have a true partner;
//! - **pairs**: each reported kept/duplicate pair should be a true pair
//!   (precision), and each true pair should end up in one cluster (recall);
//! - **labels** (optional): adjusted Rand index and pair F1 against human
//!   cluster labels.

use std::collections::HashMap;

use serde::Serialize;

/// Precision and recall with their counts.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct PrecisionRecall {
    /// Correct among predicted, over predicted (1 when nothing was predicted).
    pub precision: f64,
    /// Correct among truth, over truth (1 when there is no truth).
    pub recall: f64,
    /// Predicted items.
    pub predicted: u64,
    /// True items.
    pub truth: u64,
    /// Predicted items that are true.
    pub correct: u64,
}

impl PrecisionRecall {
    /// From counts; `found` is the number of true items that were found
    /// (equal to `correct` when both are counted on the same items).
    pub fn new(predicted: u64, truth: u64, correct: u64, found: u64) -> PrecisionRecall {
        PrecisionRecall {
            precision: if predicted == 0 { 1.0 } else { correct as f64 / predicted as f64 },
            recall: if truth == 0 { 1.0 } else { found as f64 / truth as f64 },
            predicted,
            truth,
            correct,
        }
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision, self.recall);
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

/// Document-level scores: `truth_pairs` are true pairs, `clusters` are the
/// run's clusters as lists of document indices (kept first), over `n` documents.
pub fn document_scores(n: usize, truth_pairs: &[(u32, u32)], clusters: &[Vec<u32>]) -> PrecisionRecall {
    let mut truth = vec![false; n];
    for &(a, b) in truth_pairs {
        truth[a as usize] = true;
        truth[b as usize] = true;
    }
    let mut flagged = vec![false; n];
    for c in clusters {
        for &d in c {
            flagged[d as usize] = true;
        }
    }
    let predicted = flagged.iter().filter(|&&f| f).count() as u64;
    let true_docs = truth.iter().filter(|&&t| t).count() as u64;
    let correct = flagged.iter().zip(&truth).filter(|(f, t)| **f && **t).count() as u64;
    PrecisionRecall::new(predicted, true_docs, correct, correct)
}

/// Pair-level recall: the share of true pairs whose two documents share a cluster.
pub fn pair_recall(n: usize, truth_pairs: &[(u32, u32)], clusters: &[Vec<u32>]) -> (u64, u64) {
    let mut cluster_of = vec![u32::MAX; n];
    for (i, c) in clusters.iter().enumerate() {
        for &d in c {
            cluster_of[d as usize] = i as u32;
        }
    }
    let found = truth_pairs
        .iter()
        .filter(|&&(a, b)| cluster_of[a as usize] != u32::MAX && cluster_of[a as usize] == cluster_of[b as usize])
        .count() as u64;
    (found, truth_pairs.len() as u64)
}

/// Adjusted Rand index of two labelings of the same items.
pub fn adjusted_rand_index(a: &[u64], b: &[u64]) -> f64 {
    fn choose2(x: u64) -> f64 {
        (x as f64) * (x as f64 - 1.0) / 2.0
    }
    let mut table: HashMap<(u64, u64), u64> = HashMap::new();
    let mut rows: HashMap<u64, u64> = HashMap::new();
    let mut cols: HashMap<u64, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = table.values().map(|&v| choose2(v)).sum();
    let sum_rows: f64 = rows.values().map(|&v| choose2(v)).sum();
    let sum_cols: f64 = cols.values().map(|&v| choose2(v)).sum();
    let total = choose2(a.len() as u64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sum_rows * sum_cols / total;
    let max = (sum_rows + sum_cols) / 2.0;
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

/// Pairs of items sharing a label, as (precision, recall) of `pred` against `gold`.
pub fn pair_f1(pred: &[u64], gold: &[u64]) -> PrecisionRecall {
    fn pairs(labels: &[u64]) -> std::collections::HashSet<(usize, usize)> {
        let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, &l) in labels.iter().enumerate() {
            groups.entry(l).or_default().push(i);
        }
        let mut out = std::collections::HashSet::new();
        for g in groups.values() {
            for (i, &x) in g.iter().enumerate() {
                for &y in &g[i + 1..] {
                    out.insert((x, y));
                }
            }
        }
        out
    }
    let (p, g) = (pairs(pred), pairs(gold));
    let correct = p.intersection(&g).count() as u64;
    PrecisionRecall::new(p.len() as u64, g.len() as u64, correct, correct)
}

/// One point of the LSH S-curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurvePoint {
    /// Jaccard similarity of a pair.
    pub jaccard: f64,
    /// Probability that it becomes a candidate.
    pub candidate_probability: f64,
}

/// The S-curve of `bands` x `rows` at similarities 0, 0.05, ..., 1.
pub fn lsh_curve(bands: usize, rows: usize) -> Vec<CurvePoint> {
    (0..=20)
        .map(|i| {
            let s = i as f64 / 20.0;
            CurvePoint { jaccard: s, candidate_probability: crate::lsh::candidate_probability(s, bands, rows) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_level_counts_heads_and_duplicates() {
        // Truth: 0~1, 2~3. Run: cluster {0,1} and a wrong cluster {4,5}.
        let s = document_scores(6, &[(0, 1), (2, 3)], &[vec![0, 1], vec![4, 5]]);
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
    }

    #[test]
    fn pair_recall_counts_pairs_in_one_cluster() {
        assert_eq!(pair_recall(4, &[(0, 1), (2, 3)], &[vec![0, 1, 2]]), (1, 2));
    }

    #[test]
    fn ari_is_one_for_identical_and_near_zero_for_unrelated() {
        assert!((adjusted_rand_index(&[1, 1, 2, 2], &[7, 7, 9, 9]) - 1.0).abs() < 1e-12);
        assert!(adjusted_rand_index(&[1, 1, 2, 2], &[1, 2, 1, 2]) < 0.0 + 1e-9);
    }

    #[test]
    fn curve_is_increasing() {
        let c = lsh_curve(16, 8);
        assert!(c.windows(2).all(|w| w[0].candidate_probability <= w[1].candidate_probability));
        assert!(c[16].candidate_probability > 0.9); // s = 0.8
    }
}
