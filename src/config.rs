//! Validated configuration for deduplication, and the choice of LSH bands.
//!
//! [`DedupConfig`] is built with defaults, adjusted, then checked once by
//! [`DedupConfig::validate`]; everything downstream can trust its invariants.
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

use crate::cluster::ClusterMode;
use crate::shingle::Shingling;
use crate::verify::Verify;

/// With `--containment`, LSH must catch a copy that holds at least this share
/// of the longer document's shingles: a copy of the first half of an article.
pub const MIN_CONTAINED_SHARE: f64 = 0.5;

/// Which document of a cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepRule {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest text (in characters); ties go to the first.
    Longest,
    /// The one with the earliest date (`--date-field`); ties go to the
    /// first, and a document without a date is never preferred.
    Earliest,
    /// The one with the latest date; as `Earliest` otherwise.
    Latest,
}

/// Validated options for a deduplication run.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupConfig {
    /// Pairs at or above this Jaccard similarity are near-duplicates (0 < t <= 1).
    pub jaccard_threshold: f64,
    /// How texts are cut into shingles.
    pub shingling: Shingling,
    /// Values per MinHash signature.
    pub num_perm: usize,
    /// LSH bands and rows; `None` chooses them from the threshold.
    pub bands_rows: Option<(usize, usize)>,
    /// Seed of the shingle hash: signatures from different seeds do not compare.
    pub seed: u64,
    /// Which document of a cluster is kept.
    pub keep: KeepRule,
    /// Weight of a missed pair relative to a false candidate when choosing bands.
    pub fn_weight: f64,
    /// How candidate pairs are confirmed.
    pub verify: Verify,
    /// How confirmed pairs become clusters.
    pub cluster: ClusterMode,
    /// Also match pairs whose smaller document has at least this share of
    /// its shingles in the larger one (0 < c <= 1).
    pub containment: Option<f64>,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            jaccard_threshold: 0.8,
            shingling: Shingling::Words(5),
            num_perm: 128,
            bands_rows: None,
            seed: 42,
            keep: KeepRule::First,
            fn_weight: 0.99,
            verify: Verify::Exact,
            cluster: ClusterMode::Star,
            containment: None,
        }
    }
}

/// Largest n-gram size accepted (a word shingle longer than this is no
/// longer a phrase).
pub const MAX_NGRAM: usize = 64;

impl DedupConfig {
    /// Checks every invariant once and fills in the band layout.
    /// Returns the configuration with `bands_rows` set.
    pub fn validate(mut self) -> crate::Result<DedupConfig> {
        let t = self.jaccard_threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(crate::Error::config(format!("threshold must be in (0, 1], got {t}")));
        }
        let n = self.shingling.size();
        if n == 0 || n > MAX_NGRAM {
            return Err(crate::Error::config(format!("n-gram size must be between 1 and {MAX_NGRAM}, got {n}")));
        }
        if self.num_perm == 0 || self.num_perm > 4096 {
            return Err(crate::Error::config(format!("num_perm must be between 1 and 4096, got {}", self.num_perm)));
        }
        if !(self.fn_weight > 0.0 && self.fn_weight < 1.0) {
            return Err(crate::Error::config("fn_weight must be in (0, 1)"));
        }
        if let Some(c) = self.containment
            && !(c > 0.0 && c <= 1.0)
        {
            return Err(crate::Error::config(format!("containment must be in (0, 1], got {c}")));
        }
        match self.bands_rows {
            Some((b, r)) => {
                // bands * rows may be below num_perm: the remaining values
                // still serve the similarity estimate, and the best layout
                // for a threshold rarely divides num_perm exactly.
                if b == 0 || r == 0 || b * r > self.num_perm {
                    return Err(crate::Error::config(format!(
                        "bands x rows must be at least 1 and at most num_perm ({}), got {b} x {r}",
                        self.num_perm
                    )));
                }
            }
            None => {
                self.bands_rows = Some(optimal_bands_rows(self.lsh_threshold(), self.num_perm, self.fn_weight));
            }
        }
        Ok(self)
    }

    /// The Jaccard similarity LSH is tuned for: the threshold, or with
    /// containment the lowest Jaccard a contained copy can have, that of a
    /// copy holding [`MIN_CONTAINED_SHARE`] of the longer document:
    /// `c r / (1 + r - c r)` with `r` that share.
    pub fn lsh_threshold(&self) -> f64 {
        let r = MIN_CONTAINED_SHARE;
        match self.containment {
            Some(c) => self.jaccard_threshold.min(c * r / (1.0 + r - c * r)),
            None => self.jaccard_threshold,
        }
    }

    /// The band layout; valid after [`DedupConfig::validate`].
    pub fn bands(&self) -> usize {
        self.bands_rows.map_or(1, |(b, _)| b)
    }

    /// Rows per band; valid after [`DedupConfig::validate`].
    pub fn rows(&self) -> usize {
        self.bands_rows.map_or(self.num_perm, |(_, r)| r)
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
    fn defaults_validate() {
        let c = DedupConfig::default().validate().unwrap();
        let (b, r) = c.bands_rows.unwrap();
        assert!(b * r <= 128);
        // Pairs at the threshold must very likely become candidates.
        assert!(candidate_probability(0.8, b, r) > 0.9, "{b}x{r}");
        // Unrelated pairs must rarely become candidates.
        assert!(candidate_probability(0.3, b, r) < 0.01, "{b}x{r}");
        assert_eq!((b, r), (18, 7));
    }

    #[test]
    fn containment_lowers_the_lsh_threshold_to_catch_half_copies() {
        let c = DedupConfig { containment: Some(0.8), ..Default::default() }.validate().unwrap();
        let (b, r) = c.bands_rows.unwrap();
        // A first-half copy of an article: Jaccard 0.5, containment 1.
        assert!(candidate_probability(0.5, b, r) > 0.95, "{b}x{r}");
        assert!(DedupConfig { containment: Some(1.5), ..Default::default() }.validate().is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            DedupConfig { jaccard_threshold: 0.0, ..Default::default() },
            DedupConfig { jaccard_threshold: 1.5, ..Default::default() },
            DedupConfig { shingling: Shingling::Words(0), ..Default::default() },
            DedupConfig { num_perm: 0, ..Default::default() },
            DedupConfig { bands_rows: Some((20, 7)), ..Default::default() },
            DedupConfig { bands_rows: Some((0, 7)), ..Default::default() },
        ] {
            assert!(bad.validate().is_err());
        }
    }

    #[test]
    fn higher_threshold_means_longer_bands() {
        let (_, r_low) = optimal_bands_rows(0.5, 128, 0.5);
        let (_, r_high) = optimal_bands_rows(0.9, 128, 0.5);
        assert!(r_high > r_low);
    }
}
