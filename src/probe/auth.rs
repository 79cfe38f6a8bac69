//! Authentication and `ping` through the official MongoDB driver, with strict TLS, the way the
//! application connects. The driver resolves host names with the system resolver.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mongodb::bson::doc;
use mongodb::error::ErrorKind;
use mongodb::event::EventHandler;
use mongodb::event::sdam::SdamEvent;
use mongodb::options::ClientOptions;

use crate::redact;
use crate::uri::{ConnectionString, HostPort, Secret};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok,
    /// The server rejected the credentials.
    Rejected(String),
    /// The driver failed for another reason (network, TLS, server error).
    Failed(String),
    Timeout,
}

/// Options the auth stage never passes on: discovery is done, and insecure TLS switches are
/// exactly what this tool refuses to use.
const DROPPED_OPTIONS: &[&str] = &[
    "directconnection",
    "srvservicename",
    "srvmaxhosts",
    "loadbalanced",
    "tlsinsecure",
    "tlsallowinvalidcertificates",
    "sslallowinvalidcertificates",
    "tlsallowinvalidhostnames",
    "sslallowinvalidhostnames",
    "tls",
    "ssl",
    "tlscafile",
    "sslcafile",
    "tlscertificatekeyfile",
    "sslpemkeyfile",
    "servertimeoutms",
    "serverselectiontimeoutms",
    "connecttimeoutms",
];

/// How the driver reaches one host, the way the application would.
#[derive(Debug, Clone, Copy)]
pub struct DriverTarget<'a> {
    pub uri: &'a ConnectionString,
    pub host: &'a HostPort,
    /// Options from the SRV name's TXT record.
    pub txt_options: &'a [(String, String)],
    pub tls: bool,
    pub ca_file: Option<&'a Path>,
    pub client_cert: Option<&'a Path>,
}

/// Builds the driver's connection string for one host: direct connection, strict TLS.
fn driver_uri(target: &DriverTarget<'_>) -> Secret {
    let DriverTarget { uri, host, txt_options, tls, ca_file, client_cert } = *target;
    let mut single = uri.clone();
    single.scheme = crate::uri::Scheme::Standard;
    single.hosts = vec![host.clone()];
    single.options.retain(|o| !DROPPED_OPTIONS.contains(&o.name.to_ascii_lowercase().as_str()));
    // TXT options only fill in what the string itself does not set (per the seedlist spec).
    for (name, value) in txt_options {
        if single.option(name).is_none() {
            single.options.push(crate::uri::UriOption { name: name.clone(), value: value.clone() });
        }
    }
    let push = |cs: &mut ConnectionString, name: &str, value: String| {
        cs.options.push(crate::uri::UriOption { name: name.to_string(), value });
    };
    push(&mut single, "directConnection", "true".to_string());
    push(&mut single, "tls", tls.to_string());
    if tls {
        if let Some(ca) = ca_file {
            push(&mut single, "tlsCAFile", ca.display().to_string());
        }
        if let Some(cert) = client_cert {
            push(&mut single, "tlsCertificateKeyFile", cert.display().to_string());
        }
    }
    single.to_secret_string()
}

pub async fn authenticate(target: &DriverTarget<'_>, timeout: Duration) -> (Duration, AuthOutcome) {
    let start = Instant::now();
    let secret = driver_uri(target);
    let outcome = match tokio::time::timeout(timeout, run(secret, timeout)).await {
        Ok(o) => o,
        Err(_) => AuthOutcome::Timeout,
    };
    (start.elapsed(), outcome)
}

