//! LSH banding: from signatures to candidate pairs.
//!
//! A signature is cut into `bands` bands of `rows` values; each band is
//! hashed to a 64-bit [`BandKey`]. Documents whose keys are equal in some band
//! are candidates. Rather than a hash map from key to a list of documents,
//! the pipeline sorts `(key, doc)` entries per band and reads runs of equal
//! keys ([`pairs_from_sorted_band`]): one flat array, no per-bucket
//! allocation, and an order that does not depend on thread scheduling.
//!
//! A bucket of `m` documents holds `m (m - 1) / 2` pairs. Small buckets give
//! all of them. A large bucket (almost always one story copied many times)
//! gives each member paired with the bucket's first member and with its
//! predecessor: `2m` pairs that still connect the whole bucket when its
//! members are alike, and that keep the cost linear.
//!
//! ## Choosing bands and rows
//! LSH splits a `num_perm`-value signature into `bands` bands of `rows`
//! values; two documents become candidates when any band matches exactly.
//! For a pair of Jaccard similarity `s` that happens with probability
//! `P(s) = 1 - (1 - s^rows)^bands`, an S-curve around `(1/bands)^(1/rows)`.
//! [`optimal_bands_rows`] picks the `(bands, rows)` with
//! `bands * rows <= num_perm` that minimise
//! `fp_weight * ∫_0^t P(s) ds + fn_weight * ∫_t^1 (1 - P(s)) ds`: the
//! probability mass of false candidates below the threshold `t` and of
//! missed pairs above it (the method of datasketch's `MinHashLSH`).
//! Every candidate is confirmed before it joins a cluster, so a false
//! candidate costs only a comparison while a missed pair is lost for good:
//! doppel weights misses 99 to 1 by default, which for the default threshold
//! 0.8 and 128 values gives 18 bands of 7 rows: a pair at 0.8 becomes a
//! candidate with probability 0.986, one at 0.5 with 0.13.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Buckets up to this size yield every pair; larger ones a star and a chain.
pub const ALL_PAIRS_BUCKET: usize = 16;

/// The hash of one band of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BandKey(pub u64);

/// Hashes band `band` (values `band * rows .. (band + 1) * rows`) of a signature.
/// `scratch` is a reusable byte buffer.
pub fn band_key(sig: &[u32], band: usize, rows: usize, scratch: &mut Vec<u8>) -> BandKey {
    scratch.clear();
    for v in &sig[band * rows..(band + 1) * rows] {
        scratch.extend_from_slice(&v.to_le_bytes());
    }
    // The band number seeds the hash, so equal values in different bands
    // never share a key if band tables are ever merged.
    BandKey(xxh3_64_with_seed(scratch, band as u64))
}

/// A candidate pair packed as `(smaller << 32) | larger` document index, so
/// sorting pairs sorts by first then second document.
pub fn pack_pair(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// Splits a packed pair back into `(smaller, larger)`.
pub fn unpack_pair(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Appends the candidate pairs of one band's entries, sorted by key then
/// document, to `out` (see the module docs for large buckets).
pub fn pairs_from_sorted_band(entries: &[(BandKey, u32)], out: &mut Vec<u64>) {
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        pairs_from_bucket(run, |e| e.1, out);
    }
}

/// Appends the candidate pairs of one bucket (the entries of one band key,
/// in increasing document order; `doc` gives an entry's document) to `out`.
pub fn pairs_from_bucket<T>(bucket: &[T], doc: impl Fn(&T) -> u32, out: &mut Vec<u64>) {
    if bucket.len() < 2 {
        return;
    }
    if bucket.len() <= ALL_PAIRS_BUCKET {
        for (i, a) in bucket.iter().enumerate() {
            for b in &bucket[i + 1..] {
                out.push(pack_pair(doc(a), doc(b)));
            }
        }
    } else {
        let first = doc(&bucket[0]);
        for w in bucket.windows(2) {
            let (prev, next) = (doc(&w[0]), doc(&w[1]));
            out.push(pack_pair(first, next));
            if prev != first {
                out.push(pack_pair(prev, next));
            }
        }
    }
}

/// Probability that a pair with Jaccard similarity `s` shares at least one band.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    // Composite Simpson with a fixed even number of panels: smooth integrand.
    const PANELS: usize = 200;
    if hi <= lo {
        return 0.0;
    }
    let h = (hi - lo) / PANELS as f64;
    let mut sum = f(lo) + f(hi);
    for i in 1..PANELS {
        let x = lo + i as f64 * h;
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    sum * h / 3.0
}

/// The `(bands, rows)` with `bands * rows <= num_perm` minimising the
/// weighted false-candidate and missed-pair probability mass around
/// `threshold` (see the module docs). Ties go to fewer bands.
pub fn optimal_bands_rows(threshold: f64, num_perm: usize, fn_weight: f64) -> (usize, usize) {
    let fp_weight = 1.0 - fn_weight;
    let mut best = (1, num_perm);
    let mut best_cost = f64::INFINITY;
    for bands in 1..=num_perm {
        for rows in 1..=num_perm / bands {
            let fp = integrate(|s| candidate_probability(s, bands, rows), 0.0, threshold);
            let fneg = integrate(|s| 1.0 - candidate_probability(s, bands, rows), threshold, 1.0);
            let cost = fp_weight * fp + fn_weight * fneg;
            if cost < best_cost - 1e-12 {
                best_cost = cost;
                best = (bands, rows);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_threshold_means_longer_bands() {
        let (_, r_low) = optimal_bands_rows(0.5, 128, 0.5);
        let (_, r_high) = optimal_bands_rows(0.9, 128, 0.5);
        assert!(r_high > r_low);
    }

    #[test]
    fn band_keys_depend_on_band_values_only() {
        let mut s = Vec::new();
        let a = [1, 2, 3, 4, 5, 6];
        let b = [1, 2, 3, 9, 9, 9];
        assert_eq!(band_key(&a, 0, 3, &mut s), band_key(&b, 0, 3, &mut s));
        assert_ne!(band_key(&a, 1, 3, &mut s), band_key(&b, 1, 3, &mut s));
    }

    #[test]
    fn pairs_of_small_and_large_buckets() {
        let k = |x| BandKey(x);
        let mut out = Vec::new();
        pairs_from_sorted_band(&[(k(1), 0), (k(1), 4), (k(1), 7), (k(2), 3)], &mut out);
        assert_eq!(out, vec![pack_pair(0, 4), pack_pair(0, 7), pack_pair(4, 7)]);

        let big: Vec<_> = (0..40u32).map(|d| (k(5), d)).collect();
        out.clear();
        pairs_from_sorted_band(&big, &mut out);
        // Linear, and every member is joined to the first.
        assert!(out.len() < 2 * 40);
        for d in 1..40 {
            assert!(out.contains(&pack_pair(0, d)));
        }
    }

    #[test]
    fn pack_roundtrip_orders_members() {
        assert_eq!(unpack_pair(pack_pair(9, 2)), (2, 9));
    }
}
