//! Maps of bins: a bound on how much two sets differ, from a few words a
//! document, that rules out most pairs that fall short before their sets
//! are read.

use super::Thresholds;

/// Sets `words.len() * 64` bins (a power of two) for `hashes` (fingerprints),
/// each the bit of its value turned by half, and returns the bins set.
///
/// A map of bins rules a pair out without probing. Bins are disjoint, so
/// every bin set in one map and not the other holds a hash of one set that
/// the other lacks: the bins that differ never exceed the symmetric
/// difference `|A| + |B| - 2 |A ∩ B|`, which a pair must keep small to
/// match. With eight bins a hash, a hash the other set lacks is alone in its
/// bin nine times in ten, so the bound sits close to the true difference.
/// On a corpus dense with near-copies most candidate pairs fall short of
/// the threshold by less than the MinHash estimate can tell (on `real150`,
/// 114k of 141k judged pairs, most between 0.6 and 0.8), and the maps rule
/// out 94% of those for about two fifths of the bytes of the lists (eight
/// bins a hash, rounded up to a power of two). A bin is the low bits of the
/// value with its halves swapped, so that a map of `2^k` bins folds to one
/// of `2^(k-1)` by OR-ing its halves (see [`bins_differing`]); the top half
/// first keeps the bins apart from [`HashList`]'s slots, which are the low
/// bits, up to maps of 2^16 bins.
pub(crate) fn set_bins(words: &mut [u64], hashes: &[u32]) -> u32 {
    debug_assert!(words.len().is_power_of_two());
    words.fill(0);
    let mask = words.len() * 64 - 1;
    for &h in hashes {
        let bin = h.rotate_left(16) as usize & mask;
        words[bin >> 6] |= 1 << (bin & 63);
    }
    words.iter().map(|w| w.count_ones()).sum()
}

/// The bins set in one map and not the other, the larger map folded to
/// the size of the smaller (both sizes powers of two): a lower bound of the
/// symmetric difference of the sets they were made of.
pub(crate) fn bins_differing(a: &[u64], b: &[u64]) -> usize {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut differ = 0u32;
    if small.len() == large.len() {
        for (x, y) in small.iter().zip(large) {
            differ += (x ^ y).count_ones();
        }
    } else {
        for (i, x) in small.iter().enumerate() {
            let folded = large[i..].iter().step_by(small.len()).fold(0, |f, w| f | w);
            differ += (x ^ folded).count_ones();
        }
    }
    differ as usize
}

/// False when a pair cannot match under `config` whose sets differ in at
/// least `differ` hashes (a lower bound of the symmetric difference, from
/// [`bins_differing`]), given the least and most distinct hashes each set
/// may have.
///
/// The shared count is then at most `(|A| + |B| - differ) / 2`, so Jaccard
/// is at most `(S - differ) / (S + differ)` for `S = |A| + |B|`, which grows
/// with `S`; containment `shared / |B|` (B the smaller) is at most
/// `1/2 + (|A| - differ) / 2|B|`, largest with `|A|` most and `|B|` least.
/// The bounds are worked out in floating point, which may round a hair
/// differently from [`PairSimilarity::from_sizes`], so a pair within
/// `1e-9` of a threshold is let through to be counted.
pub(crate) fn may_match(a: (usize, usize), b: (usize, usize), differ: usize, config: &Thresholds) -> bool {
    const SLACK: f64 = 1e-9;
    let (sum, differ) = ((a.1 + b.1) as f64, differ as f64);
    if sum + differ == 0.0 || (sum - differ) / (sum + differ) + SLACK >= config.jaccard {
        return true;
    }
    let Some(containment) = config.containment else { return false };
    let bound = |most: usize, least: usize| match least {
        0 => 1.0,
        _ => 0.5 + (most as f64 - differ).max(0.0) / (2.0 * least as f64),
    };
    bound(a.1, b.0).max(bound(b.1, a.0)) + SLACK >= containment
}
