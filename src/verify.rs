//! Verification: deciding whether a candidate pair really is a near-duplicate.
//!
//! LSH candidates are only likely matches. With exact verification (the
//! default) doppel re-reads the candidate documents, builds their exact
//! shingle sets (sorted, repeat-free 64-bit hashes; a 64-bit collision among
//! a pair's shingles has odds of about 1 in 10^13) and confirms a pair on its
//! true Jaccard similarity, or on containment: the share of the smaller
//! set found in the larger, which is what a truncated syndicated copy has in
//! common with the full article. With estimate verification it uses the
//! MinHash estimates instead, and needs no second look at the texts.

use crate::config::DedupConfig;
use crate::pipeline::Signatures;
use crate::shingle::intersection_size;

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

/// Exact shingle sets of a subset of documents, stored flat.
#[derive(Debug, Clone, Default)]
pub struct ShingleSets {
    docs: Vec<u32>,
    offsets: Vec<usize>,
    hashes: Vec<u64>,
}

impl ShingleSets {
    /// An empty store.
    pub fn new() -> ShingleSets {
        ShingleSets { docs: Vec::new(), offsets: vec![0], hashes: Vec::new() }
    }

    /// Adds the set of document `doc`; documents must come in increasing order.
    pub fn push(&mut self, doc: u32, sorted_set: &[u64]) {
        debug_assert!(self.docs.last().is_none_or(|&d| d < doc));
        self.docs.push(doc);
        self.hashes.extend_from_slice(sorted_set);
        self.offsets.push(self.hashes.len());
    }

    /// The set of `doc`, or `None` if it was not stored.
    pub fn get(&self, doc: u32) -> Option<&[u64]> {
        let i = self.docs.binary_search(&doc).ok()?;
        Some(&self.hashes[self.offsets[i]..self.offsets[i + 1]])
    }

    /// Number of stored documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.docs.len() * 4 + self.offsets.len() * 8 + self.hashes.len() * 8
    }
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
    pub fn exact(a: &[u64], b: &[u64]) -> PairSimilarity {
        PairSimilarity::from_sizes(a.len() as f64, b.len() as f64, intersection_size(a, b) as f64)
    }

    /// True when the pair meets the configured thresholds: Jaccard at or
    /// above the threshold, or containment at or above `--containment`.
    pub fn matches(&self, config: &DedupConfig) -> bool {
        self.jaccard >= config.jaccard_threshold || config.containment.is_some_and(|c| self.containment >= c)
    }
}

/// Where similarities come from: exact sets or signatures.
#[derive(Debug, Clone, Copy)]
pub enum SimilaritySource<'a> {
    /// Exact shingle sets (every document asked about must be stored).
    Exact(&'a ShingleSets),
    /// MinHash estimates; containment is derived from the estimated
    /// intersection `J (|A| + |B|) / (1 + J)`.
    Estimate(&'a Signatures),
}

impl SimilaritySource<'_> {
    /// Similarity of documents `a` and `b`.
    pub fn similarity(&self, sigs: &Signatures, a: u32, b: u32) -> PairSimilarity {
        match self {
            // Every document of a candidate pair has its set; one without
            // (which does not happen) would match nothing.
            SimilaritySource::Exact(sets) => match (sets.get(a), sets.get(b)) {
                (Some(x), Some(y)) => PairSimilarity::exact(x, y),
                _ => PairSimilarity { jaccard: 0.0, containment: 0.0 },
            },
            SimilaritySource::Estimate(_) => estimate(sigs, a, b),
        }
    }
}

fn estimate(sigs: &Signatures, a: u32, b: u32) -> PairSimilarity {
    let j = crate::minhash::estimate_jaccard(sigs.get(a), sigs.get(b));
    let (na, nb) = (f64::from(sigs.shingles(a)), f64::from(sigs.shingles(b)));
    let inter = j * (na + nb) / (1.0 + j);
    let mut s = PairSimilarity::from_sizes(na, nb, inter);
    s.jaccard = j;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_and_containment() {
        let full: Vec<u64> = (0..100).collect();
        let half: Vec<u64> = (0..50).collect();
        let s = PairSimilarity::exact(&full, &half);
        assert_eq!(s.jaccard, 0.5);
        assert_eq!(s.containment, 1.0);
        let cfg = DedupConfig { containment: Some(0.8), ..DedupConfig::default() };
        assert!(s.matches(&cfg));
        assert!(!s.matches(&DedupConfig::default()));
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
