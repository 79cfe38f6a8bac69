//! Name resolution: SRV and TXT for `mongodb+srv`, then A/AAAA for every host.
//!
//! With `--dns-server` every query goes to that server (hickory); without it SRV/TXT use the
//! system resolver configuration and addresses come from the system resolver (getaddrinfo),
//! as the drivers do.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// Why a lookup produced nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsFailure {
    /// NXDOMAIN or an empty answer: the name (or record) does not exist.
    NotFound(String),
    /// The resolver failed: SERVFAIL, REFUSED, timeout, unreachable.
    Failed(String),
}

impl DnsFailure {
    pub fn describe(&self) -> &str {
        match self {
            DnsFailure::NotFound(s) | DnsFailure::Failed(s) => s,
        }
    }
}

/// One SRV answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    pub target: String,
    pub port: u16,
}

#[derive(Clone)]
pub struct Dns {
    /// Without `--dns-server` this is built from the system configuration, which a bare
    /// container may lack; address lookups then still work through getaddrinfo.
    resolver: Result<TokioResolver, String>,
    /// Route address lookups through hickory too (true with `--dns-server`).
    custom_server: Option<SocketAddr>,
    timeout: Duration,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns").field("server", &self.custom_server).finish_non_exhaustive()
    }
}

impl Dns {
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Dns {
        let builder = match server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for conn in &mut ns.connections {
                    conn.port = addr.port();
                }
                Ok(TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                ))
            }
            None => {
                TokioResolver::builder_tokio().map_err(|e| format!("cannot read the system DNS configuration: {e}"))
            }
        };
        let resolver = builder.and_then(|mut builder| {
            let opts = builder.options_mut();
            // One stage deadline covers all attempts: each attempt gets a share.
            opts.timeout = (timeout / 2).max(Duration::from_millis(200));
            opts.attempts = 2;
            opts.cache_size = 0;
            builder.build().map_err(|e| format!("cannot build the DNS resolver: {e}"))
        });
        Dns { resolver, custom_server: server, timeout }
    }

    fn resolver(&self) -> Result<&TokioResolver, DnsFailure> {
        self.resolver.as_ref().map_err(|e| DnsFailure::Failed(format!("{e}; pass --dns-server IP:PORT")))
    }

    pub fn server_description(&self) -> String {
        match self.custom_server {
            Some(a) => format!("DNS server {a}"),
            None => "the system resolver".to_string(),
        }
    }

    /// `_mongodb._tcp.NAME` (or the `srvServiceName` given).
    pub async fn srv(&self, name: &str, service: &str) -> Result<Vec<SrvTarget>, DnsFailure> {
        let query = format!("_{service}._tcp.{}.", name.trim_end_matches('.'));
        let lookup = self.bounded(&query, self.resolver()?.srv_lookup(query.as_str())).await?;
        let mut targets: Vec<SrvTarget> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(SrvTarget {
                    target: srv.target.to_utf8().trim_end_matches('.').to_ascii_lowercase(),
                    port: srv.port,
                }),
                _ => None,
            })
            .collect();
        if targets.is_empty() {
            return Err(DnsFailure::NotFound(format!("{query} has no SRV record ({})", self.server_description())));
        }
        targets.sort_by(|a, b| (&a.target, a.port).cmp(&(&b.target, b.port)));
        targets.dedup();
        Ok(targets)
    }

    /// The TXT record's options (`authSource=admin&replicaSet=...`). No record is not an error.
    pub async fn txt(&self, name: &str) -> Result<Option<String>, DnsFailure> {
        let query = format!("{}.", name.trim_end_matches('.'));
        match self.bounded(&query, self.resolver()?.txt_lookup(query.as_str())).await {
            Ok(lookup) => {
                let texts: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::TXT(txt) => {
                            Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect())
                        }
                        _ => None,
                    })
                    .collect();
                Ok(texts.into_iter().next())
            }
            Err(DnsFailure::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Addresses of a host, in the order a driver would try them.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if self.custom_server.is_some() {
            let query = format!("{}.", host.trim_end_matches('.'));
            let lookup = self.bounded(&query, self.resolver()?.lookup_ip(query.as_str())).await?;
            let ips: Vec<IpAddr> = lookup.iter().collect();
            if ips.is_empty() {
                return Err(DnsFailure::NotFound(format!(
                    "{host} has no A/AAAA record ({})",
                    self.server_description()
                )));
            }
            return Ok(ips);
        }
        let lookup = tokio::net::lookup_host((host, 0));
        match tokio::time::timeout(self.timeout, lookup).await {
            Err(_) => Err(DnsFailure::Failed(format!(
                "no answer for {host} within {:.1} s from the system resolver",
                self.timeout.as_secs_f64()
            ))),
            Ok(Ok(addrs)) => {
                let mut ips: Vec<IpAddr> = Vec::new();
                for a in addrs {
                    if !ips.contains(&a.ip()) {
                        ips.push(a.ip());
                    }
                }
                if ips.is_empty() {
                    Err(DnsFailure::NotFound(format!("{host} has no address (system resolver)")))
                } else {
                    Ok(ips)
                }
            }
            Ok(Err(e)) => {
                let text = e.to_string();
                // getaddrinfo's EAI_NONAME / EAI_NODATA mean "does not exist"; the rest are failures.
                let lower = text.to_ascii_lowercase();
                if lower.contains("not known")
                    || lower.contains("no address")
                    || lower.contains("nodename nor servname")
                {
                    Err(DnsFailure::NotFound(format!("{host}: {text} (system resolver)")))
                } else {
                    Err(DnsFailure::Failed(format!("{host}: {text} (system resolver)")))
                }
            }
        }
    }

    async fn bounded<T>(
        &self,
        query: &str,
        fut: impl std::future::Future<Output = Result<T, NetError>>,
    ) -> Result<T, DnsFailure> {
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(DnsFailure::Failed(format!(
                "no answer for {query} within {:.1} s from {}",
                self.timeout.as_secs_f64(),
                self.server_description()
            ))),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(query, &e, &self.server_description())),
        }
    }
}

