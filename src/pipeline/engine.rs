//! The in-memory engine: signatures in, clusters out.

use rayon::prelude::*;

use crate::cluster::{DocIndex, UnionFind, choose_kept};
use crate::config::DedupConfig;
use crate::lsh::{BandKey, band_key, pairs_from_sorted_band, unpack_pair};
use crate::minhash::{MinHasher, SignScratch, estimate_jaccard, is_empty_signature};

/// MinHash signatures of a corpus, flat, one per document in input order,
/// with each document's text length in characters.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    num_perm: usize,
    values: Vec<u32>,
    chars: Vec<u32>,
}

impl Signatures {
    /// An empty store for signatures of `num_perm` values.
    pub fn new(num_perm: usize) -> Signatures {
        Signatures {
            num_perm,
            values: Vec::new(),
            chars: Vec::new(),
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The signature of document `doc`.
    pub fn get(&self, doc: u32) -> &[u32] {
        let start = doc as usize * self.num_perm;
        &self.values[start..start + self.num_perm]
    }

    /// Text length of document `doc` in characters (saturating at `u32::MAX`).
    pub fn chars(&self, doc: u32) -> u32 {
        self.chars[doc as usize]
    }

    pub(crate) fn push(&mut self, sig: &[u32], chars: usize) -> DocIndex {
        debug_assert_eq!(sig.len(), self.num_perm);
        let index = DocIndex(self.chars.len() as u32);
        self.values.extend_from_slice(sig);
        self.chars.push(u32::try_from(chars).unwrap_or(u32::MAX));
        index
    }

    /// Heap bytes held per document.
    pub fn bytes_per_document(&self) -> usize {
        self.num_perm * 4 + 4
    }
}

/// A duplicate and its similarity to the kept document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duplicate {
    /// The duplicate document.
    pub doc: DocIndex,
    /// Estimated Jaccard similarity to the kept document.
    pub jaccard: f64,
}

/// A cluster of two or more near-duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The document kept.
    pub kept: DocIndex,
    /// The others, in input order.
    pub duplicates: Vec<Duplicate>,
}

/// Result of a deduplication: the clusters, ordered by their first member.
#[derive(Debug, Clone, Default)]
pub struct DedupOutcome {
    /// Clusters of two or more documents.
    pub clusters: Vec<Cluster>,
    /// Pairs that shared at least one LSH band.
    pub candidate_pairs: u64,
    /// Candidate pairs confirmed as near-duplicates.
    pub confirmed_pairs: u64,
    duplicate: Vec<bool>,
}

impl DedupOutcome {
    /// True when `doc` was removed as a duplicate of another document.
    pub fn is_duplicate(&self, doc: DocIndex) -> bool {
        self.duplicate.get(doc.0 as usize).copied().unwrap_or(false)
    }

    /// Number of documents removed as duplicates.
    pub fn num_duplicates(&self) -> usize {
        self.clusters.iter().map(|c| c.duplicates.len()).sum()
    }
}

/// Finds near-duplicate clusters among in-memory texts.
///
/// ```
/// use doppel::{DedupConfig, Deduplicator};
/// let story = "Dock workers at the northern port walked out on Monday after talks on pay \
///              and night shifts collapsed, leaving dozens of container ships waiting offshore.";
/// let mut dedup = Deduplicator::new(DedupConfig::default())?;
/// let original = dedup.add(story);
/// let copy = dedup.add(&format!("{story} Reporting by staff."));
/// let other = dedup.add("A wildfire forced hundreds of residents to leave their homes overnight.");
/// let outcome = dedup.finish();
/// assert_eq!(outcome.clusters.len(), 1);
/// assert_eq!(outcome.clusters[0].kept, original);
/// assert!(outcome.is_duplicate(copy) && !outcome.is_duplicate(other));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    config: DedupConfig,
    hasher: MinHasher,
    signatures: Signatures,
    scratch: SignScratch,
    sig: Vec<u32>,
}

