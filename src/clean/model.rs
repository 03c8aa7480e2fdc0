//! The line classifier: how likely each line of a page is junk, learned
//! from labelled pages, shipped as data and retrainable by the user
//! (`doppel train-cleaner`).
//!
//! Two small networks (one hidden layer of tanh units each) are stacked.
//! The first reads a line's own shallow features and those of its
//! neighbours ([`super::features::page_features`]). The second reads the
//! same features plus the first's verdicts on the lines around it
//! ([`super::features::context_features`]): a page's prose comes in one
//! block, so a line the first stage doubts is settled by what surrounds it.
//! Stacking two passes like this is a cheap stand-in for a sequence model
//! (a CRF), with nothing to run at cleaning time but two matrix products a
//! line.
//!
//! Training is plain mini-batch Adam on the cross-entropy, each line
//! weighted by the square root of its length: the measure users care about
//! counts characters, but a weight of one per character would let a few
//! long paragraphs drown every menu. The shuffle and the initial weights
//! come from a fixed seed and training runs on one thread, so the same
//! pages give the same model, byte for byte.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::features::{
    CONTEXT_NAMES, FEATURE_NAMES, LOWER_WORD_BYTES, LineStats, context_features, count_copies, page_features,
};
use super::lang::{self, Stopwords};
use crate::{Error, Result};

/// The model shipped with doppel, trained on real labelled pages (see
/// `benches/cleaner/README.md` for how, and for its measured accuracy).
const BUILTIN: &str = include_str!("model.json");

const MODEL_FORMAT: &str = "doppel-line-model";
const MODEL_VERSION: u32 = 1;

/// One hidden layer of tanh units and a logistic output, over standardised
/// inputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Network {
    inputs: usize,
    hidden: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Hidden weights, `inputs` rows of `hidden`: each input adds its row,
    /// scaled, to every hidden unit at once, in vector registers.
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
    /// The hidden layer in fixed point, built on first use (see
    /// [`Network::score_logit`]); never saved.
    #[serde(skip)]
    fixed: FixedCache,
}

impl Network {
    /// The logit of junk for the row `x` as the cleaner scores it: the
    /// hidden layer summed in 16-bit fixed point ([`FixedLayer`]), close
    /// to [`Network::logit`] (within a few thousandths on the shipped
    /// model) and exact in integers, so the same for every thread count.
    /// `h` is scratch.
    fn score_logit(&self, x: &[f32], h: &mut Vec<f32>) -> f32 {
        let fixed = self.fixed.0.get_or_init(|| FixedLayer::new(self));
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some(v3) = super::wide::v3() {
            return v3.vectorize(|| self.score_logit_with(fixed, x, h, |z, sums| fixed.hidden_sums_v3(v3, z, sums)));
        }
        self.score_logit_with(fixed, x, h, |z, sums| fixed.hidden_sums(z, sums))
    }

    /// [`Network::score_logit`] with `hidden_sums` as the hidden layer's
    /// sums, inlined into its caller so that it is compiled for the
    /// caller's instructions.
    #[inline(always)]
    fn score_logit_with(
        &self,
        fixed: &FixedLayer,
        x: &[f32],
        h: &mut Vec<f32>,
        hidden_sums: impl FnOnce(&[i16], &mut [f32]),
    ) -> f32 {
        // Rounded to the nearest integer by adding 1.5 × 2^23, which
        // leaves it in the float's low mantissa bits (|z| ≤ 4 × 4096 is far
        // below 2^22): plain arithmetic that vectorises, where a cast to an
        // integer saturates lane by lane and `f32::round` calls libm.
        const ROUND: f32 = 12_582_912.0;
        let mut z = [0i16; MAX_INPUTS];
        for ((q, &v), (&m, &s)) in z.iter_mut().zip(x).zip(self.mean.iter().zip(&self.scale)) {
            *q = (((v - m) * s).clamp(-CLIP, CLIP) * FixedLayer::Z_SCALE + ROUND).to_bits() as i16;
        }
        h.clear();
        h.resize(fixed.units, 0.0);
        hidden_sums(&z[..2 * fixed.pairs], h);
        h.truncate(self.hidden);
        for (v, &b) in h.iter_mut().zip(&self.b1) {
            *v = tanh(b + *v * fixed.to_float);
        }
        dot(&self.w2, h) + self.b2
    }

    /// The logit of junk for the row `x`; `h` is scratch of `hidden` units.
    fn logit(&self, x: &[f32], z: &mut Vec<f32>, h: &mut Vec<f32>) -> f32 {
        z.clear();
        // Clipped, so that a line unlike any seen in training moves the
        // score no further than a rare one did.
        z.extend(x.iter().zip(&self.mean).zip(&self.scale).map(|((&v, &m), &s)| ((v - m) * s).clamp(-CLIP, CLIP)));
        h.clear();
        h.extend_from_slice(&self.b1);
        // Units a block at a time, summed over every input in a fixed-size
        // accumulator that stays in vector registers (`h` in memory was
        // loaded and stored again for each input). Each unit still sums
        // its inputs in order, so the result is the same to the bit.
        let mut start = 0;
        while start + WIDE_BLOCK <= self.hidden {
            self.add_block::<WIDE_BLOCK>(z, h, start);
            start += WIDE_BLOCK;
        }
        while start + NARROW_BLOCK <= self.hidden {
            self.add_block::<NARROW_BLOCK>(z, h, start);
            start += NARROW_BLOCK;
        }
        for (row, &zj) in self.w1.chunks_exact(self.hidden).zip(z.iter()) {
            for (hk, &w) in h[start..].iter_mut().zip(&row[start..]) {
                *hk += w * zj;
            }
        }
        h.iter_mut().for_each(|v| *v = tanh(*v));
        dot(&self.w2, h) + self.b2
    }

