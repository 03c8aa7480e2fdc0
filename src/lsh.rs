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

#[cfg(test)]
mod tests {
    use super::*;

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
