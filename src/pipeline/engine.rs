//! The in-memory engine: signatures in, clusters out.

use rayon::prelude::*;

use super::bands::BandTables;
use crate::cluster::{ClusterMode, DocIndex, KeepFacts, UnionFind, stars};
use crate::config::DedupConfig;
use crate::lsh::{BandKey, band_key, pairs_from_sorted_band, unpack_pair};
use crate::minhash::{MinHasher, SignScratch};
use crate::shingle::{SetScratch, fingerprint, sort_set};
use crate::verify::{JudgeScratch, PairSimilarity, ShingleSets, SignatureStore, SimilaritySource, SpilledSets, Verify};

/// MinHash signatures of a corpus, one per document in input order, with
/// each document's text length in characters and shingle count.
///
/// Two forms: full signatures (`4 x num_perm` bytes a document), needed to
/// estimate similarity, or only the LSH band keys (4 bytes a band), which is
/// all exact verification needs: 72 bytes instead of 512 with 18 bands. The
/// band keys are the low 32 bits of the band hash; the rare extra candidate
/// a 32-bit collision makes is rejected by the exact check.
#[derive(Debug, Default)]
pub struct Signatures {
    num_perm: usize,
    values: Vec<u32>,
    // Band keys, when only keys are kept.
    keys: Option<BandTables>,
    chars: Vec<u32>,
    shingles: Vec<u32>,
    // Each document's date, [`NO_DATE`] for none; empty unless asked for.
    dates: Vec<i64>,
    // Each document's rank in a `--keep-priority` list; empty without one.
    ranks: Vec<u32>,
}

/// A document without a date, in [`Signatures`]' dates.
const NO_DATE: i64 = i64::MIN;

impl SignatureStore for Signatures {
    fn signature(&self, doc: u32) -> &[u32] {
        self.get(doc)
    }

    fn shingle_count(&self, doc: u32) -> u32 {
        self.shingles(doc)
    }
}

impl Signatures {
    /// An empty store of full signatures of `num_perm` values.
    pub fn new(num_perm: usize) -> Signatures {
        Signatures { num_perm, ..Default::default() }
    }

    /// An empty store that keeps only the keys of `bands` bands of `rows` values.
    pub fn band_keys_only(num_perm: usize, bands: usize, rows: usize) -> Signatures {
        Signatures { num_perm, keys: Some(BandTables::new(bands, rows)), ..Default::default() }
    }

    /// Holds band keys in memory only up to `limit_bytes`, spilling sorted
    /// runs to an unnamed file in `dir` beyond (keys-only stores; no effect
    /// on full signatures).
    pub(crate) fn limit_band_memory(&mut self, limit_bytes: u64, dir: &std::path::Path) {
        if let Some(tables) = &mut self.keys {
            tables.limit_memory(limit_bytes, dir);
        }
    }

    /// Spills the buffered band keys as a run if they reached the memory limit.
    pub(crate) fn spill_bands_if_full(&mut self) -> std::io::Result<()> {
        match &mut self.keys {
            Some(tables) => tables.spill_if_full(&self.shingles),
            None => Ok(()),
        }
    }

    /// The candidate pairs, as [`candidate_pairs`] gives them, merged from
    /// the runs on disk when band keys were spilled (`None` when they were not).
    pub(crate) fn spilled_candidate_pairs(&mut self) -> std::io::Result<Option<Vec<u64>>> {
        match &mut self.keys {
            Some(tables) if tables.is_spilled() => Ok(Some(sorted_unique(tables.spilled_pairs(&self.shingles)?))),
            _ => Ok(None),
        }
    }

    /// Frees the band keys (and their spill file) once banding is done; the
    /// lengths and shingle counts stay.
    pub(crate) fn release_band_keys(&mut self) {
        if let Some(tables) = &mut self.keys {
            *tables = BandTables::new(0, 0);
        }
    }