    /// Adds the inputs `z`, weighted, to the `N` hidden units of `h` from
    /// `start`.
    fn add_block<const N: usize>(&self, z: &[f32], h: &mut [f32], start: usize) {
        let block = start..start + N;
        let mut acc: [f32; N] = h[block.clone()].try_into().expect("a block of units");
        for (row, &zj) in self.w1.chunks_exact(self.hidden).zip(z) {
            let w: &[f32; N] = row[block.clone()].try_into().expect("a block of weights");
            for k in 0..N {
                acc[k] += w[k] * zj;
            }
        }
        h[block].copy_from_slice(&acc);
    }

    /// Each input's part in the logit at `x`: its standardised value times
    /// the logit's gradient there (first-order, so the parts of a linear
    /// model add up to the logit less its bias).
    fn attributions(&self, x: &[f32]) -> Vec<f32> {
        let (mut z, mut h) = (Vec::new(), Vec::new());
        self.logit(x, &mut z, &mut h);
        let g: Vec<f32> = self.w2.iter().zip(&h).map(|(&w, &hk)| w * (1.0 - hk * hk)).collect();
        self.w1.chunks_exact(self.hidden).zip(&z).map(|(row, &zj)| dot(row, &g) * zj).collect()
    }
}

/// Hidden units summed together in [`Network::logit`]: the default
/// model's 48 at once (twelve of the sixteen vector registers), then
/// blocks of 16 for other sizes. One pass over the inputs for all 48 was
/// faster than three passes of 16 (the `clean/classify_page` bench).
const WIDE_BLOCK: usize = 48;
const NARROW_BLOCK: usize = 16;

/// Standardised inputs are clipped to this many standard deviations.
const CLIP: f32 = 4.0;

/// The most inputs [`Network::score_logit`] takes: the features are fixed
/// by the code, and a model is checked against them on load.
const MAX_INPUTS: usize = 128;
const _: () = assert!(FEATURE_NAMES.len() + CONTEXT_NAMES.len() <= MAX_INPUTS);

/// A network's [`FixedLayer`], built once; models compare equal whether
/// or not theirs has been built.
#[derive(Debug, Clone, Default)]
struct FixedCache(OnceLock<FixedLayer>);

impl PartialEq for FixedCache {
    fn eq(&self, _: &FixedCache) -> bool {
        true
    }
}

/// A hidden layer's weights in 16-bit fixed point, for scoring.
///
/// The hidden layer is most of a line's cost in the classifier. In 32-bit
/// floats, a 128-bit register holds four products and each needs a
/// multiplication and an addition; in 16-bit integers `pmaddwd` (SSE2, in
/// every x86-64) multiplies eight pairs and adds them two by two in one
/// instruction, and the sums stay exact in 32 bits. Inputs are clipped to
/// ±[`CLIP`], so a scale of 2^12 keeps them in 16 bits to 1/8192; the
/// weights' scale is the largest power of two under which no rounded
/// weight leaves 16 bits and no unit's sum can leave 32. On the shipped
/// model the logit moves by a few thousandths (a test holds it to 0.01 on
/// the golden pages' rows), and by as little on a layer at the edge of
/// overflow (a test too).
///
/// On a machine with AVX2 the whole of [`Network::score_logit`] runs
/// compiled for it (see the `wide` module): `vpmaddwd` sums eight units at
/// once, and the inputs' scaling and the units' tanh go eight lanes wide.
/// The integers are the same and the float steps too, so the logit is the
/// same to the bit as on any other machine (a proptest holds the two).
#[derive(Debug, Clone)]
struct FixedLayer {
    /// Blocks of four units' weights on a pair of inputs: block
    /// `p * units / 4 + b` holds, for units `4b..4b + 4` in turn, the
    /// weights of inputs `2p` and `2p + 1`, scaled (zero past the real
    /// units and inputs).
    w: Vec<[i16; 8]>,
    /// Hidden units, rounded up to a multiple of four.
    units: usize,
    /// Inputs, rounded up to a pair.
    pairs: usize,
    /// From a sum back to the float scale: 1 / (input scale × weight scale).
    to_float: f32,
}

impl FixedLayer {
    const Z_SCALE: f32 = 4096.0;

    fn new(net: &Network) -> FixedLayer {
        let (inputs, hidden) = (net.inputs, net.hidden);
        let units = hidden.div_ceil(4) * 4;
        let pairs = inputs.div_ceil(2);
        // The largest power of two under which every rounded weight fits
        // in 16 bits and every unit's sum, its inputs at their largest
        // (±CLIP × Z_SCALE), in 32: tested on the rounded weights
        // themselves, in integers, and found by halving, which is exact,
        // so the scale is the same on every machine.
        let max_input = i64::from((CLIP * Self::Z_SCALE) as i16);
        let fits = |scale: f32| {
            (0..hidden).all(|k| {
                let mut sum = 0i64;
                for j in 0..inputs {
                    let q = (net.w1[j * hidden + k] * scale).round().abs();
                    if q > f32::from(i16::MAX) {
                        return false;
                    }
                    sum += q as i64;
                }
                sum * max_input <= i64::from(i32::MAX)
            })
        };
        let mut w_scale = (1u32 << 30) as f32;
        while !fits(w_scale) {
            w_scale *= 0.5;
        }
        let mut w = vec![[0i16; 8]; pairs * units / 4];
        for j in 0..inputs {
            for k in 0..hidden {
                let block = &mut w[(j / 2) * units / 4 + k / 4];
                block[2 * (k % 4) + j % 2] = (net.w1[j * hidden + k] * w_scale).round() as i16;
            }
        }
        FixedLayer { w, units, pairs, to_float: 1.0 / (Self::Z_SCALE * w_scale) }
    }

