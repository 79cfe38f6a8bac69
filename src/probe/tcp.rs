//! TCP connect, address by address as the drivers do, within one stage deadline.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// How one address attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    Refused,
    TimedOut,
    Other(String),
}

impl AttemptError {
    /// In words, for reports.
    pub fn describe(&self) -> String {
        match self {
            AttemptError::Refused => "connection refused".to_string(),
            AttemptError::TimedOut => "no answer before the deadline".to_string(),
            AttemptError::Other(e) => crate::redact::printable(e),
        }
    }
}

#[derive(Debug)]
pub struct TcpOutcome {
    pub elapsed: Duration,
    /// Every failed attempt, in order.
    pub failures: Vec<(SocketAddr, AttemptError)>,
    /// The connected stream and its address, if any attempt succeeded.
    pub connected: Option<(SocketAddr, TcpStream)>,
}

/// Tries each address in turn. Refusals are instant, so later addresses inherit the time;
/// a silent address gets its share of the deadline, never all of it.
pub async fn connect(addresses: &[IpAddr], port: u16, timeout: Duration) -> TcpOutcome {
    let start = Instant::now();
    let mut failures = Vec::new();
    for (i, ip) in addresses.iter().enumerate() {
        let addr = SocketAddr::new(*ip, port);
        let remaining = timeout.saturating_sub(start.elapsed());
        let left = (addresses.len() - i) as u32;
        let budget = if left > 1 { remaining / left } else { remaining };
        match tokio::time::timeout(budget, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return TcpOutcome { elapsed: start.elapsed(), failures, connected: Some((addr, stream)) };
            }
            Ok(Err(e)) => failures.push((addr, classify(&e))),
            Err(_) => failures.push((addr, AttemptError::TimedOut)),
        }
    }
    TcpOutcome { elapsed: start.elapsed(), failures, connected: None }
}

/// A fresh connection to a known-good address, for the relaxed, legacy and plaintext stages.
pub async fn reconnect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out")),
    }
}

fn classify(e: &io::Error) -> AttemptError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => AttemptError::Refused,
        io::ErrorKind::TimedOut => AttemptError::TimedOut,
        _ => AttemptError::Other(e.to_string()),
    }
}
