//! The one place that maps what a probe observed to diagnosis codes.

pub mod codes;
