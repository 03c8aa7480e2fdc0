//! The wider vector instructions of the machine the cleaner runs on, found
//! at run time.
//!
//! The crate is built for every x86-64, whose vector instructions (SSE2)
//! hold four 32-bit numbers. Most machines since 2013 also have AVX2,
//! which holds eight: code run through [`pulp`]'s `V3::vectorize` is
//! compiled for it as well, and called when the machine has it. The
//! results are the same either way (the same operations on the same
//! numbers, integer sums exact), so a run gives the same output on every
//! machine; only its speed differs.

/// The machine's AVX2 (with the rest of x86-64-v3), when it has it: found
/// once a process.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(super) fn v3() -> Option<pulp::x86::V3> {
    static V3: std::sync::OnceLock<Option<pulp::x86::V3>> = std::sync::OnceLock::new();
    *V3.get_or_init(pulp::x86::V3::try_new)
}
