//! Temporary access for a CI runner: its IP/32 added with `deleteAfterDate`, waited for until
//! ACTIVE, and deleted again on every way out (a signal and a panic included). An entry this run
//! did not add is never deleted, and nothing is added when an ACTIVE entry already covers the IP.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::access::EntryStatus;
use super::client::{ApiFailure, AtlasClient, Deleted};

/// Atlas keeps a temporary entry at most a week.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the entry's status is read while waiting for ACTIVE.
const POLL_INTERVAL: Duration = Duration::from_millis(1000);
/// The API limits an entry's comment to 80 characters.
const MAX_COMMENT: usize = 80;

/// Parses `90s`, `30m`, `2h`, `1d` (or plain seconds) into a duration of at most a week.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number.parse().map_err(|_| format!("`{s}` is not a duration such as 30m, 2h or 1d"))?;
    let seconds = match unit.trim() {
        "" | "s" => n,
        "m" | "min" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("`{s}` is not a duration such as 30m, 2h or 1d")),
    };
    let duration = Duration::from_secs(seconds);
    if seconds == 0 {
        return Err("the temporary access must last longer than 0 seconds".to_string());
    }
    if duration > MAX_DURATION {
        return Err(format!("`{s}` is longer than Atlas keeps a temporary entry (7 days)"));
    }
    Ok(duration)
}

/// The entry's comment: the repository and run, and a token that tells this run's entry from
/// another job's entry for the same address.
pub fn comment(env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut token = [0u8; 3];
    let _ = getrandom::fill(&mut token);
    let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
    let repo = env("GITHUB_REPOSITORY").filter(|r| !r.is_empty());
    let run = env("GITHUB_RUN_ID").filter(|r| !r.is_empty());
    let attempt = env("GITHUB_RUN_ATTEMPT").filter(|r| !r.is_empty()).unwrap_or_else(|| "1".to_string());
    let text = match (repo, run) {
        (Some(repo), Some(run)) => format!("mongo-preflight {token} {repo} run {run}/{attempt}"),
        (Some(repo), None) => format!("mongo-preflight {token} {repo}"),
        _ => format!("mongo-preflight {token} temporary CI access"),
    };
    let printable = crate::redact::printable(&text);
    printable.chars().take(MAX_COMMENT).collect()
}

/// What asking for temporary access did.
#[derive(Debug)]
pub enum Outcome {
    /// An ACTIVE entry already lets the runner in; nothing was added.
    AlreadyCovered { entry: String },
    /// The access exists for this run (added by it, or another job's pending entry for the
    /// same address).
    Granted(Grant),
}

/// Access held for this run. [`Grant::release`] deletes the entry if this run added it; a
/// signal or panic before that deletes it through the registered cleanup.
#[derive(Debug)]
pub struct Grant {
    pub ip: IpAddr,
    pub comment: String,
    pub delete_after: String,
    /// This run added the entry (and so deletes it).
    pub owned: bool,
    /// The status the entry reached while waiting, and how long the wait took.
    pub status: Result<EntryStatus, ApiFailure>,
    pub waited: Duration,
    key: String,
    client: Arc<AtlasClient>,
    guard: Option<crate::secret_files::CleanupGuard>,
}

impl Grant {
    /// Deletes the entry when this run added it: `Ok(None)` when it was not this run's to delete.
    pub async fn release(mut self) -> Result<Option<Deleted>, ApiFailure> {
        if !self.owned {
            return Ok(None);
        }
        let result = self.client.delete_entry(&self.key).await;
        if result.is_ok() {
            // Deleted (or gone already): nothing left for a signal to undo.
            self.guard.take();
        }
        result.map(Some)
    }
}