    /// Runs of band keys spilled to disk, and their bytes.
    pub(crate) fn band_spill(&self) -> (usize, u64) {
        self.keys.as_ref().map_or((0, 0), |t| (t.runs(), t.spilled_bytes()))
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// True when full signatures are kept (see [`Signatures::get`]).
    pub fn has_values(&self) -> bool {
        self.keys.is_none()
    }

    /// The signature of document `doc`. Panics when only band keys are kept.
    pub fn get(&self, doc: u32) -> &[u32] {
        let start = doc as usize * self.num_perm;
        &self.values[start..start + self.num_perm]
    }

    /// The key of `band` for `doc`, from the stored keys or the signature.
    pub(crate) fn band_key(&self, doc: u32, band: usize, rows: usize, scratch: &mut Vec<u8>) -> u64 {
        match &self.keys {
            Some(tables) => u64::from(tables.key(doc, band)),
            None => band_key(self.get(doc), band, rows, scratch).0,
        }
    }

    /// Text length of document `doc` in characters (saturating at `u32::MAX`).
    pub fn chars(&self, doc: u32) -> u32 {
        self.chars[doc as usize]
    }

    /// Number of shingles of document `doc` (saturating at `u32::MAX`).
    pub fn shingles(&self, doc: u32) -> u32 {
        self.shingles[doc as usize]
    }

    /// The date of document `doc` (milliseconds since the epoch), when
    /// dates are kept (a keep rule asks for them) and it has one.
    pub fn date(&self, doc: u32) -> Option<i64> {
        self.dates.get(doc as usize).copied().filter(|&t| t != NO_DATE)
    }

    /// The date of the document pushed last (called after each push, or
    /// never): 8 bytes a document, only when a keep rule asks for dates.
    pub(crate) fn push_date(&mut self, date: Option<i64>) {
        self.dates.resize(self.chars.len() - 1, NO_DATE);
        self.dates.push(date.unwrap_or(NO_DATE));
    }

    /// Document `doc`'s rank in a `--keep-priority` list (lower is kept
    /// first), 0 for every document without a list.
    pub fn rank(&self, doc: u32) -> u32 {
        self.ranks.get(doc as usize).copied().unwrap_or(0)
    }

    /// The rank of the document pushed last (called after each push, or
    /// never): 4 bytes a document, only with a priority list.
    pub(crate) fn push_rank(&mut self, rank: u32) {
        self.ranks.resize(self.chars.len() - 1, 0);
        self.ranks.push(rank);
    }

    pub(crate) fn push(&mut self, sig: &[u32], chars: usize, shingles: usize) -> DocIndex {
        debug_assert_eq!(sig.len(), self.num_perm);
        let index = DocIndex(self.chars.len() as u32);
        match &mut self.keys {
            Some(tables) => tables.push(sig),
            None => self.values.extend_from_slice(sig),
        }
        self.chars.push(u32::try_from(chars).unwrap_or(u32::MAX));
        self.shingles.push(u32::try_from(shingles).unwrap_or(u32::MAX));
        index
    }

    /// Heap bytes held per document.
    pub fn bytes_per_document(&self) -> usize {
        match &self.keys {
            Some(tables) => tables.bands() * 4 + 8,
            None => self.num_perm * 4 + 8,
        }
    }
}

/// A duplicate and its similarity to the kept document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duplicate {
    /// The duplicate document.
    pub doc: DocIndex,
    /// Jaccard similarity to the kept document: exact when verification is
    /// exact, else the MinHash estimate.
    pub jaccard: f64,
    /// Containment of the smaller of the two in the larger.
    pub containment: f64,
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
    /// Candidate pairs judged: those whose documents pairs confirmed before
    /// them had not joined already. A judged pair that fell short may not
    /// have had its similarity worked out to the end.
    pub judged_pairs: u64,
    /// Judged pairs confirmed as near-duplicates.
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
/// With exact verification (the default) it keeps every text's shingle set
/// in memory; `Verify::Estimate` keeps only signatures.
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
    sets: ShingleSets<u32>,
    scratch: SignScratch,
    set_scratch: SetScratch,
    sig: Vec<u32>,
    set: Vec<u64>,
    fingerprints: Vec<u32>,
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
            sets: ShingleSets::new(),
            scratch: SignScratch::default(),
            set_scratch: SetScratch::default(),
            set: Vec::new(),
            fingerprints: Vec::new(),
        })
    }

    /// The validated configuration (bands and rows filled in).
    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Signs and adds one text; returns its index.
    pub fn add(&mut self, text: &str) -> DocIndex {
        let exact = self.config.verify == Verify::Exact;
        let shingles = if exact {
            let n = self.hasher.sign_with_hashes(text, &mut self.scratch, &mut self.sig, &mut self.set);
            sort_set(&mut self.set, &mut self.set_scratch);
            n
        } else {
            self.hasher.sign_into(text, &mut self.scratch, &mut self.sig)
        };
        let doc = self.signatures.push(&self.sig, text.chars().count(), shingles);
        if exact {
            fingerprint_set(&self.set, &mut self.fingerprints);
            self.sets.push(doc.0, &self.fingerprints);
        }
        doc
    }

    /// Signs many texts in parallel and adds them in order.
    pub fn add_all<S: AsRef<str> + Sync>(&mut self, texts: &[S]) {
        let k = self.config.num_perm;
        let exact = self.config.verify == Verify::Exact;
        let mut sigs = vec![0u32; texts.len() * k];
        let signed: Vec<(usize, usize, Vec<u32>)> = sigs
            .par_chunks_mut(k)
            .zip(texts.par_iter())
            .map_init(<(SignScratch, SetScratch)>::default, |(scratch, set_scratch), (sig, text)| {
                let text = text.as_ref();
                let (mut set, mut fingerprints) = (Vec::new(), Vec::new());
                let shingles = if exact {
                    let n = self.hasher.sign_with_hashes(text, scratch, sig, &mut set);
                    sort_set(&mut set, set_scratch);
                    fingerprint_set(&set, &mut fingerprints);
                    n
                } else {
                    self.hasher.sign_into(text, scratch, sig)
                };
                (text.chars().count(), shingles, fingerprints)
            })
            .collect();
        for (sig, (chars, shingles, set)) in sigs.chunks(k).zip(signed) {
            let doc = self.signatures.push(sig, chars, shingles);
            if exact {
                self.sets.push(doc.0, &set);
            }
        }
    }

    /// The signatures added so far.
    pub fn signatures(&self) -> &Signatures {
        &self.signatures
    }

    /// Clusters the documents added so far.
    pub fn finish(&self) -> DedupOutcome {
        let candidates = candidate_pairs(&self.config, &self.signatures);
        // The sets here are sorted (at `add`), and merging two sorted sets
        // measured as fast as the hash lists `doppel dedup` judges from
        // (`cargo bench -- dedup/band_verify_cluster`), maps of bins included.
        let source = match self.config.verify {
            Verify::Exact => SimilaritySource::Exact(&self.sets),
            Verify::Estimate => SimilaritySource::Estimate(&self.signatures),
        };
        cluster_candidates(&self.config, &self.signatures, &candidates, source)
    }

    /// The pairs LSH proposes for judging (each once, the earlier document
    /// first, in order): those sharing all the rows of at least one band.
    /// [`Deduplicator::finish`] judges them; this shows what it will be
    /// asked.
    pub fn candidate_pairs(&self) -> Vec<(DocIndex, DocIndex)> {
        candidate_pairs(&self.config, &self.signatures)
            .into_iter()
            .map(|p| {
                let (a, b) = unpack_pair(p);
                (DocIndex(a), DocIndex(b))
            })
            .collect()
    }
}