    /// Each unit's sum of weighted inputs into `sums` (`units` long, as
    /// floats: exact below 2^24, and the rest off by one part in 2^24);
    /// `z` holds the inputs, scaled, two to a pair of weights.
    fn hidden_sums(&self, z: &[i16], sums: &mut [f32]) {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            let mut start = 0;
            while start + 48 <= self.units {
                self.sum_block::<12>(z, start, &mut sums[start..start + 48]);
                start += 48;
            }
            while start < self.units {
                self.sum_block::<1>(z, start, &mut sums[start..start + 4]);
                start += 4;
            }
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        self.hidden_sums_scalar(z, sums);
    }

    /// [`FixedLayer::hidden_sums`] one product at a time: the reference
    /// the vector version is tested against, and the code on other
    /// machines.
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
    fn hidden_sums_scalar(&self, z: &[i16], sums: &mut [f32]) {
        let blocks = self.units / 4;
        for (k, out) in sums.iter_mut().enumerate() {
            let mut sum = 0i32;
            for (p, pair) in z.chunks_exact(2).enumerate() {
                let w = &self.w[p * blocks + k / 4][2 * (k % 4)..][..2];
                let products =
                    (i32::from(w[0]) * i32::from(pair[0])).wrapping_add(i32::from(w[1]) * i32::from(pair[1]));
                sum = sum.wrapping_add(products);
            }
            *out = sum as f32;
        }
    }

    /// [`FixedLayer::hidden_sums`] in 256-bit registers, eight units each.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn hidden_sums_v3(&self, v3: pulp::x86::V3, z: &[i16], sums: &mut [f32]) {
        let mut start = 0;
        while start + 48 <= self.units {
            self.sum_block_v3::<6>(v3, z, start, &mut sums[start..start + 48]);
            start += 48;
        }
        while start + 8 <= self.units {
            self.sum_block_v3::<1>(v3, z, start, &mut sums[start..start + 8]);
            start += 8;
        }
        if start < self.units {
            self.sum_block::<1>(z, start, &mut sums[start..start + 4]);
        }
    }

    /// [`FixedLayer::sum_block`] with `vpmaddwd`: `N` registers of eight
    /// units, each the two blocks of four of those units side by side.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn sum_block_v3<const N: usize>(&self, v3: pulp::x86::V3, z: &[i16], start: usize, sums: &mut [f32]) {
        use core::arch::x86_64::__m256i;
        let blocks = self.units / 4;
        let mut acc = [v3.avx._mm256_setzero_si256(); N];
        for (p, pair) in z.chunks_exact(2).enumerate() {
            let word = i32::from(pair[0] as u16) | (i32::from(pair[1]) << 16);
            let z = v3.avx._mm256_set1_epi32(word);
            let row: &[[i16; 16]] = bytemuck::cast_slice(&self.w[p * blocks + start / 4..][..2 * N]);
            for (a, &w) in acc.iter_mut().zip(row) {
                let w: __m256i = pulp::cast(w);
                *a = v3.avx2._mm256_add_epi32(*a, v3.avx2._mm256_madd_epi16(w, z));
            }
        }
        for (out, a) in sums.chunks_exact_mut(8).zip(acc) {
            let a: [i32; 8] = pulp::cast(a);
            for (o, s) in out.iter_mut().zip(a) {
                *o = s as f32;
            }
        }
    }

    /// The sums of units `start..start + 4 * N` into `sums` by `pmaddwd`:
    /// `N` registers of four units summed over every input at once
    /// (twelve for the default model's 48 units).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    fn sum_block<const N: usize>(&self, z: &[i16], start: usize, sums: &mut [f32]) {
        use safe_arch::{add_i32_m128i, m128i, mul_i16_horizontal_add_m128i, set_splat_i32_m128i, zeroed_m128i};
        let blocks = self.units / 4;
        let mut acc = [zeroed_m128i(); N];
        for (p, pair) in z.chunks_exact(2).enumerate() {
            // The pair as one 32-bit word, the first input low, as
            // `pmaddwd` pairs it with each unit's two weights.
            let word = i32::from(pair[0] as u16) | (i32::from(pair[1]) << 16);
            let z = set_splat_i32_m128i(word);
            let row = &self.w[p * blocks + start / 4..][..N];
            for (a, &w) in acc.iter_mut().zip(row) {
                *a = add_i32_m128i(*a, mul_i16_horizontal_add_m128i(m128i::from(w), z));
            }
        }
        for (out, a) in sums.chunks_exact_mut(4).zip(acc) {
            for (o, s) in out.iter_mut().zip(<[i32; 4]>::from(a)) {
                *o = s as f32;
            }
        }
    }
}

