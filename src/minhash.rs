//! MinHash signatures by one-permutation hashing with optimal densification.
//!
//! Classic MinHash applies `num_perm` hash functions to every shingle and
//! keeps each function's minimum: `num_perm` multiplications per shingle.
//! One-permutation hashing (Li, Owen & Zhang, 2012) hashes each shingle once
//! with seeded XXH3-64: the high 32 bits pick one of `num_perm` bins, the low
//! 32 bits are the value, and each bin keeps its minimum. Cost per shingle is
//! one hash and one compare, whatever `num_perm` is, and for two sets every
//! non-empty bin collides with probability equal to their Jaccard similarity.
//!
//! A document with fewer shingles than bins leaves bins empty. Optimal
//! densification (Shrivastava, ICML 2017) fills each empty bin `j` by probing
//! bins `p(j, 1), p(j, 2), ...` (a fixed pseudo-random sequence that depends
//! only on `j`, the attempt and the seed) and copying the value of the first
//! bin that was filled. Two documents probe the same sequence, so a densified
//! bin also collides with probability equal to the Jaccard similarity, and
//! the estimator stays unbiased with variance close to classic MinHash.
//!
//! The estimate of Jaccard similarity is the share of positions at which two
//! signatures agree; its standard error is `sqrt(J (1 - J) / num_perm)`.

use crate::shingle::{Shingling, fingerprint, for_each_shingle_hash, normalize_bytes};

/// Marks a bin no shingle fell into. Real values are capped one below it.
const EMPTY_BIN: u32 = u32::MAX;

/// Computes MinHash signatures for one configuration (shingling, `num_perm`, seed).
///
/// ```
/// use doppel::{MinHasher, Shingling};
/// let hasher = MinHasher::new(128, Shingling::Words(5), 42);
/// let a = hasher.signature("The port strike entered its third day on Monday as talks stalled.");
/// let b = hasher.signature("The port strike entered its third day on Monday as talks stalled again.");
/// let similarity = doppel::estimate_jaccard(&a, &b);
/// assert!(similarity > 0.5 && similarity < 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct MinHasher {
    num_perm: usize,
    shingling: Shingling,
    seed: u64,
}

/// Reusable buffers for [`MinHasher::sign_into`], one per thread.
#[derive(Debug, Default)]
pub struct SignScratch {
    normalized: Vec<u8>,
    filled: Vec<bool>,
}

impl SignScratch {
    /// The normalised text (UTF-8) of the last document signed with this scratch.
    pub fn normalized(&self) -> &[u8] {
        &self.normalized
    }
}

impl MinHasher {
    /// A hasher producing `num_perm` values per signature.
    pub fn new(num_perm: usize, shingling: Shingling, seed: u64) -> MinHasher {
        MinHasher { num_perm: num_perm.max(1), shingling, seed }
    }

    /// Seed of the shingle hash.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of values in a signature.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// The signature of `text` (allocates; see [`MinHasher::sign_into`] for the loop form).
    pub fn signature(&self, text: &str) -> Vec<u32> {
        let mut sig = vec![0; self.num_perm];
        self.sign_into(text, &mut SignScratch::default(), &mut sig);
        sig
    }

    /// Writes the signature of `text` into `sig` (length `num_perm`) and
    /// returns the number of shingles. A text with no words has zero shingles
    /// and a signature of all-empty bins, which matches nothing.
    pub fn sign_into(&self, text: &str, scratch: &mut SignScratch, sig: &mut [u32]) -> usize {
        normalize_bytes(text, &mut scratch.normalized);
        self.sign_normalized(&scratch.normalized, &mut scratch.filled, sig, |_| {})
    }

    /// [`MinHasher::sign_into`] that also leaves every shingle hash of
    /// `text` in `hashes`, in text order with repeats (one per shingle
    /// counted): the document's exact set, unsorted. Each shingle is hashed
    /// once for both, so exact verification needs no second look at the text.
    pub fn sign_with_hashes(
        &self,
        text: &str,
        scratch: &mut SignScratch,
        sig: &mut [u32],
        hashes: &mut Vec<u64>,
    ) -> usize {
        hashes.clear();
        normalize_bytes(text, &mut scratch.normalized);
        self.sign_normalized(&scratch.normalized, &mut scratch.filled, sig, |h| hashes.push(h))
    }