fn classify(query: &str, e: &NetError, server: &str) -> DnsFailure {
    if e.is_nx_domain() {
        DnsFailure::NotFound(format!("{query} does not exist (NXDOMAIN from {server})"))
    } else if e.is_no_records_found() {
        DnsFailure::NotFound(format!("{query}: no matching record ({server})"))
    } else {
        DnsFailure::Failed(format!("{query}: {e} ({server})"))
    }
}

/// The Initial DNS Seedlist Discovery rule: targets must share the SRV name's parent domain
/// (for names with fewer than three labels, the name itself) and must not equal it.
pub fn srv_target_allowed(srv_name: &str, target: &str) -> bool {
    let name = srv_name.trim_end_matches('.').to_ascii_lowercase();
    let target = target.trim_end_matches('.').to_ascii_lowercase();
    let labels = name.split('.').count();
    let parent =
        if labels >= 3 { name.split_once('.').map(|(_, p)| p.to_string()).unwrap_or_default() } else { name.clone() };
    target != name && target.ends_with(&format!(".{parent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_targets_must_share_the_parent_domain() {
        assert!(srv_target_allowed("cluster0.abcde.mongodb.net", "shard-00-00.abcde.mongodb.net"));
        assert!(!srv_target_allowed("cluster0.abcde.mongodb.net", "evil.example.com"));
        assert!(!srv_target_allowed("cluster0.abcde.mongodb.net", "abcde.mongodb.net.evil.com"));
        assert!(!srv_target_allowed("cluster0.abcde.mongodb.net", "xabcde.mongodb.net"));
        assert!(srv_target_allowed("lab.test", "a.lab.test"));
        assert!(!srv_target_allowed("lab.test", "lab.test"));
    }
}