/// A dot product in eight lanes, which the compiler keeps in vector
/// registers: a plain sum is one chain of dependent additions (IEEE order),
/// and this product is most of a line's cost.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// tanh as its (7, 6) Padé approximant, clipped where it reaches one:
/// within 1e-4 of the true function everywhere, in a dozen multiplications
/// and one division that vectorise, where libm's `tanhf` was a third of the
/// cleaner's time. Training uses it too, so the weights fit it exactly.
fn tanh(x: f32) -> f32 {
    let x = x.clamp(-5.0, 5.0);
    let x2 = x * x;
    let p = x * (135_135.0 + x2 * (17_325.0 + x2 * (378.0 + x2)));
    let q = 135_135.0 + x2 * (62_370.0 + x2 * (3_150.0 + x2 * 28.0));
    (p / q).clamp(-1.0, 1.0)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The line classifier: two stacked [`Network`]s and the junk probability
/// above which the cleaner cuts a line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineModel {
    format: String,
    version: u32,
    /// Names of the first stage's inputs, checked on load.
    features: Vec<String>,
    /// Names of the second stage's extra inputs, checked on load.
    context: Vec<String>,
    first: Network,
    second: Network,
    /// The default cut: a line whose junk probability is at least this.
    pub threshold: f32,
    /// How the model was made: data, sizes, scores on its training pages.
    #[serde(default)]
    pub trained_on: serde_json::Value,
}

/// What a page's lines look like to the model: their rows of features.
#[derive(Debug, Default, Clone)]
pub struct PageRows {
    rows: Vec<f32>,
    /// Each line's characters (not white space; counted on a sample of a
    /// long line and scaled up), for the second stage.
    chars: Vec<u32>,
    lines: usize,
    /// Whether each line is prose ([`LineStats::is_prose`]).
    prose: Vec<bool>,
    /// Whether each line is a paragraph (see [`PageRows::is_paragraph`]).
    paragraph: Vec<bool>,
}

impl PageRows {
    /// Whether line `i` is prose ([`LineStats::is_prose`]).
    pub fn is_prose(&self, i: usize) -> bool {
        self.prose.get(i).copied().unwrap_or(false)
    }

    /// Whether line `i` is a paragraph of a story: prose
    /// ([`LineStats::is_prose`]) that ends a sentence or runs to twenty
    /// words, as a headline does not.
    pub fn is_paragraph(&self, i: usize) -> bool {
        self.paragraph.get(i).copied().unwrap_or(false)
    }
}

