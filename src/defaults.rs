//! Every default of a run, written once. Arguments, the policy file and docs refer here.

use std::time::Duration;

/// The deadline of each network stage when neither `--timeout` nor the policy sets one.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Certificate expiry: a warning under this many days.
pub const WARN_DAYS: u32 = 30;
/// Certificate expiry: an error under this many days.
pub const FAIL_DAYS: u32 = 7;
/// The furthest a waiver may end after the day of the run.
pub const MAX_WAIVER_DAYS: u32 = 90;