/// The sorted, repeat-free [`fingerprint`]s of a sorted, repeat-free set of
/// hashes, into `out`: a fingerprint is a hash's top half, so the order
/// holds and repeats (two hashes sharing a top half) sit side by side.
fn fingerprint_set(sorted_set: &[u64], out: &mut Vec<u32>) {
    out.clear();
    out.extend(sorted_set.iter().map(|&h| fingerprint(h)));
    out.dedup();
}

/// Candidate pairs from LSH, sorted and without repeats. Documents with no
/// shingles take no part. For band keys spilled under a memory limit, see
/// [`Signatures::spilled_candidate_pairs`].
pub(crate) fn candidate_pairs(config: &DedupConfig, sigs: &Signatures) -> Vec<u64> {
    let (bands, rows) = (config.bands(), config.rows());
    let n = sigs.len() as u32;
    let per_band: Vec<Vec<u64>> = (0..bands)
        .into_par_iter()
        .map(|band| {
            let mut scratch = Vec::with_capacity(rows * 4);
            let mut entries: Vec<(BandKey, u32)> = (0..n)
                .filter(|&d| sigs.shingles(d) > 0)
                .map(|d| (BandKey(sigs.band_key(d, band, rows, &mut scratch)), d))
                .collect();
            entries.sort_unstable();
            let mut pairs = Vec::new();
            pairs_from_sorted_band(&entries, &mut pairs);
            pairs
        })
        .collect();
    sorted_unique(per_band)
}

