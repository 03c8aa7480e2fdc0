//! Integration tests: the real `doppel` binary on files in a temp directory.

mod util;

mod dedup;
mod samples;
