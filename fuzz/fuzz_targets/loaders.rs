//! Fuzz target: `doppel::fuzz::loaders` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| doppel::fuzz::loaders(data));
