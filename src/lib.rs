//! mongo-preflight: finds the true cause of MongoDB connection failures and blocks
//! insecure TLS fallbacks in CI.
//!
//! Data flows one way: policy → probe / scan → diagnoses and findings ([`model`]) →
//! verdict → one renderer per format ([`report`]).
#![forbid(unsafe_code)]

pub mod atlas;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod defaults;
pub mod diagnose;
pub mod error;
pub mod fuzzing;
pub mod git;
pub mod github;
pub mod lock;
pub mod model;
pub mod output;
pub mod plan;
pub mod policy;
pub mod probe;
pub mod redact;
pub mod report;
pub mod scan;
pub mod secret_files;
pub mod shard;
pub mod uri;
pub mod why;
