//! Stage 2, read: bytes to structure, with positions.
//!
//! In: a file's bytes. Out: a positioned YAML tree ([`yaml`]), PEM blocks
//! with byte offsets ([`pem`]), and text helpers that turn offsets into
//! line/column. Nothing here knows what a certificate means; `extract` does.

pub mod git;
pub mod pem;
pub mod source;
pub mod text;
pub mod yaml;
