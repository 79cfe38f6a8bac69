//! `check`'s conversation with the Atlas Administration API: temporary access before the probe,
//! the facts that confirm or refute its diagnoses after it, and the clean-up at the end.

use std::sync::Arc;

use crate::atlas::temporary::{self, Grant, Outcome};
use crate::atlas::{ApiFailure, AtlasClient, AtlasObservation, egress::Egress};
use crate::model::{ClusterReport, Note, Severity};
use crate::plan::AtlasPlan;
use crate::probe::ProbeTarget;

fn unknown_egress() -> Egress {
    Egress { ip: Err("the lookup stopped unexpectedly".to_string()), source: "the IP lookup".to_string() }
}

/// One run's use of the API.
pub struct Session {
    client: Result<Arc<AtlasClient>, ApiFailure>,
    project_id: String,
    /// Known before the probe when temporary access needs it; otherwise found while the probe
    /// runs.
    egress: EgressLookup,
    grant: Option<Grant>,
    notes: Vec<Note>,
}

enum EgressLookup {
    Known(Egress),
    Running(tokio::task::JoinHandle<Egress>),
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn note(severity: Severity, message: String) -> Note {
    Note { severity, message }
}

impl Session {
    /// Finds the runner's egress IP and, when asked, gives it temporary access (waiting up to
    /// the stage deadline for the entry to become ACTIVE).
    pub async fn start(plan: &AtlasPlan) -> Session {
        let settings = &plan.settings;
        // The service account's bearer token is a secret the environment never held: it is
        // masked in GitHub Actions as soon as it exists.
        let client = AtlasClient::new(settings)
            .map(|client| Arc::new(client.on_token(Arc::new(crate::output::mask_secret_now))));
        let (given, timeout) = (plan.egress_ip, settings.timeout);
        let egress = match plan.temporary_access {
            Some(_) => EgressLookup::Known(crate::atlas::egress::find(given, &process_env, timeout).await),
            None => EgressLookup::Running(tokio::spawn(crate::atlas::egress::find(given, &process_env, timeout))),
        };
        let mut session =
            Session { client, project_id: settings.project_id.clone(), egress, grant: None, notes: Vec::new() };
        if let Some(duration) = plan.temporary_access {
            session.grant(duration, settings.timeout, &process_env).await;
        }
        session
    }

    async fn grant(
        &mut self,
        duration: std::time::Duration,
        wait: std::time::Duration,
        env: &dyn Fn(&str) -> Option<String>,
    ) {
        let project = &self.project_id;
        let not_added = |why: String| {
            note(Severity::Warning, format!("Atlas temporary access was not added to project {project}: {why}"))
        };
        let EgressLookup::Known(egress) = &self.egress else { return };
        let ip = match &egress.ip {
            Ok(ip) => *ip,
            Err(why) => {
                self.notes.push(not_added(format!("the runner's egress IP is unknown ({why})")));
                return;
            }
        };
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(failure) => {
                self.notes.push(not_added(failure.describe()));
                return;
            }
        };
        match temporary::grant(client, ip, duration, temporary::comment(env), wait).await {
            Err(failure) => self.notes.push(not_added(failure.describe())),
            Ok(Outcome::AlreadyCovered { entry }) => self.notes.push(note(
                Severity::Info,
                format!(
                    "Atlas temporary access: nothing added, ACTIVE entry {entry} already covers the runner's IP {ip}"
                ),
            )),
            Ok(Outcome::Granted(grant)) => {
                let status = match &grant.status {
                    Ok(s) => s.as_str().to_string(),
                    Err(e) => format!("unknown ({})", e.describe()),
                };
                let waited = grant.waited.as_secs_f64();
                let whose = if grant.owned {
                    format!(
                        "added {ip}/32 to project {project} (comment \"{}\", deleteAfterDate {})",
                        grant.comment, grant.delete_after
                    )
                } else {
                    format!("used another job's entry for {ip} in project {project}; it is not this run's to delete")
                };
                let (severity, message) = if grant.status == Ok(crate::atlas::EntryStatus::Active) {
                    (Severity::Info, format!("Atlas temporary access: {whose}; ACTIVE after {waited:.1} s"))
                } else {
                    (
                        Severity::Warning,
                        format!(
                            "Atlas temporary access: {whose}; its status was {status} after {waited:.1} s, not ACTIVE: probed anyway"
                        ),
                    )
                };
                self.notes.push(note(severity, message));
                self.grant = Some(grant);
            }
        }
    }

    /// Reads the project's facts and adds what they mean to each cluster's diagnoses.
    pub async fn confirm(&mut self, clusters: &mut [ClusterReport], targets: &[ProbeTarget]) {
        let egress = match std::mem::replace(&mut self.egress, EgressLookup::Known(unknown_egress())) {
            EgressLookup::Known(egress) => egress,
            EgressLookup::Running(task) => task.await.unwrap_or_else(|_| unknown_egress()),
        };
        let observation = match &self.client {
            Ok(client) => crate::atlas::observe(client, &egress).await,
            Err(failure) => AtlasObservation {
                project_id: self.project_id.clone(),
                egress_ip: egress.ip.clone(),
                egress_source: egress.source.clone(),
                access_list: Err(failure.clone()),
                covering: Vec::new(),
                clusters: Err(failure.clone()),
            },
        };
        for (report, target) in clusters.iter_mut().zip(targets) {
            crate::diagnose::atlas::confirm(report, target.uri.srv_name(), &observation);
        }
        self.egress = EgressLookup::Known(egress);
    }

    /// Deletes the temporary entry this run added (a 404 means it is gone already) and returns
    /// what the session has to say.
    pub async fn finish(mut self) -> Vec<Note> {
        if let Some(grant) = self.grant.take() {
            let ip = grant.ip;
            let owned = grant.owned;
            let delete_after = grant.delete_after.clone();
            match grant.release().await {
                Ok(Some(crate::atlas::client::Deleted::Removed)) => {
                    self.notes.push(note(Severity::Info, format!("Atlas temporary access: {ip}/32 removed again")));
                }
                Ok(Some(crate::atlas::client::Deleted::AlreadyGone)) => self.notes.push(note(
                    Severity::Info,
                    format!("Atlas temporary access: {ip}/32 was already gone (expired or removed)"),
                )),
                Ok(None) => {}
                Err(failure) if owned => self.notes.push(note(
                    Severity::Warning,
                    format!(
                        "Atlas temporary access: {ip}/32 could not be removed ({}); Atlas deletes it at {delete_after}",
                        failure.describe()
                    ),
                )),
                Err(_) => {}
            }
        }
        if let Ok(client) = &self.client {
            client.revoke().await;
        }
        self.notes
    }
}