fn sorted_unique(per_band: Vec<Vec<u64>>) -> Vec<u64> {
    let mut pairs: Vec<u64> = per_band.into_iter().flatten().collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// Documents that appear in any candidate pair, sorted.
pub(crate) fn candidate_docs(candidates: &[u64]) -> Vec<u32> {
    let mut docs: Vec<u32> = candidates
        .iter()
        .flat_map(|&p| {
            let (a, b) = unpack_pair(p);
            [a, b]
        })
        .collect();
    docs.par_sort_unstable();
    docs.dedup();
    docs
}

/// The most memory the candidates' maps of bins take (see
/// `verify::set_bins`) unless `--memory-limit` is lower: eight
/// bins a hash (rounded up to a power of two a list) for up to 33M
/// candidates' hashes, about 230 MB of news; fewer beyond. They are held
/// only while clustering, after the band keys are freed.
pub(crate) const BIN_BUDGET_BYTES: u64 = 64 << 20;

/// Makes the maps of bins of the stored candidates, each list read once,
/// in parallel, when they are worth it: judging then rules out most pairs
/// that fall short without reading their lists. Each list is read once more
/// to map it, which pays when a document is in several pairs (four on
/// average on real150, where clustering fell from 0.32 to 0.20 s for 0.04 s
/// of mapping; one on 1 GB of news, where the maps cost 0.17 s and saved
/// 0.07 s): so only with twice as many candidate pairs as documents. Under
/// `--containment` a pair matches with a larger difference, which the maps
/// rarely rule out (real150 at 0.8: clustering 0.25 s with them or without).
/// The maps take at most `budget_bytes`. The error is a list that could not
/// be read from the store's file.
pub(crate) fn map_bins(
    sets: &mut SpilledSets,
    config: &DedupConfig,
    candidate_pairs: usize,
    budget_bytes: u64,
) -> std::io::Result<()> {
    if config.containment.is_some() || candidate_pairs < 2 * sets.len() {
        return Ok(());
    }
    let Some(words_per_list) = sets.plan_bins(budget_bytes) else { return Ok(()) };
    let mut words = vec![0u64; words_per_list.iter().sum()];
    let mut parts = Vec::with_capacity(words_per_list.len());
    let mut rest = words.as_mut_slice();
    for &n in &words_per_list {
        let (part, tail) = rest.split_at_mut(n);
        parts.push(part);
        rest = tail;
    }
    let ones: Vec<u32> = {
        let sets = &*sets;
        parts
            .into_par_iter()
            .enumerate()
            .map_init(Vec::new, |buf, (i, part)| sets.fill_bins(i, part, buf).unwrap_or(0))
            .collect()
    };
    // A list that could not be read has an empty map, which is no bound:
    // the maps are attached only when every list was read.
    if let Some(e) = sets.take_error() {
        return Err(e);
    }
    sets.attach_bins(words, &words_per_list, ones);
    Ok(())
}

/// Candidate pairs judged between two looks at the groups formed so far:
/// small enough that most pairs inside a dense group find it joined, large
/// enough to keep both cores busy.
const JUDGE_CHUNK_PAIRS: usize = 4096;

/// What judging found of a candidate pair (see [`Judgement::state`]).
enum Judged {
    /// Not judged: its documents were already joined when its turn came.
    Unjudged,
    /// Given up as short of the thresholds, its value not worked out.
    Short,
    /// Judged to the end: its similarity.
    Known(PairSimilarity),
}

/// A [`Judged`] in the 16 bytes of a similarity: the two states without a
/// value are kept as values no similarity takes (NaN and -1), so that a
/// corpus's millions of candidate pairs cost no more than their
/// similarities. [`Judgement::state`] is the only reader.
#[derive(Clone, Copy)]
struct Judgement(PairSimilarity);

impl Judgement {
    const UNJUDGED: Judgement = Judgement(PairSimilarity { jaccard: f64::NAN, containment: f64::NAN });
    const SHORT: Judgement = Judgement(PairSimilarity { jaccard: -1.0, containment: -1.0 });

    /// A pair judged: its similarity, or `None` when it was given up.
    fn of(similarity: Option<PairSimilarity>) -> Judgement {
        similarity.map_or(Judgement::SHORT, Judgement)
    }

    fn state(self) -> Judged {
        match self.0.jaccard {
            j if j.is_nan() => Judged::Unjudged,
            j if j < 0.0 => Judged::Short,
            _ => Judged::Known(self.0),
        }
    }
}

/// Confirms candidates, groups them, and forms clusters (see [`ClusterMode`]).
pub(crate) fn cluster_candidates(
    config: &DedupConfig,
    sigs: &Signatures,
    candidates: &[u64],
    source: SimilaritySource<'_>,
) -> DedupOutcome {
    // Candidates are sorted, so the pairs of one smaller document stand
    // together: its set is read once for all of them. Every judged
    // candidate's similarity is kept, matched or not, in candidate order
    // (16 bytes a candidate pair): clustering asks again about pairs inside
    // a group, and a pair already judged needs no second read of its sets.
    //
    // A pair whose documents are already joined by confirmed pairs is not
    // judged: the groups come out the same, and clustering asks about the
    // pairs it needs. On a dense corpus (a story and ten copies make 55
    // candidate pairs, of which 10 join them) that is most of the reads.
    // Pairs are taken a chunk at a time, judged in parallel against the
    // groups the earlier chunks made, so what is skipped does not depend on
    // the number of threads.
    let thresholds = config.thresholds();
    let mut judged = vec![Judgement::UNJUDGED; candidates.len()];
    let mut uf = UnionFind::new(sigs.len());
    let (mut judged_pairs, mut confirmed_pairs) = (0u64, 0u64);
    for (chunk_index, chunk) in candidates.chunks(JUDGE_CHUNK_PAIRS).enumerate() {
        let open: Vec<usize> = (0..chunk.len())
            .filter(|&i| {
                let (a, b) = unpack_pair(chunk[i]);
                uf.find(a) != uf.find(b)
            })
            .collect();
        // A pair that falls short may not get its similarity worked out to
        // the end (see `judge_to`); it stays unjudged for clustering.
        let results: Vec<(usize, Option<PairSimilarity>)> = open
            .par_chunk_by(|&i, &j| chunk[i] >> 32 == chunk[j] >> 32)
            .map_init(JudgeScratch::default, |scratch, run| {
                let a = unpack_pair(chunk[run[0]]).0;
                let mut all = Vec::with_capacity(run.len());
                let mut next = run.iter();
                let others = run.iter().map(|&i| unpack_pair(chunk[i]).1);
                source.judge_to(a, others, &thresholds, scratch, |_, s| {
                    all.extend(next.next().map(|&i| (i, s)));
                });
                all
            })
            .flatten_iter()
            .collect();
        judged_pairs += results.len() as u64;
        for (i, s) in results {
            judged[chunk_index * JUDGE_CHUNK_PAIRS + i] = Judgement::of(s);
            if s.is_some_and(|s| s.matches(&thresholds)) {
                let (a, b) = unpack_pair(chunk[i]);
                uf.union(a, b);
                confirmed_pairs += 1;
            }
        }
    }
    let judged_as = |a: u32, b: u32| -> Judged {
        match candidates.binary_search(&crate::lsh::pack_pair(a, b)) {
            Ok(i) => judged[i].state(),
            Err(_) => Judged::Unjudged,
        }
    };
    // The value, for a pair that is reported: worked out if it was not.
    let similarity = |a: u32, b: u32| match judged_as(a, b) {
        Judged::Known(s) => s,
        Judged::Short | Judged::Unjudged => source.similarity(a, b),
    };
    // Whether `d` may be removed for `kept`: a pair given up as short is
    // known not to match. Removal is directional: by containment, only the
    // smaller of two documents (the one contained) goes, never its source.
    let matches = |kept: u32, d: u32| {
        let s = match judged_as(kept, d) {
            Judged::Short => return false,
            Judged::Known(s) => s,
            Judged::Unjudged => source.similarity(kept, d),
        };
        s.jaccard >= config.jaccard_threshold
            || config.containment.is_some_and(|c| s.containment >= c && sigs.shingles(d) <= sigs.shingles(kept))
    };
    let groups = uf.groups();
    let facts = KeepFacts { chars: |d: u32| sigs.chars(d), date: |d: u32| sigs.date(d), rank: |d: u32| sigs.rank(d) };
    let per_group: Vec<Vec<Cluster>> = groups
        .par_iter()
        .map(|group| {
            let duplicate = |kept: u32, d: u32| {
                let s = similarity(kept, d);
                Duplicate { doc: DocIndex(d), jaccard: s.jaccard, containment: s.containment }
            };
            match config.cluster {
                ClusterMode::Union => {
                    // Under containment, as for stars: the largest is kept.
                    let kept = match config.containment {
                        Some(_) => facts
                            .keep_order(group, config.keep)
                            .into_iter()
                            .min_by_key(|&d| std::cmp::Reverse(sigs.shingles(d)))
                            .unwrap_or(group[0]),
                        None => facts.choose_kept(group, config.keep),
                    };
                    let duplicates = group.iter().filter(|&&d| d != kept).map(|&d| duplicate(kept, d)).collect();
                    vec![Cluster { kept: DocIndex(kept), duplicates }]
                }
                ClusterMode::Star => {
                    // Pairs judged above are answered from there; the others
                    // of the group (not paired by LSH, or skipped as already
                    // joined) are checked on demand.
                    // Under containment the documents that hold others
                    // come first (the keep rule orders equals): a stub is
                    // never kept over its source.
                    let mut order = facts.keep_order(group, config.keep);
                    if config.containment.is_some() {
                        order.sort_by_key(|&d| std::cmp::Reverse(sigs.shingles(d)));
                    }
                    stars(group, &order, matches)
                        .into_iter()
                        .map(|(kept, members)| Cluster {
                            kept: DocIndex(kept),
                            duplicates: members.into_iter().map(|d| duplicate(kept, d)).collect(),
                        })
                        .collect()
                }
            }
        })
        .collect();
    let mut clusters: Vec<Cluster> = per_group.into_iter().flatten().collect();
    // Ordered by kept document, so the output reads in input order.
    clusters.sort_by_key(|c| c.kept);
    let mut duplicate = vec![false; sigs.len()];
    for c in &clusters {
        for d in &c.duplicates {
            duplicate[d.doc.0 as usize] = true;
        }
    }
    DedupOutcome { clusters, candidate_pairs: candidates.len() as u64, judged_pairs, confirmed_pairs, duplicate }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::splitmix64;
    use crate::verify::PairSimilarity;
    use proptest::prelude::*;

    /// A corpus of drifting chains: each document edits a few words of the
    /// previous one in its chain, so ends of a chain can fall below the
    /// threshold while neighbours stay above it.
    fn chains(seed: u64, chains: usize, length: usize, edits: usize) -> Vec<String> {
        let mut docs = Vec::new();
        for c in 0..chains {
            let mut words: Vec<String> =
                (0..150).map(|i| format!("w{}", splitmix64(seed ^ (c as u64) << 20 ^ i) % 20_000)).collect();
            for step in 0..length {
                docs.push(words.join(" "));
                for e in 0..edits {
                    let h = splitmix64(seed ^ ((c * 1000 + step * 10 + e) as u64) << 1);
                    let at = (h % words.len() as u64) as usize;
                    words[at] = format!("x{}", h % 1_000_000);
                }
            }
        }
        docs
    }

    fn run(config: &DedupConfig, docs: &[String], threads: usize) -> (Vec<Cluster>, Deduplicator) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut d = Deduplicator::new(config.clone()).unwrap();
            d.add_all(docs);
            (d.finish().clusters, d)
        })
    }

    // More candidates than several chunks of judging: skipping the pairs
    // already joined must give the groups of judging every pair, on any
    // number of threads.
    #[test]
    fn judging_in_chunks_gives_the_groups_of_judging_every_pair() {
        let docs = chains(7, 16, 100, 1);
        let config = DedupConfig { cluster: ClusterMode::Union, ..DedupConfig::default() };
        let (one, dedup) = run(&config, &docs, 1);
        let (two, _) = run(&config, &docs, 2);
        assert_eq!(one, two);
        let candidates = candidate_pairs(&dedup.config, &dedup.signatures);
        assert!(candidates.len() > 2 * JUDGE_CHUNK_PAIRS, "{} candidates", candidates.len());
        let mut uf = UnionFind::new(docs.len());
        for &p in &candidates {
            let (a, b) = unpack_pair(p);
            if PairSimilarity::exact(dedup.sets.get(a).unwrap(), dedup.sets.get(b).unwrap())
                .matches(&config.thresholds())
            {
                uf.union(a, b);
            }
        }
        let mut got: Vec<Vec<u32>> = one
            .iter()
            .map(|c| {
                let mut group: Vec<u32> = c.duplicates.iter().map(|d| d.doc.0).chain([c.kept.0]).collect();
                group.sort_unstable();
                group
            })
            .collect();
        got.sort();
        assert_eq!(got, uf.groups());
    }

    // The store `doppel dedup` judges from (hash lists, pairs given up
    // early or ruled out by their maps of bins) gives the clusters, and the
    // similarities, that the sorted sets give pair by pair; on chains dense
    // enough for the maps to be made, in both clustering modes.
    #[test]
    fn the_judging_store_clusters_as_the_sorted_sets_do() {
        let docs = chains(11, 12, 40, 2);
        for cluster in [ClusterMode::Star, ClusterMode::Union] {
            let config = DedupConfig { cluster, ..DedupConfig::default() };
            let (want, dedup) = run(&config, &docs, 2);
            assert!(!want.is_empty());
            let candidates = candidate_pairs(&dedup.config, &dedup.signatures);
            let docs_of = candidate_docs(&candidates);
            assert!(candidates.len() >= 2 * docs_of.len(), "{} pairs of {} documents", candidates.len(), docs_of.len());
            let mut store = SpilledSets::in_memory(&docs_of, |d| dedup.sets.get(d).unwrap());
            // No maps where a document is in few pairs, nor under containment.
            map_bins(&mut store, &dedup.config, 2 * docs_of.len() - 1, BIN_BUDGET_BYTES).unwrap();
            let containment = DedupConfig { containment: Some(0.8), ..dedup.config.clone() };
            map_bins(&mut store, &containment, candidates.len(), BIN_BUDGET_BYTES).unwrap();
            assert_eq!(store.bin_bytes(), 0);
            map_bins(&mut store, &dedup.config, candidates.len(), BIN_BUDGET_BYTES).unwrap();
            assert!(store.bin_bytes() > 0);
            let got =
                cluster_candidates(&dedup.config, &dedup.signatures, &candidates, SimilaritySource::Spilled(&store));
            assert_eq!(got.clusters, want, "{cluster:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn no_duplicate_is_below_the_threshold_and_threads_do_not_matter(
            seed in any::<u64>(), n in 2usize..6, len in 2usize..6, edits in 1usize..5, union in any::<bool>(),
        ) {
            let docs = chains(seed, n, len, edits);
            let config = DedupConfig {
                cluster: if union { ClusterMode::Union } else { ClusterMode::Star },
                ..DedupConfig::default()
            };
            let (one, dedup) = run(&config, &docs, 1);
            let (two, _) = run(&config, &docs, 2);
            prop_assert_eq!(&one, &two);
            if !union {
                for c in &one {
                    let kept = dedup.sets.get(c.kept.0).unwrap();
                    for d in &c.duplicates {
                        let exact = PairSimilarity::exact(kept, dedup.sets.get(d.doc.0).unwrap());
                        prop_assert!(exact.jaccard >= 0.8, "{} below threshold", exact.jaccard);
                        prop_assert_eq!(exact.jaccard, d.jaccard);
                    }
                }
            }
        }
    }
}
