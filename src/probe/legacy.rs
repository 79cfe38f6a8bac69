//! A hand-built TLS 1.0/1.1 ClientHello, to learn what an old server wants.
//!
//! rustls only speaks TLS 1.2+, and old servers often just close a modern ClientHello. This
//! offers TLS 1.1 with CBC suites; the ServerHello's version and cipher become evidence.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server answered to the legacy ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAnswer {
    /// A ServerHello choosing this version and cipher.
    ServerHello { version: u16, cipher: u16 },
    /// A TLS alert (level, description).
    Alert(u8, u8),
    /// Closed, timed out, or something that is not TLS.
    Nothing(String),
}

impl LegacyAnswer {
    pub fn describe(&self) -> String {
        match self {
            LegacyAnswer::ServerHello { version, cipher } => {
                format!(
                    "a TLS 1.0/1.1 ClientHello got a ServerHello choosing {} with cipher {}",
                    version_name(*version),
                    cipher_name(*cipher)
                )
            }
            LegacyAnswer::Alert(_, d) => format!("a TLS 1.0/1.1 ClientHello got alert {d}"),
            LegacyAnswer::Nothing(s) => format!("a TLS 1.0/1.1 ClientHello got no answer ({s})"),
        }
    }

    /// True when the server speaks only a version older than TLS 1.2.
    pub fn is_legacy_only(&self) -> bool {
        matches!(self, LegacyAnswer::ServerHello { version, .. } if *version < 0x0303)
    }
}

pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".to_string(),
        0x0301 => "TLS 1.0".to_string(),
        0x0302 => "TLS 1.1".to_string(),
        0x0303 => "TLS 1.2".to_string(),
        other => format!("version 0x{other:04x}"),
    }
}

fn cipher_name(c: u16) -> String {
    let name = match c {
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        _ => return format!("0x{c:04x}"),
    };
    name.to_string()
}

const CIPHERS: &[u16] = &[0xc009, 0xc00a, 0xc013, 0xc014, 0x002f, 0x0035, 0x000a];

fn client_hello(host: &str) -> Vec<u8> {
    client_hello_offering(host, 0x0302)
}

/// A ClientHello offering versions up to `max_version` (0x0301 TLS 1.0, 0x0302 TLS 1.1).
fn client_hello_offering(host: &str, max_version: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&max_version.to_be_bytes()); // offer up to this version
    let mut random = [0u8; 32];
    let _ = getrandom::fill(&mut random);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&((CIPHERS.len() * 2) as u16).to_be_bytes());
    for c in CIPHERS {
        body.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // null compression only

    let mut ext = Vec::new();
    if host.parse::<std::net::IpAddr>().is_err() && host.len() < 250 {
        let name = host.as_bytes();
        let mut sni = Vec::new();
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        push_extension(&mut ext, 0x0000, &sni);
    }
    push_extension(&mut ext, 0x000a, &[0x00, 0x04, 0x00, 0x17, 0x00, 0x18]); // secp256r1, secp384r1
    push_extension(&mut ext, 0x000b, &[0x01, 0x00]); // uncompressed points
    push_extension(&mut ext, 0xff01, &[0x00]); // empty renegotiation_info
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);

    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);

    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Sends the legacy ClientHello on a fresh connection and reads the first record.
pub async fn probe(addr: SocketAddr, host: &str, timeout: Duration) -> LegacyAnswer {
    send(addr, client_hello(host), timeout).await
}

/// Sends a ClientHello offering at most `max_version` (0x0301 or 0x0302) on a fresh
/// connection: a ServerHello choosing exactly that version means the server accepts it.
pub async fn probe_offering(addr: SocketAddr, host: &str, max_version: u16, timeout: Duration) -> LegacyAnswer {
    send(addr, client_hello_offering(host, max_version), timeout).await
}

async fn send(addr: SocketAddr, hello: Vec<u8>, timeout: Duration) -> LegacyAnswer {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.write_all(&hello).await.map_err(|e| e.to_string())?;
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await.map_err(|e| format!("closed: {e}"))?;
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let mut payload = vec![0u8; len.min(16_384)];
        stream.read_exact(&mut payload).await.map_err(|e| format!("closed: {e}"))?;
        Ok::<_, String>(parse_answer(header[0], &payload))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => LegacyAnswer::Nothing(e),
        Err(_) => LegacyAnswer::Nothing("timed out".to_string()),
    }
}

fn parse_answer(content_type: u8, payload: &[u8]) -> LegacyAnswer {
    match content_type {
        0x15 if payload.len() >= 2 => LegacyAnswer::Alert(payload[0], payload[1]),
        // ServerHello: type(1) len(3) version(2) random(32) sid_len(1) sid cipher(2)
        0x16 if payload.len() >= 39 && payload[0] == 0x02 => {
            let version = u16::from_be_bytes([payload[4], payload[5]]);
            let sid_len = payload[38] as usize;
            let at = 39 + sid_len;
            let cipher = payload.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).unwrap_or(0);
            LegacyAnswer::ServerHello { version, cipher }
        }
        other => LegacyAnswer::Nothing(format!("unexpected record type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_is_a_well_formed_record() {
        let hello = client_hello("db.example.net");
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let record_len = u16::from_be_bytes([hello[3], hello[4]]) as usize;
        assert_eq!(record_len, hello.len() - 5);
        assert_eq!(hello[5], 0x01);
        let hs_len = u32::from_be_bytes([0, hello[6], hello[7], hello[8]]) as usize;
        assert_eq!(hs_len, hello.len() - 9);
        assert_eq!(&hello[9..11], &[0x03, 0x02]);
        let tls10 = client_hello_offering("db.example.net", 0x0301);
        assert_eq!(&tls10[9..11], &[0x03, 0x01]);
    }

    #[test]
    fn parses_server_hello_and_alert() {
        let mut sh = vec![0x02, 0, 0, 0x46, 0x03, 0x01];
        sh.extend_from_slice(&[0u8; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0xc0, 0x14, 0x00]);
        assert_eq!(parse_answer(0x16, &sh), LegacyAnswer::ServerHello { version: 0x0301, cipher: 0xc014 });
        assert!(parse_answer(0x16, &sh).is_legacy_only());
        assert_eq!(parse_answer(0x15, &[2, 70]), LegacyAnswer::Alert(2, 70));
    }
}
