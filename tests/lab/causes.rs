//! Endpoints for the causes that live above TLS or beside it: what the server says in `hello`
//! (replica set name, wire version, clock), who issued its chain (an inspecting proxy, a
//! look-alike of Atlas's CAs), and the CA bundles a client brings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use time::{Duration as Days, OffsetDateTime};

use super::certs::{LeafSpec, Pki};
use super::fake_mongo::{self, HelloSpec};
use super::tls::{self, ProxyOptions};
use super::{ATLAS_ZONE, Endpoint, Transport, lab_name, names_for};

/// The replica set name the `rs-*` fake servers report.
pub const SET_NAME: &str = "rs-actual";

const NO_CLIENT_AUTH: ProxyOptions = ProxyOptions { tls12_only: false, client_roots: None };

/// Files the cases need, by name (see [`add`]); `bundle_fake_isrg` holds a root named
/// "ISRG Root X1" with another key, besides the real GTS roots.
pub type Files = BTreeMap<&'static str, PathBuf>;

fn with_option(mut endpoint: Endpoint, option: &str) -> Endpoint {
    endpoint.uri.push_str(&format!("&{option}"));
    endpoint
}

/// Real roots, PEM, by the name this lab uses for them: the repository's copies
/// (tests/fixtures/roots), not a distribution's `/etc/ssl/certs` names.
pub fn system_root(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roots").join(format!("{name}.pem"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("lab: no root {} ({e})", path.display()))
}

/// The real roots MongoDB asks Atlas clients to trust.
pub const ATLAS_ROOTS: [&str; 5] = ["ISRG_Root_X1", "GTS_Root_R1", "GTS_Root_R2", "GTS_Root_R3", "GTS_Root_R4"];

