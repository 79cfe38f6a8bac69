//! The lab's DNS: dnsmasq answering for `lab.test` (and a fake Atlas zone) on a loopback port,
//! plus a broken upstream that dnsmasq forwards `broken.lab.test` to.

use std::path::Path;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::process::{self, Guarded};

/// One SRV cluster: `_mongodb._tcp.<name>` → targets, with an optional TXT record on `<name>`.
pub struct SrvCluster {
    pub name: String,
    pub targets: Vec<(String, u16)>,
    pub txt: Option<String>,
}

pub struct Zone {
    /// Names answering A 127.0.0.1.
    pub hosts: Vec<String>,
    pub clusters: Vec<SrvCluster>,
    /// Names that exist (they hold a TXT record) but have no address.
    pub no_address: Vec<String>,
    /// Domains forwarded to the SERVFAIL upstream.
    pub broken_domains: Vec<String>,
    /// Domains dnsmasq answers alone (NXDOMAIN for anything it does not hold).
    pub local_domains: Vec<String>,
    /// Domains where every name answers A 127.0.0.1. Unlike host records, these add no
    /// additional-section records to SRV answers: dnsmasq 2.90 writes compression pointers
    /// past 16 KiB wrongly, so a 1,000-target SRV answer with 1,000 additional A records
    /// arrives corrupt over TCP (hickory: "unrecognized label code").
    pub wildcard_domains: Vec<String>,
}

/// Answers every query with SERVFAIL: a real, deterministic way to make a lookup fail at the
/// resolver (a dead upstream port would only make dnsmasq time out).
async fn servfail_upstream() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("lab: bind SERVFAIL upstream");
    let port = socket.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else { continue };
            if n < 12 {
                continue;
            }
            let mut reply = buf[..n].to_vec();
            // QR=1, keep opcode and RD; RA=1, RCODE=2 (SERVFAIL); no answer/authority/additional.
            reply[2] = 0x80 | (reply[2] & 0x79);
            reply[3] = 0x80 | 0x02;
            reply[6..12].fill(0);
            let _ = socket.send_to(&reply, from).await;
        }
    });
    port
}

pub async fn start(zone: &Zone, dir: &Path, lifetime: Duration) -> (Guarded, u16) {
    let dnsmasq = process::tool("MONGO_PREFLIGHT_DNSMASQ", &["dnsmasq"]);
    let upstream = servfail_upstream().await;
    let mut records = Vec::new();
    for domain in &zone.local_domains {
        records.push(format!("--local=/{domain}/"));
    }
    for domain in &zone.broken_domains {
        records.push(format!("--server=/{domain}/127.0.0.1#{upstream}"));
    }
    for domain in &zone.wildcard_domains {
        records.push(format!("--address=/{domain}/127.0.0.1"));
    }
    for host in &zone.hosts {
        records.push(format!("--host-record={host},127.0.0.1"));
    }
    for name in &zone.no_address {
        records.push(format!("--txt-record={name},lab=no-address"));
    }
    for cluster in &zone.clusters {
        for (target, port) in &cluster.targets {
            records.push(format!("--srv-host=_mongodb._tcp.{},{target},{port}", cluster.name));
        }
        if let Some(txt) = &cluster.txt {
            records.push(format!("--txt-record={},{txt}", cluster.name));
        }
    }
    process::start_listening("dnsmasq", &dnsmasq, dir, lifetime, Duration::from_secs(20), move |port| {
        let mut args: Vec<String> = [
            // Not `--no-daemon`: in that debug mode dnsmasq serves a TCP connection in its
            // only process, and answers no UDP query while a client keeps one open (hickory
            // does, after fetching a truncated answer over TCP).
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--pid-file=",
            "--log-facility=-",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--port={port}"));
        args.extend(records.iter().cloned());
        args
    })
    .await
}
