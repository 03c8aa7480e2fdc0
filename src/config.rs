//! Validated configuration for deduplication, and the choice of LSH bands.
//!
//! [`DedupConfig`] is built with defaults, adjusted, then checked once by
//! [`DedupConfig::validate`]; everything downstream can trust its invariants.

//!
//! The band layout is chosen by [`optimal_bands_rows`] (see the `lsh`
//! module for how).

use crate::cluster::ClusterMode;
pub use crate::cluster::KeepRule;
pub use crate::lsh::{candidate_probability, optimal_bands_rows};
use crate::shingle::Shingling;
use crate::verify::{Thresholds, Verify};

/// With `--containment`, LSH must catch a copy that holds at least this share
/// of the longer document's shingles: a copy of the first half of an article.
pub const MIN_CONTAINED_SHARE: f64 = 0.5;

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

    /// The similarities a pair must reach (verification's view of the config).
    pub fn thresholds(&self) -> Thresholds {
        Thresholds { jaccard: self.jaccard_threshold, containment: self.containment }
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
}
