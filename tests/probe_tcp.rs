//! The TCP stage tries a host's addresses one by one, as the drivers do.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use mongo_preflight::probe::tcp::{self, AttemptError};

#[tokio::test]
async fn a_dead_ipv6_address_falls_through_to_a_live_ipv4_one() {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let addresses = [IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let outcome = tcp::connect(&addresses, port, Duration::from_secs(2)).await;
    let (connected, _stream) = outcome.connected.expect("the IPv4 address answers");
    assert_eq!(connected.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
    assert_eq!(outcome.failures[0].0.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
}

#[tokio::test]
async fn every_address_refusing_is_reported_address_by_address() {
    // Bind, learn a free port, and close it again: nothing listens there now.
    let port = {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let addresses = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))];
    let outcome = tcp::connect(&addresses, port, Duration::from_secs(2)).await;
    assert!(outcome.connected.is_none());
    let tried: Vec<_> = outcome.failures.iter().map(|(a, e)| (a.ip(), e.clone())).collect();
    assert_eq!(
        tried,
        vec![
            (IpAddr::V4(Ipv4Addr::LOCALHOST), AttemptError::Refused),
            (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), AttemptError::Refused)
        ]
    );
}
