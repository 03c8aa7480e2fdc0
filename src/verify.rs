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
use crate::spill::SpillFile;

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

/// Exact shingle sets written to an unnamed temporary file, so that memory
/// holds only an index (12 bytes a stored document) however many candidate
/// documents there are. Sets are read back with positioned reads, from the
/// page cache in practice, by any number of threads at once.
#[derive(Debug)]
pub struct SpilledSets {
    docs: Vec<u32>,
    // Offsets in values (u64), one more than `docs`.
    offsets: Vec<u64>,
    file: SpillFile,
    // The first read error; similarity lookups cannot return one.
    error: std::sync::Mutex<Option<std::io::Error>>,
}

impl SpilledSets {
    /// An empty store backed by an unnamed temporary file in `dir`.
    pub fn create(dir: &std::path::Path) -> std::io::Result<SpilledSets> {
        Ok(SpilledSets { docs: Vec::new(), offsets: vec![0], file: SpillFile::create(dir)?, error: Default::default() })
    }

    /// Appends the set of document `doc`; documents must come in increasing order.
    pub fn push(&mut self, doc: u32, sorted_set: &[u64]) -> std::io::Result<()> {
        self.push_encoded(doc, &SpilledSets::encode(sorted_set))
    }

    /// The bytes [`SpilledSets::push_encoded`] takes for a set: its values,
    /// little-endian. Encoding is pure, so workers can do it in parallel.
    pub fn encode(sorted_set: &[u64]) -> Vec<u8> {
        sorted_set.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Appends a set encoded by [`SpilledSets::encode`]; documents must come
    /// in increasing order.
    pub fn push_encoded(&mut self, doc: u32, encoded: &[u8]) -> std::io::Result<()> {
        debug_assert!(self.docs.last().is_none_or(|&d| d < doc));
        debug_assert_eq!(encoded.len() % 8, 0);
        self.file.append(encoded)?;
        self.docs.push(doc);
        let end = self.offsets.last().copied().unwrap_or(0) + (encoded.len() / 8) as u64;
        self.offsets.push(end);
        Ok(())
    }

    /// Flushes the writes; call once, before reading.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.file.finish()
    }

    /// The set of `doc`, read from the file (`None` if not stored or unreadable).
    pub fn get(&self, doc: u32) -> Option<Vec<u64>> {
        let i = self.docs.binary_search(&doc).ok()?;
        let (start, end) = (self.offsets[i], self.offsets[i + 1]);
        let mut bytes = vec![0u8; ((end - start) * 8) as usize];
        if let Err(e) = self.file.read_exact_at(&mut bytes, start * 8) {
            let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
            return None;
        }
        Some(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())
    }

    /// The first read error, if any read failed.
    pub fn take_error(&self) -> Option<std::io::Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Number of stored documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Bytes written to the file.
    pub fn file_bytes(&self) -> u64 {
        self.file.len()
    }

    /// Heap bytes held (the index only).
    pub fn heap_bytes(&self) -> usize {
        self.docs.len() * 4 + self.offsets.len() * 8
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
    /// Exact shingle sets read back from a spill file.
    Spilled(&'a SpilledSets),
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
            SimilaritySource::Spilled(sets) => match (sets.get(a), sets.get(b)) {
                (Some(x), Some(y)) => PairSimilarity::exact(&x, &y),
                // A read error is kept by the store and ends the run.
                _ => PairSimilarity { jaccard: 0.0, containment: 0.0 },
            },
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
    fn spilled_sets_read_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = SpilledSets::create(dir.path()).unwrap();
        sets.push(2, &[1, u64::MAX]).unwrap();
        sets.push(7, &[]).unwrap();
        sets.push(9, &[5, 6, 7]).unwrap();
        sets.finish().unwrap();
        assert_eq!(sets.get(2), Some(vec![1, u64::MAX]));
        assert_eq!(sets.get(7), Some(vec![]));
        assert_eq!(sets.get(9), Some(vec![5, 6, 7]));
        assert_eq!(sets.get(3), None);
        assert!(sets.take_error().is_none());
        // Nothing is left in the directory: the file has no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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