    /// [`MinHasher::sign_into`] that also appends the [`fingerprint`] of
    /// every shingle hash of `text` to `fingerprints`, in text order with
    /// repeats, so that the sets of several documents can be built back to
    /// back in one buffer: what `doppel dedup` logs for exact verification.
    pub fn sign_appending_fingerprints(
        &self,
        text: &str,
        scratch: &mut SignScratch,
        sig: &mut [u32],
        fingerprints: &mut Vec<u32>,
    ) -> usize {
        normalize_bytes(text, &mut scratch.normalized);
        self.sign_normalized(&scratch.normalized, &mut scratch.filled, sig, |h| fingerprints.push(fingerprint(h)))
    }

    fn sign_normalized(
        &self,
        normalized: &[u8],
        filled: &mut Vec<bool>,
        sig: &mut [u32],
        mut also: impl FnMut(u64),
    ) -> usize {
        let k = self.num_perm;
        debug_assert_eq!(sig.len(), k);
        sig.fill(EMPTY_BIN);
        let k64 = k as u64;
        let count = for_each_shingle_hash(normalized, self.shingling, self.seed, |h| {
            // Lemire's multiply-shift maps the high half uniformly onto the
            // bins without a division.
            let bin = (((h >> 32) * k64) >> 32) as usize;
            let value = (h as u32).min(EMPTY_BIN - 1);
            // bin < k because (h >> 32) < 2^32. A min, not a branch: early
            // in a document most values lower their bin, later few do, and
            // the branch mispredicted either way.
            sig[bin] = sig[bin].min(value);
            also(h);
        });
        if count == 0 {
            return 0;
        }
        filled.clear();
        filled.extend(sig.iter().map(|&v| v != EMPTY_BIN));
        let filled_bins = filled.iter().filter(|&&f| f).count();
        if filled_bins < k {
            for j in 0..k {
                if filled[j] {
                    continue;
                }
                // At least one bin is filled (count > 0), so the probe ends.
                let mut attempt: u64 = 1;
                loop {
                    let probe = probe_bin(self.seed, j as u64, attempt, k64);
                    if filled[probe] {
                        sig[j] = sig[probe];
                        break;
                    }
                    attempt += 1;
                }
            }
        }
        count
    }
}

