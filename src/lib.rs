//! certdrift: finds certificate and CA drift in the configuration a platform
//! team keeps in git, before it is deployed.
//!
//! The modules are the pipeline, in order: [`discover`] → [`read`] →
//! [`extract`] → [`inventory`] → [`rules`] → [`suppress`] →
//! [`report`]; [`scan`] runs them end to end, [`probe`] compares live
//! endpoints with the result (the only network access), and `src/main.rs` is a thin
//! command line over it, with its settings from [`config`].
#![forbid(unsafe_code)]

pub mod config;
pub mod diff;
pub mod discover;
pub mod extract;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod inventory;
mod memo;
pub mod policy;
pub mod probe;
pub mod read;
pub mod report;
pub mod rules;
pub mod scan;
pub mod suppress;
pub mod verify;
pub mod x509;