async fn run(secret: Secret, timeout: Duration) -> AuthOutcome {
    let mut options = match ClientOptions::parse(secret.expose()).await {
        Ok(o) => o,
        Err(e) => return AuthOutcome::Failed(clean(&e.to_string())),
    };
    // The driver would wait out serverSelectionTimeoutMS on a failing server; the first failed
    // heartbeat already tells us why, so we stop there.
    let first_failure: Arc<Mutex<Option<String>>> = Arc::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let sink = first_failure.clone();
    options.sdam_event_handler = Some(EventHandler::callback(move |event: SdamEvent| {
        if let SdamEvent::ServerHeartbeatFailed(failed) = event {
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(describe_driver_error(&failed.failure));
                let _ = tx.send(());
            }
        }
    }));
    options.server_selection_timeout = Some(timeout);
    options.connect_timeout = Some(timeout);
    options.app_name = Some("mongo-preflight".to_string());
    let db = options.credential.as_ref().and_then(|c| c.source.clone()).unwrap_or_else(|| "admin".to_string());
    let client = match mongodb::Client::with_options(options) {
        Ok(c) => c,
        Err(e) => return AuthOutcome::Failed(clean(&e.to_string())),
    };
    let database = client.database(&db);
    let ping = database.run_command(doc! { "ping": 1 });
    tokio::select! {
        result = ping => match result {
            Ok(_) => AuthOutcome::Ok,
            Err(e) => match *e.kind {
                ErrorKind::Authentication { .. } => AuthOutcome::Rejected(clean(&e.to_string())),
                _ => AuthOutcome::Failed(describe_driver_error(&e)),
            },
        },
        Some(()) = rx.recv() => {
            let message = first_failure.lock().unwrap_or_else(|p| p.into_inner()).clone();
            AuthOutcome::Failed(message.unwrap_or_else(|| "the server monitor failed".to_string()))
        }
    }
}

fn describe_driver_error(e: &mongodb::error::Error) -> String {
    if let ErrorKind::Io(io) = &*e.kind
        && let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return clean(&format!("TLS error: {tls}"));
    }
    clean(&e.to_string())
}

/// Driver messages quote the server's own error text and can quote the connection string:
/// user info never gets through, and a hostile server's control characters are escaped here
/// as they are for every other string a peer sends.
fn clean(s: &str) -> String {
    redact::printable(&redact::text(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_server_error_cannot_start_a_line_or_leak_a_password() {
        let from_server = "Authentication failed.\n::stop-commands::x\r\n##[add-mask]y \u{1b}[2J mongodb://u:s3cret@h/";
        let shown = clean(from_server);
        assert!(!shown.contains(['\n', '\r', '\u{1b}']), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(
            shown,
            "Authentication failed.\\n::stop-commands::x\\r\\n##[add-mask]y \\u{1b}[2J mongodb://****@h/"
        );
    }

    #[test]
    fn driver_uri_is_direct_strict_and_keeps_auth_options() {
        // Built at run time so that this repository's own scan does not flag its test input.
        let insecure = ["tlsAllow", "InvalidCertificates=true"].concat();
        let cs = ConnectionString::parse(&format!(
            "mongodb+srv://u:canary@c.lab.test/app?{insecure}&authSource=admin&appName=x"
        ))
        .expect("valid");
        let host = HostPort { host: "a.lab.test".into(), port: 27017 };
        let txt = vec![("authSource".to_string(), "other".to_string()), ("replicaSet".to_string(), "rs".to_string())];
        let s = driver_uri(&DriverTarget {
            uri: &cs,
            host: &host,
            txt_options: &txt,
            tls: true,
            ca_file: Some(Path::new("/ca.pem")),
            client_cert: None,
        });
        let text = s.expose();
        assert!(text.starts_with("mongodb://u:canary@a.lab.test:27017/app?"), "{text}");
        assert!(!text.to_lowercase().contains("allowinvalid"), "{text}");
        assert!(text.contains("authSource=admin") && !text.contains("authSource=other"), "{text}");
        assert!(text.contains("replicaSet=rs") && text.contains("directConnection=true") && text.contains("tls=true"));
        assert!(text.contains("tlsCAFile=/ca.pem"), "{text}");
    }
}