/// The `attempt`-th bin probed to fill empty bin `j`.
fn probe_bin(seed: u64, j: u64, attempt: u64, k: u64) -> usize {
    let h = splitmix64(seed ^ (j << 32 | attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (((h >> 32) * k) >> 32) as usize
}

/// SplitMix64's finaliser: a fast bijective mixer with full avalanche.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Share of positions at which two signatures agree: the MinHash estimate of
/// Jaccard similarity. Signatures of different lengths compare on the shorter.
pub fn estimate_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let k = a.len().min(b.len());
    if k == 0 {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y && **x != EMPTY_BIN).count();
    equal as f64 / k as f64
}

/// True when a signature came from a text with no shingles.
pub fn is_empty_signature(sig: &[u32]) -> bool {
    sig.first().is_none_or(|&v| v == EMPTY_BIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::jaccard;
    use proptest::prelude::*;

    fn words(seed: u64, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("w{:x}", splitmix64(seed.wrapping_mul(1_000_003) + i as u64) % 100_000)).collect()
    }

    #[test]
    fn golden_signature_values() {
        // Pinned: a change here changes every stored signature and band key.
        // Bump the format version and update deliberately.
        let hasher = MinHasher::new(8, Shingling::Words(2), 42);
        let sig = hasher.signature("The quick brown fox jumps over the lazy dog.");
        assert_eq!(sig, GOLDEN);
    }
    const GOLDEN: [u32; 8] =
        [1359414776, 1359414776, 929059917, 1204036180, 929059917, 2524186162, 3971857642, 3971857642];

    #[test]
    fn identical_texts_have_identical_signatures() {
        let h = MinHasher::new(64, Shingling::Words(5), 1);
        let text = words(3, 300).join(" ");
        assert_eq!(h.signature(&text), h.signature(&format!("  {}!", text.to_uppercase())));
        assert_eq!(estimate_jaccard(&h.signature(&text), &h.signature(&text)), 1.0);
    }

    #[test]
    fn empty_text_matches_nothing() {
        let h = MinHasher::new(16, Shingling::Words(5), 1);
        let empty = h.signature("  ...  ");
        assert!(is_empty_signature(&empty));
        assert_eq!(estimate_jaccard(&empty, &empty), 0.0);
        assert!(!is_empty_signature(&h.signature("one")));
    }

    #[test]
    fn densified_short_documents_still_match_themselves() {
        let h = MinHasher::new(128, Shingling::Words(5), 9);
        let a = h.signature("a b c d e f g");
        assert!(!a.contains(&EMPTY_BIN));
        assert_eq!(estimate_jaccard(&a, &h.signature("A B C D E F G")), 1.0);
    }

    #[test]
    fn signing_with_the_hashes_gives_the_plain_signature_and_every_shingle() {
        let h = MinHasher::new(128, Shingling::Words(5), 7);
        let mut scratch = SignScratch::default();
        let (mut sig, mut hashes) = (vec![0; 128], Vec::new());
        // A repeated passage, then a short text and an empty one, through
        // the same scratch.
        let long = format!("{0} {0} {1}", words(1, 400).join(" "), words(2, 300).join(" "));
        for text in [long.as_str(), "Only three words", " ... "] {
            let n = h.sign_with_hashes(text, &mut scratch, &mut sig, &mut hashes);
            let mut plain = vec![0; 128];
            assert_eq!(n, h.sign_into(text, &mut SignScratch::default(), &mut plain));
            assert_eq!(sig, plain);
            assert_eq!(hashes.len(), n);
            let mut set = hashes.clone();
            set.sort_unstable();
            set.dedup();
            assert_eq!(set, crate::shingle::shingle_set(text, Shingling::Words(5), 7));
        }
        // Appending builds the fingerprint lists of several texts back to
        // back, as the sign pass's runs do, with the same signatures.
        let mut run = Vec::new();
        let mut expected = Vec::new();
        for text in [long.as_str(), " ... ", "Only three words"] {
            h.sign_with_hashes(text, &mut scratch, &mut sig, &mut hashes);
            expected.extend(hashes.iter().map(|&x| crate::shingle::fingerprint(x)));
            let plain = sig.clone();
            let n = h.sign_appending_fingerprints(text, &mut scratch, &mut sig, &mut run);
            assert_eq!((n, &sig), (hashes.len(), &plain));
        }
        assert_eq!(run, expected);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The estimate stays within its statistical error of the exact
        /// Jaccard similarity of the 1-gram sets (5 standard errors, plus the
        /// granularity of one position).
        #[test]
        fn estimate_within_statistical_error(
            seed in any::<u64>(), shared in 0usize..400, only_a in 0usize..200, only_b in 0usize..200,
        ) {
            prop_assume!(shared + only_a + only_b > 0);
            let pool = words(seed, shared + only_a + only_b);
            let a: Vec<&str> = pool[..shared + only_a].iter().map(String::as_str).collect();
            let b: Vec<&str> = pool[..shared].iter().chain(&pool[shared + only_a..]).map(String::as_str).collect();
            let sh = Shingling::Words(1);
            let exact = jaccard(
                &crate::shingle::shingle_set(&a.join(" "), sh, seed),
                &crate::shingle::shingle_set(&b.join(" "), sh, seed),
            );
            let hasher = MinHasher::new(256, sh, seed);
            let est = estimate_jaccard(&hasher.signature(&a.join(" ")), &hasher.signature(&b.join(" ")));
            let k = 256.0;
            let bound = 5.0 * (exact * (1.0 - exact) / k).sqrt() + 1.0 / k + 1e-9;
            prop_assert!((est - exact).abs() <= bound, "estimate {est} exact {exact} bound {bound}");
        }
    }
}
