//! The command that decides: `mongo-preflight probe` with the connection string the text holds
//! (without its credentials: TLS causes need none), else the SRV name, else the hosts.

use std::net::SocketAddr;
use std::path::Path;

use super::hosts::is_ip;
use super::reading::Reading;

/// The flags of `why` that the probe takes too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags<'a> {
    pub timeout: Option<f64>,
    pub ca_file: Option<&'a Path>,
    pub dns_server: Option<SocketAddr>,
}

/// The hosts to probe: an address the text shows next to a named host on the same port is
/// that host's address, not another member.
pub fn probe_hosts(hosts: &[String]) -> Vec<String> {
    let split = |hp: &str| hp.rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string()));
    let named_ports: Vec<String> =
        hosts.iter().filter_map(|hp| split(hp)).filter(|(h, _)| !is_ip(h)).map(|(_, p)| p).collect();
    hosts.iter().filter(|hp| split(hp).is_none_or(|(h, p)| !(is_ip(&h) && named_ports.contains(&p)))).cloned().collect()
}

/// The connection string to probe, or `None` when the text names no host.
pub fn target(reading: &Reading) -> Option<String> {
    if let Some(uri) = &reading.uri {
        return Some(uri.redacted());
    }
    if let Some(srv) = &reading.srv {
        return Some(format!("mongodb+srv://{srv}/"));
    }
    let hosts = probe_hosts(&reading.hosts);
    if hosts.is_empty() {
        return None;
    }
    let tls = if reading.tls { "?tls=true" } else { "" };
    Some(format!("mongodb://{}/{tls}", hosts.join(",")))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `mongo-preflight probe [flags] 'URI'`.
pub fn command(target: &str, flags: &Flags<'_>) -> String {
    let mut cmd = String::from("mongo-preflight probe");
    if let Some(t) = flags.timeout {
        cmd.push_str(&format!(" --timeout {t}"));
    }
    if let Some(ca) = flags.ca_file {
        cmd.push_str(&format!(" --ca-file {}", quote(&ca.display().to_string())));
    }
    if let Some(dns) = flags.dns_server {
        cmd.push_str(&format!(" --dns-server {dns}"));
    }
    cmd.push(' ');
    cmd.push_str(&quote(target));
    cmd
}