pub async fn add(endpoints: &mut BTreeMap<String, Endpoint>, pki: &Pki, upstream: SocketAddr) -> Files {
    let mut files = Files::new();
    let mut put = |endpoint: Endpoint| {
        endpoints.insert(endpoint.name.clone(), endpoint);
    };
    let now = OffsetDateTime::now_utc();
    let fake = |leaf: LeafSpec, spec: HelloSpec| {
        let identity = pki.issue(&leaf);
        fake_mongo::serve(tls::server_config(&identity, &NO_CLIENT_AUTH), spec)
    };
    let server = |name: &'static str| LeafSpec::server(name, names_for(name));
    let replica = HelloSpec { set_name: Some(SET_NAME.to_string()), ..HelloSpec::standalone(21) };

    // Replica set names.
    let port = fake(server("rs-mismatch"), replica.clone()).await;
    put(with_option(
        Endpoint::new(
            "rs-mismatch",
            lab_name("rs-mismatch"),
            port,
            Transport::Tls,
            &["replica-set-name-mismatch"],
            "a replica set member named rs-actual, asked for replicaSet=rs-expected",
        ),
        "replicaSet=rs-expected",
    ));
    let port = fake(server("rs-match"), replica.clone()).await;
    put(with_option(
        Endpoint::new(
            "rs-match",
            lab_name("rs-match"),
            port,
            Transport::Tls,
            &[],
            "a replica set member named rs-actual, asked for replicaSet=rs-actual (look-alike)",
        ),
        &format!("replicaSet={SET_NAME}"),
    ));
    let port = fake(server("rs-standalone"), HelloSpec::standalone(21)).await;
    put(with_option(
        Endpoint::new(
            "rs-standalone",
            lab_name("rs-standalone"),
            port,
            Transport::Tls,
            &["replica-set-name-mismatch"],
            "a standalone server, asked for replicaSet=rs0",
        ),
        "replicaSet=rs0",
    ));
    let port = fake(server("rs-not-asked"), replica.clone()).await;
    put(Endpoint::new(
        "rs-not-asked",
        lab_name("rs-not-asked"),
        port,
        Transport::Tls,
        &[],
        "a replica set member, with no replicaSet in the connection string (look-alike)",
    ));

    // Wire versions; servers before 4.4.2 know only the legacy isMaster.
    let old = |wire| HelloSpec { knows_hello: false, ..HelloSpec::standalone(wire) };
    let port = fake(server("wire-6"), old(6)).await;
    put(Endpoint::new(
        "wire-6",
        lab_name("wire-6"),
        port,
        Transport::Tls,
        &["server-version-unsupported"],
        "answers only the legacy isMaster (OP_QUERY) with maxWireVersion 6 (MongoDB 3.6)",
    ));
    let port = fake(server("wire-7"), old(7)).await;
    put(Endpoint::new(
        "wire-7",
        lab_name("wire-7"),
        port,
        Transport::Tls,
        &[],
        "answers only the legacy isMaster (OP_QUERY) with maxWireVersion 7 (MongoDB 4.0; look-alike)",
    ));

    // Clocks: the certificate is judged by the runner's clock; the server's says otherwise.
    let skewed = |offset| HelloSpec { clock_offset: offset, ..HelloSpec::standalone(21) };
    let port = fake(
        LeafSpec { not_before: now + Days::days(30), not_after: now + Days::days(400), ..server("clock-behind") },
        skewed(Days::days(35)),
    )
    .await;
    put(Endpoint::new(
        "clock-behind",
        lab_name("clock-behind"),
        port,
        Transport::Tls,
        &["clock-skew", "insecure-fallback-required"],
        "leaf valid from 30 days from now; the server's localTime is 35 days ahead (the runner's clock is behind)",
    ));
    // The same server again, for the one test that counts what reaches it: no other test
    // sends it anything.
    let port = fake(
        LeafSpec {
            not_before: now + Days::days(30),
            not_after: now + Days::days(400),
            ..server("clock-behind-credentials")
        },
        skewed(Days::days(35)),
    )
    .await;
    put(Endpoint::new(
        "clock-behind-credentials",
        lab_name("clock-behind-credentials"),
        port,
        Transport::Tls,
        &["clock-skew", "insecure-fallback-required"],
        "clock-behind, probed only by the test that counts the commands it receives",
    ));
    let port = fake(
        LeafSpec { not_before: now - Days::days(1), not_after: now - Days::hours(1), ..server("clock-ahead") },
        skewed(-Days::hours(3)),
    )
    .await;
    put(Endpoint::new(
        "clock-ahead",
        lab_name("clock-ahead"),
        port,
        Transport::Tls,
        &["clock-skew", "insecure-fallback-required"],
        "leaf expired an hour ago; the server's localTime is 3 hours behind (the runner's clock is ahead)",
    ));
    let port = fake(server("clock-skewed-valid"), skewed(Days::hours(2))).await;
    put(Endpoint::new(
        "clock-skewed-valid",
        lab_name("clock-skewed-valid"),
        port,
        Transport::Tls,
        &[],
        "valid leaf; the server's localTime is 2 hours ahead, which explains nothing (look-alike)",
    ));
    let port = fake(
        LeafSpec {
            not_before: now - Days::days(1),
            not_after: now - Days::hours(4),
            ..server("clock-skew-still-expired")
        },
        skewed(-Days::hours(1)),
    )
    .await;
    put(Endpoint::new(
        "clock-skew-still-expired",
        lab_name("clock-skew-still-expired"),
        port,
        Transport::Tls,
        &["cert-expired", "insecure-fallback-required"],
        "leaf expired 4 hours ago; the server's clock is 1 hour behind, still after notAfter (look-alike)",
    ));

    // Interception: a proxy's CA, named like a real product, re-signs the server's certificate.
    let zscaler = pki.named_ca("zscaler", "Zscaler Inc.", "Zscaler Root CA", "Zscaler Intermediate Root CA");
    files.insert("zscaler_root", zscaler.root_file.clone());
    let atlas_host = format!("cluster2-shard-00-00.{ATLAS_ZONE}");
    let intercepted = pki.issue_by(&zscaler, &LeafSpec::server("zscaler-atlas", vec![atlas_host.clone()]));
    let port = tls::proxy(&intercepted, &NO_CLIENT_AUTH, upstream).await;
    put(Endpoint::new(
        "zscaler-atlas",
        atlas_host,
        port,
        Transport::Tls,
        &["tls-interception-suspected", "insecure-fallback-required", "ca-bundle-incomplete"],
        "an Atlas-like name whose certificate a \"Zscaler Root CA\" re-signed",
    ));
    let intercepted = pki.issue_by(&zscaler, &LeafSpec::server("zscaler", names_for("zscaler")));
    let port = tls::proxy(&intercepted, &NO_CLIENT_AUTH, upstream).await;
    put(Endpoint::new(
        "zscaler",
        lab_name("zscaler"),
        port,
        Transport::Tls,
        &["tls-interception-suspected", "insecure-fallback-required"],
        "a lab name whose certificate a \"Zscaler Root CA\" re-signed (trusting that root: no code)",
    ));
    let lets_encrypt = pki.named_ca("look-alike-le", "Let's Encrypt", "ISRG Root X1", "R11");
    let atlas_host = format!("cluster3-shard-00-00.{ATLAS_ZONE}");
    let look_alike = pki.issue_by(&lets_encrypt, &LeafSpec::server("atlas-le-untrusted", vec![atlas_host.clone()]));
    let port = tls::proxy(&look_alike, &NO_CLIENT_AUTH, upstream).await;
    put(Endpoint::new(
        "atlas-le-untrusted",
        atlas_host,
        port,
        Transport::Tls,
        &["cert-untrusted-issuer", "insecure-fallback-required", "ca-bundle-incomplete"],
        "an Atlas-like name with a chain named like Let's Encrypt's that the trust does not hold (look-alike)",
    ));

    // CA bundles: the lab root with and without the real Atlas roots, and an intermediate alone.
    let atlas_host = format!("cluster4-shard-00-00.{ATLAS_ZONE}");
    let valid = pki.issue(&LeafSpec::server("atlas-valid", vec![atlas_host.clone()]));
    let port = tls::proxy(&valid, &NO_CLIENT_AUTH, upstream).await;
    put(Endpoint::new(
        "atlas-valid",
        atlas_host,
        port,
        Transport::Tls,
        &["ca-bundle-incomplete"],
        "an Atlas-like name with a valid lab chain; the lab CA file lacks ISRG Root X1 and GTS Root R1-R4",
    ));
    let (intermediate_pem, root_pem) = pki.lab_pems();
    let real: String = ATLAS_ROOTS.iter().map(|name| system_root(name)).collect();
    let dir = pki.dir();
    let mut bundle = |name: &'static str, text: String| {
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("lab: write {}: {e}", path.display()));
        files.insert(name, path);
    };
    bundle("bundle_complete", format!("{root_pem}{real}"));
    bundle("bundle_without_gts", format!("{root_pem}{}", system_root("ISRG_Root_X1")));
    let gts: String = ATLAS_ROOTS[1..].iter().map(|name| system_root(name)).collect();
    bundle("bundle_fake_isrg", format!("{root_pem}{}{gts}", lets_encrypt.root_pem()));
    bundle("bundle_intermediate_only", intermediate_pem.clone());
    bundle("bundle_intermediate_and_root", format!("{intermediate_pem}{root_pem}"));
    files
}
