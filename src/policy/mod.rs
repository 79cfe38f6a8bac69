//! The `mongo-preflight.yml` policy.
