//! GitHub Actions integration: PR comment, job summary, outputs.
