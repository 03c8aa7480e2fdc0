//! Integration tests: the real `doppel` binary on files in a temp directory.

mod util;

mod clean;
mod dedup;
mod eval;
mod faults;
mod fuzz_corpora;
mod layering;
mod samples;
mod syndication;