impl Deduplicator {
    /// Validates `config` and starts an empty corpus.
    pub fn new(config: DedupConfig) -> crate::Result<Deduplicator> {
        let config = config.validate()?;
        let hasher = MinHasher::new(config.num_perm, config.shingling, config.seed);
        Ok(Deduplicator {
            signatures: Signatures::new(config.num_perm),
            sig: vec![0; config.num_perm],
            hasher,
            config,
            scratch: SignScratch::default(),
        })
    }

    /// The validated configuration (bands and rows filled in).
    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Signs and adds one text; returns its index.
    pub fn add(&mut self, text: &str) -> DocIndex {
        self.hasher
            .sign_into(text, &mut self.scratch, &mut self.sig);
        self.signatures.push(&self.sig, text.chars().count())
    }

    /// Signs many texts in parallel and adds them in order.
    pub fn add_all<S: AsRef<str> + Sync>(&mut self, texts: &[S]) {
        let k = self.config.num_perm;
        let mut sigs = vec![0u32; texts.len() * k];
        let chars: Vec<usize> = sigs
            .par_chunks_mut(k)
            .zip(texts.par_iter())
            .map_init(SignScratch::default, |scratch, (sig, text)| {
                let text = text.as_ref();
                self.hasher.sign_into(text, scratch, sig);
                text.chars().count()
            })
            .collect();
        for (sig, chars) in sigs.chunks(k).zip(chars) {
            self.signatures.push(sig, chars);
        }
    }

    /// The signatures added so far.
    pub fn signatures(&self) -> &Signatures {
        &self.signatures
    }

    /// Clusters the documents added so far.
    pub fn finish(&self) -> DedupOutcome {
        find_clusters(&self.config, &self.signatures)
    }
}

/// Candidate pairs from LSH, sorted and without repeats. Documents with no
/// shingles take no part.
pub(crate) fn candidate_pairs(config: &DedupConfig, sigs: &Signatures) -> Vec<u64> {
    let (bands, rows) = (config.bands(), config.rows());
    let n = sigs.len() as u32;
    let per_band: Vec<Vec<u64>> = (0..bands)
        .into_par_iter()
        .map(|band| {
            let mut scratch = Vec::with_capacity(rows * 4);
            let mut entries: Vec<(BandKey, u32)> = (0..n)
                .filter(|&d| !is_empty_signature(sigs.get(d)))
                .map(|d| (band_key(sigs.get(d), band, rows, &mut scratch), d))
                .collect();
            entries.sort_unstable();
            let mut pairs = Vec::new();
            pairs_from_sorted_band(&entries, &mut pairs);
            pairs
        })
        .collect();
    let mut pairs: Vec<u64> = per_band.into_iter().flatten().collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// LSH candidates, confirmed by estimated Jaccard, joined by union-find.
pub(crate) fn find_clusters(config: &DedupConfig, sigs: &Signatures) -> DedupOutcome {
    let candidates = candidate_pairs(config, sigs);
    let threshold = config.jaccard_threshold;
    let confirmed: Vec<u64> = candidates
        .par_iter()
        .copied()
        .filter(|&p| {
            let (a, b) = unpack_pair(p);
            estimate_jaccard(sigs.get(a), sigs.get(b)) >= threshold
        })
        .collect();
    let mut uf = UnionFind::new(sigs.len());
    for &p in &confirmed {
        let (a, b) = unpack_pair(p);
        uf.union(a, b);
    }
    let mut duplicate = vec![false; sigs.len()];
    let clusters: Vec<Cluster> = uf
        .groups()
        .into_iter()
        .map(|group| {
            let kept = choose_kept(&group, config.keep, |d| sigs.chars(d));
            let duplicates = group
                .iter()
                .filter(|&&d| d != kept)
                .map(|&d| {
                    duplicate[d as usize] = true;
                    Duplicate {
                        doc: DocIndex(d),
                        jaccard: estimate_jaccard(sigs.get(kept), sigs.get(d)),
                    }
                })
                .collect();
            Cluster {
                kept: DocIndex(kept),
                duplicates,
            }
        })
        .collect();
    DedupOutcome {
        clusters,
        candidate_pairs: candidates.len() as u64,
        confirmed_pairs: confirmed.len() as u64,
        duplicate,
    }
}