impl LineModel {
    /// The model shipped with doppel.
    pub fn builtin() -> &'static LineModel {
        static MODEL: OnceLock<LineModel> = OnceLock::new();
        // The shipped file is tested to parse (`the_builtin_model_loads`).
        MODEL.get_or_init(|| LineModel::from_json(BUILTIN).expect("the built-in line model parses"))
    }

    /// Reads a model from the JSON text [`LineModel::save`] writes.
    pub fn from_json(text: &str) -> std::result::Result<LineModel, String> {
        let model: LineModel = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if model.format != MODEL_FORMAT || model.version != MODEL_VERSION {
            return Err(format!("not a {MODEL_FORMAT} version {MODEL_VERSION} file"));
        }
        if model.features != FEATURE_NAMES || model.context != CONTEXT_NAMES {
            return Err("its features are not this doppel's: retrain it with `doppel train-cleaner`".into());
        }
        let fits = |n: &Network, inputs: usize| {
            n.inputs == inputs
                && n.mean.len() == inputs
                && n.scale.len() == inputs
                && n.w1.len() == inputs * n.hidden
                && n.b1.len() == n.hidden
                && n.w2.len() == n.hidden
        };
        if !fits(&model.first, FEATURE_NAMES.len()) || !fits(&model.second, FEATURE_NAMES.len() + CONTEXT_NAMES.len()) {
            return Err("its weights do not fit its sizes".into());
        }
        Ok(model)
    }

    /// Loads a model saved by [`LineModel::save`].
    pub fn load(path: &Path) -> Result<LineModel> {
        // A file the user named: one that cannot be read is their input's fault (exit 2).
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.to_path_buf(), source })?;
        LineModel::from_json(&text).map_err(|comment| Error::DataCorruption {
            path: path.to_path_buf(),
            comment: format!("not a line model: {comment}"),
        })
    }

    /// Saves the model as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let json = serde_json::to_vec(self).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        let mut out = crate::output::AtomicFile::create(path)?;
        out.write_all(&json).map_err(|e| Error::io(path, e))?;
        out.commit()
    }

    /// The rows of features of `lines`, counted against `stops`.
    pub fn rows(lines: &[&str], stops: &Stopwords) -> PageRows {
        let mut lower = String::with_capacity(LOWER_WORD_BYTES);
        let stats: Vec<LineStats> = lines.iter().map(|l| LineStats::of(l, stops, &mut lower)).collect();
        LineModel::rows_of(lines, stats, stops)
    }

    /// [`LineModel::rows`], the lines' [`LineStats::of`] given.
    pub(crate) fn rows_of(lines: &[&str], mut stats: Vec<LineStats>, stops: &Stopwords) -> PageRows {
        count_copies(lines, &mut stats);
        let mut rows = Vec::with_capacity(lines.len() * FEATURE_NAMES.len());
        let has_stopwords = !stops.code.is_empty();
        page_features(&stats, has_stopwords, &mut rows);
        let prose: Vec<bool> = stats.iter().map(|s| s.is_prose(has_stopwords)).collect();
        let paragraph =
            stats.iter().zip(&prose).map(|(s, &prose)| prose && (s.sentence_end || s.words() >= 20.0)).collect();
        let chars = stats.iter().map(|s| s.chars).collect();
        PageRows { rows, chars, lines: lines.len(), prose, paragraph }
    }

    /// Each line's junk probability; `lines` are a page's non-blank lines
    /// in order, `stops` its language's stopwords ([`lang::detect`]).
    pub fn score(&self, lines: &[&str], stops: &Stopwords) -> Vec<f32> {
        let rows = LineModel::rows(lines, stops);
        self.score_rows(&rows).second
    }

    /// Both stages' probabilities for a page, and the second's inputs.
    pub fn score_rows(&self, page: &PageRows) -> Scored {
        self.score_rows_where(page, |_| true)
    }

    /// [`LineModel::score_rows`], with the second stage run only on the
    /// lines `wanted` says (by index); the others score 0. The cleaner asks
    /// for the lines the rules kept: a line already cut needs no score,
    /// though its first-stage score still tells its neighbours' context.
    pub(crate) fn score_rows_where(&self, page: &PageRows, wanted: impl Fn(usize) -> bool) -> Scored {
        let mut h = Vec::new();
        let f = FEATURE_NAMES.len();
        let first: Vec<f32> = page.rows.chunks_exact(f).map(|x| sigmoid(self.first.score_logit(x, &mut h))).collect();
        let mut context = Vec::with_capacity(page.lines * CONTEXT_NAMES.len());
        context_features(&first, &page.chars, &mut context);
        let mut x = Vec::with_capacity(f + CONTEXT_NAMES.len());
        let second = page
            .rows
            .chunks_exact(f)
            .zip(context.chunks_exact(CONTEXT_NAMES.len()))
            .enumerate()
            .map(|(i, (row, ctx))| {
                if !wanted(i) {
                    return 0.0;
                }
                x.clear();
                x.extend_from_slice(row);
                x.extend_from_slice(ctx);
                sigmoid(self.second.score_logit(&x, &mut h))
            })
            .collect();
        Scored { context, second }
    }

    /// Why line `i` of a scored page got its score: the probability and
    /// the three features that pushed it most, either way.
    pub fn why(&self, page: &PageRows, scored: &Scored, i: usize) -> ClassifierScore {
        let f = FEATURE_NAMES.len();
        let c = CONTEXT_NAMES.len();
        let mut x = page.rows[i * f..(i + 1) * f].to_vec();
        x.extend_from_slice(&scored.context[i * c..(i + 1) * c]);
        let parts = self.second.attributions(&x);
        // The three largest parts, the earlier feature first on a tie.
        let mut because = [("", 0.0f32); 3];
        for (name, part) in FEATURE_NAMES.iter().chain(CONTEXT_NAMES).copied().zip(parts) {
            if let Some(at) = because.iter().position(|b| b.0.is_empty() || part.abs() > b.1.abs()) {
                because.copy_within(at..2, at + 1);
                because[at] = (name, part);
            }
        }
        ClassifierScore { junk: scored.second[i], because }
    }
}

/// A scored page: the second stage's probabilities and context inputs.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    context: Vec<f32>,
    /// Each line's junk probability.
    pub second: Vec<f32>,
}

/// Why the classifier cut a line: its junk probability and the three
/// features that weighed most, each with its part in the logit (positive:
/// towards junk).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassifierScore {
    /// The line's junk probability.
    pub junk: f32,
    /// Feature names and their parts, largest first.
    pub because: [(&'static str, f32); 3],
}

/// A page with its lines labelled, for training: `true` is junk.
#[derive(Debug, Clone, Default)]
pub struct LabelledPage {
    /// The page's non-blank lines, in order.
    pub lines: Vec<String>,
    /// One label a line: `true` when the line is junk (boilerplate).
    pub junk: Vec<bool>,
}

/// How to train a [`LineModel`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Hidden units of each network.
    pub hidden: usize,
    /// Passes over the training lines, for each stage.
    pub epochs: usize,
    /// Seed of the initial weights and the shuffles.
    pub seed: u64,
    /// The junk probability the model cuts at by default; `None` picks the
    /// one that maximises character F1 of content on the training pages.
    pub threshold: Option<f32>,
    /// Also train on parts of each page: the article with a few lines of
    /// its surroundings, and a few of its content lines alone. Labelled
    /// pages are whole web pages; doppel mostly cleans what a scraper kept
    /// of one, down to a one-paragraph story, which must not look strange.
    pub augment: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { hidden: 48, epochs: 16, seed: 1, threshold: None, augment: true }
    }
}

/// A column of training rows and what each weighs.
struct Table {
    rows: Vec<f32>,
    width: usize,
    labels: Vec<f32>,
    weights: Vec<f32>,
}

