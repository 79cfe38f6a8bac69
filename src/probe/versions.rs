//! Which TLS versions a server accepts, each offered on its own: the posture probe.
//!
//! A normal handshake only shows the highest version a server and a modern client share. A
//! server that also accepts TLS 1.0 "for one old client" still negotiates 1.3 with everyone
//! else, so each version gets its own fresh connection: TLS 1.0 and 1.1 through the hand-built
//! ClientHello of [`super::legacy`] (rustls cannot speak them), TLS 1.2 and 1.3 through rustls
//! offering that version alone, with no certificate verdict (the strict handshake judges the
//! certificate; this only asks whether the version is accepted). Every attempt has the stage
//! deadline, and they run concurrently.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::legacy::{self, LegacyAnswer};
use super::tls::{self, TlsSetup};
use crate::model::TlsVersion;

/// What one version's own ClientHello got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionAnswer {
    pub version: TlsVersion,
    pub accepted: bool,
    /// What the server answered, in words.
    pub detail: String,
}

/// The answers for TLS 1.0 to 1.3, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedVersions {
    pub elapsed: Duration,
    pub answers: Vec<VersionAnswer>,
}

impl AcceptedVersions {
    /// The oldest version the server accepted, if any.
    pub fn lowest(&self) -> Option<TlsVersion> {
        self.answers.iter().filter(|a| a.accepted).map(|a| a.version).min()
    }

    pub fn accepted(&self) -> Vec<TlsVersion> {
        self.answers.iter().filter(|a| a.accepted).map(|a| a.version).collect()
    }
}

/// Offers each version on its own connection to `addr`.
pub async fn probe(setup: &TlsSetup, addr: SocketAddr, host: &str, timeout: Duration) -> AcceptedVersions {
    let start = Instant::now();
    let legacy_answer = |version: TlsVersion, wire: u16| async move {
        let answer = legacy::probe_offering(addr, host, wire, timeout).await;
        let accepted = matches!(answer, LegacyAnswer::ServerHello { version: v, .. } if v == wire);
        let detail = match &answer {
            LegacyAnswer::ServerHello { version: v, .. } if *v != wire => {
                format!("the server chose {} instead", legacy::version_name(*v))
            }
            LegacyAnswer::ServerHello { .. } => "ServerHello".to_string(),
            LegacyAnswer::Alert(_, d) => format!("alert {d}"),
            LegacyAnswer::Nothing(why) => why.clone(),
        };
        VersionAnswer { version, accepted, detail }
    };
    let modern = |version: TlsVersion, offered: &'static rustls::SupportedProtocolVersion| async move {
        let result = match super::tcp::reconnect(addr, timeout).await {
            Ok(tcp) => tls::accepts(setup, offered, tcp, host, timeout).await,
            Err(e) => Err(tls::TlsFailure::Other(format!("no connection: {e}"))),
        };
        let detail = match &result {
            Ok(()) => "handshake completed".to_string(),
            Err(f) => f.describe(),
        };
        VersionAnswer { version, accepted: result.is_ok(), detail }
    };
    let (v10, v11, v12, v13) = tokio::join!(
        legacy_answer(TlsVersion::Tls10, 0x0301),
        legacy_answer(TlsVersion::Tls11, 0x0302),
        modern(TlsVersion::Tls12, &rustls::version::TLS12),
        modern(TlsVersion::Tls13, &rustls::version::TLS13),
    );
    AcceptedVersions { elapsed: start.elapsed(), answers: vec![v10, v11, v12, v13] }
}
