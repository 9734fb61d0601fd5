#![no_main]
//! Body: `certdrift::fuzzing::pem` (replayed by `tests/fuzz_regressions.rs`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| certdrift::fuzzing::pem(data));
