//! Fuzz target: `doppel::fuzz::decoders` (see `src/fuzz.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| doppel::fuzz::decoders(data));
