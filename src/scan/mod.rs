//! The scanner: finds insecure TLS fallbacks in code and config.

pub mod rules;