impl LineModel {
    /// Trains a model on labelled pages (sequential and deterministic).
    pub fn train(pages: &[LabelledPage], opts: &TrainOptions) -> Result<LineModel> {
        if pages.iter().all(|p| p.lines.is_empty()) {
            return Err(Error::config("no labelled lines to train on"));
        }
        if pages.iter().any(|p| p.lines.len() != p.junk.len()) {
            return Err(Error::config("a page has not one label a line"));
        }
        let given_pages = pages.len();
        let mut rng = SplitMix(opts.seed);
        let augmented;
        let pages = match opts.augment {
            true => {
                augmented = augment(pages, &mut rng);
                &augmented[..]
            }
            false => pages,
        };
        let f = FEATURE_NAMES.len();
        let mut first = Table { rows: Vec::new(), width: f, labels: Vec::new(), weights: Vec::new() };
        let mut page_rows = Vec::with_capacity(pages.len());
        let mut chars = Vec::new();
        for page in pages {
            let lines: Vec<&str> = page.lines.iter().map(String::as_str).collect();
            let stops = lang::detect(&page.lines.join("\n"));
            let rows = LineModel::rows(&lines, stops);
            first.rows.extend_from_slice(&rows.rows);
            for (line, &junk) in page.lines.iter().zip(&page.junk) {
                let n = line.chars().filter(|c| !c.is_whitespace()).count() as f32;
                chars.push(n);
                first.labels.push(f32::from(u8::from(junk)));
                first.weights.push(n.max(1.0).sqrt());
            }
            page_rows.push(rows);
        }
        let first_net = fit(&first, opts, &mut rng);
        let mut model = LineModel {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            context: CONTEXT_NAMES.iter().map(|s| s.to_string()).collect(),
            first: first_net.clone(),
            second: first_net,
            threshold: 0.5,
            trained_on: serde_json::Value::Null,
        };
        let mut second =
            Table { rows: Vec::new(), width: f + CONTEXT_NAMES.len(), labels: first.labels, weights: first.weights };
        let (mut z, mut h) = (Vec::new(), Vec::new());
        for page in &page_rows {
            // In floats, as the whole of training is: the fixed point is
            // the cleaner's, within a hundredth of these.
            let scores: Vec<f32> =
                page.rows.chunks_exact(f).map(|x| sigmoid(model.first.logit(x, &mut z, &mut h))).collect();
            let mut context = Vec::new();
            context_features(&scores, &page.chars, &mut context);
            for (row, ctx) in page.rows.chunks_exact(f).zip(context.chunks_exact(CONTEXT_NAMES.len())) {
                second.rows.extend_from_slice(row);
                second.rows.extend_from_slice(ctx);
            }
        }
        model.second = fit(&second, opts, &mut rng);
        // Scores on the training pages as given (the augmented parts come
        // after them), for the threshold and the record.
        let given = &page_rows[..given_pages];
        let scores: Vec<f32> = given.iter().flat_map(|p| model.score_rows(p).second).collect();
        let labels = &second.labels[..scores.len()];
        let best = |t: f32| char_f1(&scores, labels, &chars[..scores.len()], t);
        let threshold = opts.threshold.unwrap_or_else(|| {
            (1..100)
                .map(|k| k as f32 / 100.0)
                .max_by(|&a, &b| best(a).total_cmp(&best(b)).then(b.total_cmp(&a)))
                .unwrap_or(0.5)
        });
        model.threshold = threshold;
        model.trained_on = serde_json::json!({
            "pages": given_pages,
            "lines": labels.len(),
            "augmented_pages": pages.len() - given_pages,
            "hidden": opts.hidden,
            "epochs": opts.epochs,
            "seed": opts.seed,
            "train_char_f1": best(threshold),
        });
        Ok(model)
    }
}

/// The pages, then for each page with junk around its content: the
/// content with 0 to 3 lines either side, and 1 to 4 consecutive content
/// lines alone.
fn augment(pages: &[LabelledPage], rng: &mut SplitMix) -> Vec<LabelledPage> {
    let mut out = pages.to_vec();
    for page in pages {
        let (Some(first), Some(last)) = (page.junk.iter().position(|&j| !j), page.junk.iter().rposition(|&j| !j))
        else {
            continue;
        };
        let part =
            |a: usize, b: usize| LabelledPage { lines: page.lines[a..b].to_vec(), junk: page.junk[a..b].to_vec() };
        let before = (rng.next() % 4) as usize;
        let after = (rng.next() % 4) as usize;
        let (a, b) = (first.saturating_sub(before), (last + 1 + after).min(page.lines.len()));
        if (a, b) != (0, page.lines.len()) {
            out.push(part(a, b));
        }
        let content: Vec<usize> = (0..page.lines.len()).filter(|&i| !page.junk[i]).collect();
        let start = content[(rng.next() % content.len() as u64) as usize];
        let len = 1 + (rng.next() % 4) as usize;
        let end = (start..page.lines.len()).take(len).take_while(|&i| !page.junk[i]).last().unwrap_or(start) + 1;
        out.push(part(start, end));
    }
    out
}

/// Character F1 of content when lines scoring `threshold` or more are cut.
fn char_f1(scores: &[f32], junk: &[f32], chars: &[f32], threshold: f32) -> f32 {
    let (mut tp, mut fp, mut fneg) = (0.0f64, 0.0f64, 0.0f64);
    for ((&s, &j), &c) in scores.iter().zip(junk).zip(chars) {
        let kept = s < threshold;
        let content = j < 0.5;
        match (kept, content) {
            (true, true) => tp += f64::from(c),
            (true, false) => fp += f64::from(c),
            (false, true) => fneg += f64::from(c),
            (false, false) => {}
        }
    }
    if tp == 0.0 { 0.0 } else { (2.0 * tp / (2.0 * tp + fp + fneg)) as f32 }
}

