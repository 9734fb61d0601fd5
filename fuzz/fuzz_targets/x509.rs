#![no_main]
//! Body: `certdrift::fuzzing::x509` (replayed by `tests/fuzz_regressions.rs`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| certdrift::fuzzing::x509(data));