/// Adds `ip`/32 for `duration` unless an ACTIVE entry already covers it, and waits up to `wait`
/// for the entry to become ACTIVE.
pub async fn grant(
    client: Arc<AtlasClient>,
    ip: IpAddr,
    duration: Duration,
    comment: String,
    wait: Duration,
) -> Result<Outcome, ApiFailure> {
    let entries = client.access_list().await?;
    let mut pending_same_address = false;
    for entry in entries.iter().filter(|e| e.covers(ip)) {
        if client.entry_status(&entry.key()).await? == EntryStatus::Active {
            return Ok(Outcome::AlreadyCovered { entry: entry.describe() });
        }
        if entry.network().is_some_and(|n| n.prefix_len() == n.max_prefix_len()) {
            pending_same_address = true;
        }
    }
    // Atlas refuses a date more than a week after the request: a full week is cut by a minute.
    let duration = duration.min(MAX_DURATION - Duration::from_secs(60));
    let delete_after = (time::OffsetDateTime::now_utc() + duration)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let key = ip.to_string();
    // Another job's entry for this address, not yet ACTIVE: wait for it, never delete it.
    let (owned, guard) = if pending_same_address {
        (false, None)
    } else {
        // Registered before the request, so that a signal during it still removes the entry.
        let guard = register(client.clone(), key.clone(), comment.clone());
        client.add_temporary(ip, &delete_after, &comment).await?;
        // Adding an address that is already listed succeeds and changes nothing: the entry is
        // this run's only if it carries this run's comment.
        match client.entry(&key).await {
            Ok(Some(entry)) if entry.comment.as_deref() != Some(comment.as_str()) => (false, None),
            // This run's comment; or not readable yet right after the POST (a 404 the API is
            // known for), or unknown: kept as ours, so that it is deleted rather than left behind.
            _ => (true, Some(guard)),
        }
    };
    let started = Instant::now();
    let status = wait_active(&client, &key, wait).await;
    Ok(Outcome::Granted(Grant {
        ip,
        comment,
        delete_after,
        owned,
        status,
        waited: started.elapsed(),
        key,
        client,
        guard,
    }))
}

/// Reads the entry's status until ACTIVE or FAILED, or until `wait` has passed (the last status
/// read is returned then).
async fn wait_active(client: &AtlasClient, key: &str, wait: Duration) -> Result<EntryStatus, ApiFailure> {
    let deadline = Instant::now() + wait;
    loop {
        // Right after a POST the entry may not be readable yet (404): that is pending too.
        let status = match client.entry_status(key).await {
            Err(ApiFailure::NotFound { .. }) => Ok(EntryStatus::Pending),
            other => other,
        };
        match status {
            Ok(EntryStatus::Pending) if Instant::now() + POLL_INTERVAL < deadline => {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            other => return other,
        }
    }
}

/// The cleanup a signal or panic runs: delete the entry, but only if it carries this run's
/// comment (the run may have been stopped before it knew whether the entry was its own).
fn register(client: Arc<AtlasClient>, key: String, comment: String) -> crate::secret_files::CleanupGuard {
    crate::secret_files::register_cleanup(Arc::new(move || {
        let client = client.clone();
        let key = key.clone();
        let comment = comment.clone();
        Box::pin(async move {
            // Another job's entry (another comment) is never deleted; when the entry cannot be
            // read, deleting it is still right: this run has just added it.
            let others = matches!(client.entry(&key).await, Ok(Some(entry)) if entry.comment.as_deref() != Some(comment.as_str()));
            if !others {
                let _ = client.delete_entry(&key).await;
            }
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("600"), Ok(Duration::from_secs(600)));
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("2w").is_err());
    }

    #[test]
    fn comments_fit_and_name_the_run() {
        let env = |k: &str| match k {
            "GITHUB_REPOSITORY" => Some("octo/orders".to_string()),
            "GITHUB_RUN_ID" => Some("12345".to_string()),
            _ => None,
        };
        let c = comment(&env);
        assert!(c.starts_with("mongo-preflight ") && c.ends_with(" octo/orders run 12345/1"), "{c}");
        let long = |k: &str| (k == "GITHUB_REPOSITORY").then(|| "x".repeat(200));
        assert_eq!(comment(&long).chars().count(), MAX_COMMENT);
    }
}