/// SplitMix64: a small, fixed generator, so that training is the same on
/// every platform and in every version of every crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn symmetric(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Fits one network to a table by mini-batch Adam.
fn fit(table: &Table, opts: &TrainOptions, rng: &mut SplitMix) -> Network {
    const BATCH: usize = 256;
    const L2: f32 = 1e-5;
    let (d, hn) = (table.width, opts.hidden.max(1));
    let n = table.labels.len();
    // Standardise each input by its weighted mean and spread.
    let total: f64 = table.weights.iter().map(|&w| f64::from(w)).sum();
    let mut mean = vec![0.0f64; d];
    let mut var = vec![0.0f64; d];
    for (row, &w) in table.rows.chunks_exact(d).zip(&table.weights) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(w) * f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= total);
    for (row, &w) in table.rows.chunks_exact(d).zip(&table.weights) {
        for ((s, &v), &m) in var.iter_mut().zip(row).zip(&mean) {
            *s += f64::from(w) * (f64::from(v) - m).powi(2);
        }
    }
    let scale: Vec<f32> =
        var.iter().map(|&v| if v > 1e-12 { (1.0 / (v / total).sqrt()) as f32 } else { 0.0 }).collect();
    let mean: Vec<f32> = mean.into_iter().map(|m| m as f32).collect();
    let bound = (6.0 / (d + hn) as f32).sqrt();
    let mut net = Network {
        fixed: FixedCache::default(),
        inputs: d,
        hidden: hn,
        mean,
        scale,
        w1: (0..d * hn).map(|_| rng.symmetric() * bound).collect(),
        b1: vec![0.0; hn],
        w2: (0..hn).map(|_| rng.symmetric() * bound).collect(),
        b2: 0.0,
    };
    let params = d * hn + hn + hn + 1;
    let (mut m1, mut m2) = (vec![0.0f32; params], vec![0.0f32; params]);
    let mut grad = vec![0.0f32; params];
    let mut order: Vec<usize> = (0..n).collect();
    let mean_weight = (total / n.max(1) as f64) as f32;
    let (mut z, mut h) = (Vec::new(), Vec::new());
    let mut g_h = vec![0.0f32; hn];
    let mut step = 0i32;
    let steps = (opts.epochs * n.div_ceil(BATCH)).max(1) as f32;
    for _ in 0..opts.epochs {
        for i in (1..n).rev() {
            order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        for batch in order.chunks(BATCH) {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for &i in batch {
                let x = &table.rows[i * d..(i + 1) * d];
                let p = sigmoid(net.logit(x, &mut z, &mut h));
                let g_out = (p - table.labels[i]) * table.weights[i] / mean_weight / batch.len() as f32;
                let (gw1, rest) = grad.split_at_mut(d * hn);
                let (gb1, rest) = rest.split_at_mut(hn);
                let (gw2, gb2) = rest.split_at_mut(hn);
                gb2[0] += g_out;
                for k in 0..hn {
                    gw2[k] += g_out * h[k];
                    g_h[k] = g_out * net.w2[k] * (1.0 - h[k] * h[k]);
                    gb1[k] += g_h[k];
                }
                for (row, &zj) in gw1.chunks_exact_mut(hn).zip(&z) {
                    for (g, &gk) in row.iter_mut().zip(&g_h) {
                        *g += gk * zj;
                    }
                }
            }
            step += 1;
            // Learning rate decays linearly to a tenth over the run.
            let lr = 3e-3 * (1.0 - 0.9 * step as f32 / steps);
            let (b1c, b2c) = (1.0 - 0.9f32.powi(step), 1.0 - 0.999f32.powi(step));
            let mut at = 0;
            let mut update = |w: &mut f32, decay: bool| {
                let g = grad[at] + if decay { L2 * *w } else { 0.0 };
                m1[at] = 0.9 * m1[at] + 0.1 * g;
                m2[at] = 0.999 * m2[at] + 0.001 * g * g;
                *w -= lr * (m1[at] / b1c) / ((m2[at] / b2c).sqrt() + 1e-8);
                at += 1;
            };
            net.w1.iter_mut().for_each(|w| update(w, true));
            net.b1.iter_mut().for_each(|w| update(w, false));
            net.w2.iter_mut().for_each(|w| update(w, true));
            update(&mut net.b2, false);
        }
    }
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_within_its_bound_of_the_true_function() {
        for k in -1000..=1000 {
            let x = k as f32 / 100.0;
            assert!((tanh(x) - x.tanh()).abs() < 1e-4, "{x}: {} vs {}", tanh(x), x.tanh());
        }
    }

    #[test]
    fn the_builtin_model_loads() {
        let model = LineModel::from_json(BUILTIN).unwrap();
        assert!(model.threshold > 0.0 && model.threshold < 1.0);
    }

    #[test]
    fn the_fixed_point_logit_is_within_a_hundredth_of_the_float_one() {
        // The shipped model on pages of the golden cases: both stages, every line.
        let model = LineModel::builtin();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/cleaner");
        let (mut z, mut h) = (Vec::new(), Vec::new());
        let mut rows_seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".input.txt") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let page = LineModel::rows(&lines, lang::stopwords("en"));
            let scored = model.score_rows(&page);
            let f = FEATURE_NAMES.len();
            let c = CONTEXT_NAMES.len();
            for (i, row) in page.rows.chunks_exact(f).enumerate() {
                let float = model.first.logit(row, &mut z, &mut h);
                let fixed = model.first.score_logit(row, &mut h);
                assert!((float - fixed).abs() < 0.01, "{}: first stage {float} against {fixed}", path.display());
                let x: Vec<f32> = row.iter().chain(&scored.context[i * c..(i + 1) * c]).copied().collect();
                let float = model.second.logit(&x, &mut z, &mut h);
                let fixed = model.second.score_logit(&x, &mut h);
                assert!((float - fixed).abs() < 0.01, "{}: second stage {float} against {fixed}", path.display());
                rows_seen += 1;
            }
        }
        assert!(rows_seen > 100);
    }

    #[test]
    fn fixed_point_sums_at_the_edge_of_overflow_keep_their_sign() {
        // Every weight just under one and every input past its clip: with
        // the scale chosen before the weights were rounded, the sum came to
        // exactly 2^31 and wrapped to a negative unit.
        let inputs = 8;
        let net = Network {
            inputs,
            hidden: 1,
            mean: vec![0.0; inputs],
            scale: vec![1.0; inputs],
            w1: vec![32_767.0 / 32_768.0; inputs],
            b1: vec![0.0],
            w2: vec![1.0],
            b2: 0.0,
            fixed: FixedCache::default(),
        };
        let x = vec![10.0; inputs];
        let (mut z, mut h) = (Vec::new(), Vec::new());
        let float = net.logit(&x, &mut z, &mut h);
        let fixed = net.score_logit(&x, &mut h);
        assert!((float - fixed).abs() < 0.01, "{float} against {fixed}");
    }

    proptest::proptest! {
        // The vector sums (in 128-bit registers, and in 256-bit ones when
        // the machine has AVX2) are the scalar ones, to the bit, for any
        // weights and inputs and a hidden layer of any size; and so the
        // logit is the same whichever the machine runs.
        #[test]
        fn fixed_point_sums_by_vector_are_the_scalar_sums(
            hidden in 1usize..110,
            inputs in 1usize..40,
            seed in 0u64..1000,
        ) {
            let mut rng = SplitMix(seed);
            let net = Network {
                inputs,
                hidden,
                mean: (0..inputs).map(|_| rng.symmetric()).collect(),
                scale: (0..inputs).map(|_| rng.symmetric() * 2.0).collect(),
                w1: (0..inputs * hidden).map(|_| rng.symmetric() * 3.0).collect(),
                b1: (0..hidden).map(|_| rng.symmetric()).collect(),
                w2: (0..hidden).map(|_| rng.symmetric()).collect(),
                b2: 0.0,
                fixed: FixedCache::default(),
            };
            let layer = FixedLayer::new(&net);
            let z: Vec<i16> =
                (0..2 * layer.pairs).map(|_| (rng.symmetric() * CLIP * FixedLayer::Z_SCALE) as i16).collect();
            let (mut fast, mut slow) = (vec![0.0; layer.units], vec![0.0; layer.units]);
            layer.hidden_sums(&z, &mut fast);
            layer.hidden_sums_scalar(&z, &mut slow);
            proptest::prop_assert_eq!(&fast, &slow);
            let x: Vec<f32> = (0..inputs).map(|_| rng.symmetric() * 6.0).collect();
            let mut h = Vec::new();
            let narrow = net.score_logit_with(&layer, &x, &mut h, |z, sums| layer.hidden_sums_scalar(z, sums));
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            if let Some(v3) = super::super::wide::v3() {
                let mut wide = vec![0.0; layer.units];
                layer.hidden_sums_v3(v3, &z, &mut wide);
                proptest::prop_assert_eq!(&wide, &slow);
            }
            proptest::prop_assert_eq!(net.score_logit(&x, &mut h).to_bits(), narrow.to_bits());
        }
    }

    fn page(i: usize) -> LabelledPage {
        let mut lines = vec!["Home".to_string(), "World | Business | Sport".into(), format!("Port strike day {i}")];
        let mut junk = vec![true, true, false];
        for k in 0..4 {
            lines.push(format!(
                "The union said on day {i} that the strike in part {k} of the port would go on until the talks with the owners resumed."
            ));
            junk.push(false);
        }
        lines.extend(["Share this article".to_string(), "Related: Other news".into(), "© 2024 The Paper".into()]);
        junk.extend([true, true, true]);
        LabelledPage { lines, junk }
    }

    #[test]
    fn a_model_learns_menus_from_prose_and_training_is_deterministic() {
        let pages: Vec<LabelledPage> = (0..40).map(page).collect();
        let opts = TrainOptions { hidden: 6, epochs: 20, ..Default::default() };
        let model = LineModel::train(&pages, &opts).unwrap();
        let again = LineModel::train(&pages, &opts).unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), serde_json::to_string(&again).unwrap());
        let test = page(99);
        let lines: Vec<&str> = test.lines.iter().map(String::as_str).collect();
        let scores = model.score(&lines, lang::stopwords("en"));
        for ((line, &junk), &score) in lines.iter().zip(&test.junk).zip(&scores) {
            assert_eq!(score >= model.threshold, junk, "{line}: {score}");
        }
        let rows = LineModel::rows(&lines, lang::stopwords("en"));
        let why = model.why(&rows, &model.score_rows(&rows), 0);
        assert!(why.because.iter().all(|(name, _)| !name.is_empty()));
        assert!(why.because[0].1.abs() >= why.because[2].1.abs());
        let round = LineModel::from_json(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(round, model);
    }
}
