//! Every diagnosis code, with its severity and its explanation, defined in one place.

use super::documented::catalogue;

catalogue! {
    /// A stable diagnosis code (see docs/codes.md). The id is the public name.
    pub enum DiagnosisCode, "diagnosis code";

    DnsSrvNotFound = "dns-srv-not-found", Error, {
        title: "No SRV record exists for the mongodb+srv host name",
        cause: "A `mongodb+srv://NAME` string is expanded by looking up `_mongodb._tcp.NAME`. When that record does not exist the cluster was deleted, paused (Atlas serverless/free tiers), renamed, or the name has a typo. Some corporate resolvers also drop SRV queries.",
        detection: "An SRV query for `_mongodb._tcp.NAME` through the configured resolver returned NXDOMAIN or no SRV answer.",
        remedy: "Copy the connection string again from Atlas (Connect > Drivers) and compare the host name; check the cluster still exists and is not paused. If your network's resolver cannot answer SRV, use the standard (non-SRV) seed-list string Atlas also offers, or point the runner at a resolver that can.",
        avoid: "Nothing TLS-related can fix a missing DNS record; do not touch TLS settings.",
    },
    DnsHostNotFound = "dns-host-not-found", Error, {
        title: "A host name does not resolve to any address",
        cause: "The name has no A/AAAA record: a typo, a deleted host, a private name queried from outside its network, or an SRV target that no longer exists.",
        detection: "An A/AAAA lookup through the configured resolver returned NXDOMAIN or no address.",
        remedy: "Check the spelling of the host; for private endpoints (VPC peering, PrivateLink) make sure the runner uses the resolver of that network (`--dns-server`).",
        avoid: "Do not add `/etc/hosts` entries pointing at guessed addresses; TLS settings are irrelevant here.",
    },
    DnsLookupFailed = "dns-lookup-failed", Error, {
        title: "The DNS server failed to answer",
        cause: "The resolver itself failed (SERVFAIL, REFUSED or no answer in time). The cluster may be fine; the resolver or the network path to it is at fault.",
        detection: "The lookup returned a server failure, a refusal, or timed out within the stage deadline.",
        remedy: "Retry; check the runner's DNS configuration and egress to port 53; try another resolver with `--dns-server`.",
        avoid: "Do not conclude the cluster is gone, and do not change TLS settings.",
    },
    SrvInvalidTarget = "srv-invalid-target", Error, {
        title: "An SRV target is outside the SRV name's parent domain",
        cause: "The Initial DNS Seedlist Discovery spec requires every SRV target to share the SRV name's parent domain; drivers reject records that point elsewhere, as a defence against DNS hijacking.",
        detection: "An SRV answer named a target whose domain does not end with the parent domain of the queried name.",
        remedy: "Fix the SRV records so their targets live under the same parent domain, or use a standard seed-list connection string.",
        avoid: "Do not work around it by disabling hostname verification.",
    },
    TcpConnectionRefused = "tcp-connection-refused", Error, {
        title: "Nothing listens on the host and port",
        cause: "The host answered the TCP SYN with a reset: no server on that port, a stopped mongod, or a wrong port in the connection string.",
        detection: "Every resolved address refused the TCP connection.",
        remedy: "Check the port (Atlas uses 27017; sharded clusters 27016 for mongos via SRV), and that the server is running.",
        avoid: "TLS settings cannot help: no TLS conversation ever started.",
    },
    TcpConnectTimeout = "tcp-connect-timeout", Error, {
        title: "No TCP answer in time",
        cause: "A firewall silently drops the packets: the runner's egress to port 27017 is blocked, a security group or the server's firewall drops it, or the host is down.",
        detection: "No address completed a TCP handshake before the stage deadline.",
        remedy: "Allow egress to the cluster's port from the runner; on Atlas with private endpoints, make sure the runner is inside the peered network. Test with `nc -vz HOST 27017` from the same runner.",
        avoid: "TLS settings cannot help: no TLS conversation ever started.",
    },
    IpAccessListRejected = "ip-access-list-rejected", Error, {
        title: "The server refused the TLS ClientHello with a fatal internal_error alert: likely the IP access list",
        cause: "MongoDB Atlas's front end answers the ClientHello of a client whose public IP is not on the project's IP access list with a fatal TLS alert `internal_error` (record `15 03 03 00 02 02 50`). Python shows it as `[SSL: TLSV1_ALERT_INTERNAL_ERROR]`, Node as `SSL alert number 80`. It is sent before any certificate is exchanged. The alert is occasionally sent for other reasons, so this is the likely cause, not a certainty.",
        detection: "The strict handshake received alert `internal_error` in response to the ClientHello, and the relaxed handshake (no verification) received the same alert.",
        remedy: "In Atlas, open Security > Network Access (the project's IP Access List) and add the runner's egress IP address (for GitHub-hosted runners, use a self-hosted runner or larger runner with a static IP, or Atlas's temporary access entries from the workflow via the Atlas Admin API). Then re-run.",
        avoid: "`tlsAllowInvalidCertificates=true` or `tlsInsecure=true` cannot fix this: the server refuses before any certificate is checked. No certificate, CA bundle or TLS version setting changes it.",
    },
    TlsHandshakeTimeout = "tls-handshake-timeout", Error, {
        title: "TCP connects, but no TLS answer arrives in time",
        cause: "Something accepted the connection but did not answer the ClientHello: a plaintext server that waits for the client to speak, a proxy, or an overloaded server.",
        detection: "The TCP connection succeeded and the strict handshake saw no bytes before the stage deadline; a plaintext hello did not answer either.",
        remedy: "Check that the port is the MongoDB port and that the server is configured for TLS (`net.tls.mode`), and that no proxy between the runner and the server swallows traffic.",
        avoid: "Disabling verification does not make a silent server answer.",
    },
    ServerNotTls = "server-not-tls", Error, {
        title: "The peer does not speak TLS",
        cause: "The connection string asks for TLS (`tls=true` or `mongodb+srv`), but the server on that port is plaintext MongoDB or another protocol (HTTP, SSH, ...).",
        detection: "The server answered the ClientHello with non-TLS bytes, or the handshake timed out or was closed and a plaintext MongoDB `hello` on a fresh connection then succeeded.",
        remedy: "Either enable TLS on the server (`net.tls.mode: requireTLS`) or, for a local development server only, connect to it without TLS. Check the port: you may be talking to another service.",
        avoid: "Do not disable certificate verification: the problem is not the certificate. Never send production credentials in plaintext.",
    },
    TlsProtocolMismatch = "tls-protocol-mismatch", Error, {
        title: "Client and server share no TLS version or cipher suite",
        cause: "The server only offers TLS 1.0/1.1 or old cipher suites, or requires something the client does not offer. MongoDB Atlas stopped accepting TLS 1.0 and 1.1 in July 2025; modern clients (rustls, OpenSSL 3 at default security level) offer only TLS 1.2 and 1.3.",
        detection: "A `protocol_version` or `handshake_failure` alert answered the ClientHello, or the server closed a modern ClientHello while a hand-built TLS 1.0/1.1 ClientHello got a ServerHello, whose version and cipher are shown.",
        remedy: "Upgrade the server's TLS configuration to TLS 1.2+ (`net.tls.disabledProtocols: TLS1_0,TLS1_1`) with modern ECDHE-AES-GCM suites.",
        avoid: "Do not lower the client's minimum TLS version or its security level (`@SECLEVEL=0`); TLS 1.0/1.1 are broken.",
    },
    TlsHandshakeFailed = "tls-handshake-failed", Error, {
        title: "The TLS handshake failed",
        cause: "A handshake failure that matches no more specific code: the connection was closed or reset without an alert, or an unexpected alert was received.",
        detection: "The strict handshake failed; the evidence shows the exact error, the first bytes received and the alert, if any.",
        remedy: "Read the evidence. Compare with `openssl s_client -connect HOST:PORT -servername HOST` from the same runner; check for middleboxes that intercept TLS.",
        avoid: "Do not disable verification blindly: check whether the relaxed handshake succeeded first (that is what `insecure-fallback-required` reports).",
    },
    TlsVersionBelowMinimum = "tls-version-below-minimum", Error, {
        title: "The negotiated TLS version is below the policy's minimum",
        cause: "The server negotiated an older TLS version than the policy's `min_tls_version` allows.",
        detection: "The version negotiated by the strict handshake was compared with the policy minimum.",
        remedy: "Enable TLS 1.3 (or the policy's minimum) on the server.",
        avoid: "Do not lower the policy minimum to make the gate pass.",
    },
    ClientCertificateRequired = "client-certificate-required", Error, {
        title: "The server requires a client certificate (mutual TLS)",
        cause: "The server runs with `net.tls.CAFile` and client certificate validation (`--tlsRequireClientCert` or X.509 auth). Without a certificate it accepts, it drops the connection.",
        detection: "The handshake contained a CertificateRequest, and the server then refused (alert `certificate_required`/`bad_certificate`, or a close on the first read under TLS 1.3) the connection.",
        remedy: "Pass the client certificate and key as one PEM with `tlsCertificateKeyFile=PATH` in the connection string (or the policy's client certificate settings); make sure it is signed by the CA the server trusts and has the clientAuth extended key usage.",
        avoid: "Disabling server certificate verification has nothing to do with client certificates and does not help.",
    },
    CertExpired = "cert-expired", Error, {
        title: "A certificate of the server's chain has expired",
        cause: "The leaf or an intermediate certificate is past its notAfter date; or the runner's clock is wrong.",
        detection: "The presented chain was parsed, and notAfter was compared with the current time.",
        remedy: "Renew the certificate on the server (and deploy the new chain). If the certificate looks valid, check the runner's clock.",
        avoid: "`tlsAllowInvalidCertificates=true` hides the expiry and accepts any certificate, including an attacker's.",
    },
    CertNotYetValid = "cert-not-yet-valid", Error, {
        title: "A certificate of the server's chain is not valid yet",
        cause: "The certificate's notBefore is in the future: it was deployed too early, or the runner's clock is behind.",
        detection: "The presented chain was parsed, and notBefore was compared with the current time.",
        remedy: "Check the runner's clock (NTP); otherwise wait for the validity period or re-issue the certificate.",
        avoid: "Do not disable certificate validation.",
    },
    CertHostnameMismatch = "cert-hostname-mismatch", Error, {
        title: "The certificate does not name the host",
        cause: "No subjectAltName of the leaf matches the host name in the connection string: connecting by IP or an alias, a certificate for another host, or a load balancer's certificate.",
        detection: "The leaf's DNS and IP subjectAltNames were compared with the host name the client used (judged independently of dates and chain).",
        remedy: "Connect with a host name the certificate lists (shown in the evidence), or re-issue the certificate with the right SAN.",
        avoid: "`tlsAllowInvalidHostnames=true` lets any server with any valid certificate impersonate the cluster.",
    },
    CertUntrustedIssuer = "cert-untrusted-issuer", Error, {
        title: "The certificate chain does not reach the configured trust anchors",
        cause: "The chain ends in a root that the trust store does not hold (a private CA not supplied with `tlsCAFile`, a corporate TLS-inspecting proxy, or an outdated CA bundle), or the server sent only its leaf and its issuer cannot be found. MongoDB Atlas added Google Trust Services roots alongside Let's Encrypt in 2025: old CA bundles and pinned intermediates break.",
        detection: "Strict verification failed with an unknown issuer; the presented chain was not self-signed and did not name its issuer's location.",
        remedy: "Supply the right CA with `tlsCAFile` (or `--ca-file`); update the system CA bundle (`ca-certificates`, `certifi`); do not pin intermediates. If the server sent only its leaf, configure it to send the full chain.",
        avoid: "`tlsAllowInvalidCertificates=true` accepts certificates from anyone, including a man in the middle.",
    },
    CertSelfSigned = "cert-self-signed", Error, {
        title: "The server presents a self-signed certificate",
        cause: "The leaf is its own issuer and is not a trust anchor: a development certificate, or a TLS-intercepting device.",
        detection: "Strict verification failed with an unknown issuer, and the leaf's issuer equals its subject and its signature verifies with its own key.",
        remedy: "Issue the server a certificate from a CA and pass that CA with `tlsCAFile`; for a deliberate self-signed certificate, pass the certificate itself as `tlsCAFile`.",
        avoid: "`tlsAllowInvalidCertificates=true` is not a substitute for trusting the one certificate you mean.",
    },
    CertInvalid = "cert-invalid", Error, {
        title: "The certificate is unusable for a TLS server",
        cause: "A defect other than dates, name or issuer: wrong key usage or extended key usage, a CA certificate used as the leaf, a weak or unsupported signature algorithm (SHA-1), or a malformed certificate.",
        detection: "Strict verification rejected the certificate with the error shown in the evidence.",
        remedy: "Re-issue the server certificate as an end-entity certificate with serverAuth EKU and a SHA-256 (or better) signature.",
        avoid: "Do not disable verification.",
    },
    CertChainIncomplete = "cert-chain-incomplete", Error, {
        title: "The server sent its leaf certificate without the intermediate",
        cause: "The server is configured with only its own certificate. Browsers fetch the missing intermediate from the AIA caIssuers URL; MongoDB drivers do not.",
        detection: "Strict verification failed with an unknown issuer; the server sent one non-self-signed certificate whose AIA extension names its issuer's location.",
        remedy: "Configure the server's `net.tls.certificateKeyFile` with the full chain (leaf followed by intermediates). The missing certificate can be downloaded from the caIssuers URL shown in the evidence.",
        avoid: "Do not disable verification, and do not add the intermediate to clients as a trust anchor.",
    },
    CertExpiringSoon = "cert-expiring-soon", Warning, {
        title: "A certificate expires soon",
        cause: "The leaf or chain certificate's notAfter is within the policy's thresholds (default: warning under 30 days, error under 7 days).",
        detection: "The presented chain was parsed; the days until notAfter were compared with `warn_days` and `fail_days`.",
        remedy: "Renew and deploy the certificate before it expires; automate renewal.",
        avoid: "Do not silence it by raising thresholds without a renewal plan.",
    },
    InsecureFallbackRequired = "insecure-fallback-required", Error, {
        title: "Only an insecure setting would make this connection work",
        cause: "Strict TLS verification fails, but a handshake that accepts any certificate succeeds. Anyone who \"fixes\" this with `tlsAllowInvalidCertificates`, `tlsAllowInvalidHostnames` or `tlsInsecure` turns off the protection against man-in-the-middle attacks.",
        detection: "The strict handshake failed on certificate verification while the relaxed handshake (no verification, for diagnosis only) on a separate connection completed.",
        remedy: "Fix the problem named by the accompanying code (a cert-* code, `clock-skew` or `tls-interception-suspected`): supply the right `tlsCAFile`, connect by the certified host name, repair the server's chain, fix the runner's clock, or take the connection out of TLS inspection.",
        avoid: "`tlsAllowInvalidCertificates=true`, `tlsAllowInvalidHostnames=true`, `tlsInsecure=true`, `ssl_cert_reqs=CERT_NONE`, `InsecureSkipVerify`: all of them would make this work by making it insecure.",
    },
    AuthFailed = "auth-failed", Error, {
        title: "The server rejected the credentials",
        cause: "Wrong user name or password, wrong `authSource` (Atlas users live in `admin`), a user without access to this cluster, or a password with unescaped special characters in the URI.",
        detection: "TLS and `hello` succeeded; authentication through the official MongoDB driver failed with an authentication error.",
        remedy: "Check the user in Atlas (Database Access), `authSource=admin`, and percent-encode special characters in the password.",
        avoid: "TLS settings are not involved: the encrypted connection worked.",
    },
    MongoHandshakeFailed = "mongo-handshake-failed", Error, {
        title: "TLS is fine, but the MongoDB hello failed",
        cause: "The TLS connection was established, but the server did not answer MongoDB's `hello` correctly: it is not MongoDB, it closed the connection (for example a mutual-TLS refusal without an alert), or it returned an error.",
        detection: "An OP_MSG `hello` was sent over the verified TLS connection.",
        remedy: "Check that the port is a MongoDB port and look at the server log for the connection.",
        avoid: "Do not disable verification: TLS was verified successfully.",
    },
    TlsRegression = "tls-regression", Error, {
        title: "The cluster's TLS is weaker than its lock",
        cause: "`mongo-preflight.lock` holds the floor each cluster had when it was locked: the lowest TLS version any host accepts, whether every host passed strict verification, the roots its chains end in, the weakest leaf key and the host names its certificates cover. The cluster now falls below that floor: a server that accepts an older TLS version \"for one old client\", a chain that ends in another root (a private CA or a TLS-inspecting proxy in front), a smaller or weaker leaf key, or a member whose certificate no longer covers its name. Each probe may still pass on its own; the lock is what notices the weakening.",
        detection: "`check` probes the cluster as `lock` does (TLS 1.0 and 1.1 ClientHellos included, and TLS 1.2 and 1.3 offered one at a time) and compares what it observes with the cluster's floor in the lock. The evidence names the property, the lock's value and the value observed. Leaf serials and expiry dates are not in the lock, so a certificate renewed from the same roots never regresses.",
        remedy: "Restore the server's TLS settings (minimum version, certificate, key, SANs, the CA that issues it) to what the lock holds. If the change is deliberate, run `mongo-preflight lock` and commit the new `mongo-preflight.lock`: in a pull request the lowered floor is listed as a loosening for the reviewers.",
        avoid: "Do not delete the cluster from the lock to make the error go away: a missing floor only informs, and the pull request that removes it is listed as a loosening.",
    },
    TlsBaselineMissing = "tls-baseline-missing", Info, {
        title: "The cluster has no floor in the lock",
        cause: "A `mongo-preflight.lock` exists, but it holds no floor for this cluster: the cluster was added to the policy after the last `mongo-preflight lock`, renamed, or removed from the lock. Without a floor its TLS can get weaker without failing the gate.",
        detection: "`check` found a lock next to the judging policy, and no entry in it named like this cluster.",
        remedy: "Run `mongo-preflight lock` and commit `mongo-preflight.lock`.",
        avoid: "Nothing insecure is involved; only the regression check is missing.",
    },
    AtlasClusterPaused = "atlas-cluster-paused", Error, {
        title: "The Atlas Administration API reports the cluster as paused",
        cause: "A paused Atlas cluster keeps its DNS names but serves no connections, so clients time out or are refused, and the error looks like a network or TLS problem.",
        detection: "With `atlas:` configured, the project's clusters were read from the Administration API (`GET /api/atlas/v2/groups/{id}/clusters`), a probed host was found in one cluster's connection strings, and that cluster has `paused: true`.",
        remedy: "Resume the cluster (Atlas UI: the cluster's … menu > Resume; Atlas CLI: `atlas clusters start NAME`; Admin API: PATCH the cluster with `paused: false`), wait until its state is IDLE, then re-run.",
        avoid: "No TLS or access-list setting changes anything while the cluster is paused; do not open the access list or disable verification.",
    },
    AtlasAccessListOpenToWorld = "atlas-access-list-open-to-world", Error, {
        title: "The Atlas project's IP access list lets every address in (0.0.0.0/0 or ::/0)",
        cause: "Someone added `0.0.0.0/0` (or `::/0`) to the project's IP access list, usually to get CI runners with changing addresses past `TLSV1_ALERT_INTERNAL_ERROR`. It is the network-level twin of `tlsAllowInvalidCertificates`: the cluster then accepts connections from the whole internet and only the database password protects it.",
        detection: "With `atlas:` configured, every page of the project's IP access list was read from the Administration API and an entry's `cidrBlock` is `0.0.0.0/0` or `::/0` (or its `ipAddress` is `0.0.0.0` or `::`).",
        remedy: "Delete the entry (Atlas UI: Security > Network Access; Atlas CLI: `atlas accessLists delete 0.0.0.0/0`). Give CI its own way in instead: `mongo-preflight check --atlas-temporary-access 30m` adds the runner's own IP/32 with an expiry, waits until it is ACTIVE, and deletes it at the end of the run; or use runners with static egress IPs, or private endpoints.",
        avoid: "Do not \"fix\" a rejected runner by opening the list to the world, not even temporarily: a scheduled job that re-adds `0.0.0.0/0` is the same hole every week.",
    },
    AtlasApiUnavailable = "atlas-api-unavailable", Warning, {
        title: "The Atlas Administration API could not be asked",
        cause: "The credentials were refused (401), the API key's or service account's own access list does not hold the runner's address (403 `IP_ADDRESS_NOT_ON_ACCESS_LIST`, which is not the project's list), the credentials lack the role, the project does not exist, the API is rate limiting (429, with `Retry-After`), failed (5xx) or did not answer in time, or the runner's egress IP could not be found.",
        detection: "A request to the Administration API (or to the IP echo service) failed; the evidence names the request and the status, error code and detail the API gave.",
        remedy: "Check the credentials (`MONGODB_ATLAS_CLIENT_ID`/`MONGODB_ATLAS_CLIENT_SECRET` for a service account, or `MONGODB_ATLAS_PUBLIC_KEY`/`MONGODB_ATLAS_PRIVATE_KEY` for an API key), their role in the project (Project Read Only to confirm, Project Network Access Manager for temporary access), the credential's own API access list, and `atlas.project_id`. The probe's own diagnosis stands meanwhile.",
        avoid: "Do not switch off the credential's API access list to make this go away; add the runner's range to it, or use a runner with a static address.",
    },
    TlsInterceptionSuspected = "tls-interception-suspected", Error, {
        title: "A TLS-inspecting proxy or antivirus product re-signs the server's certificate",
        cause: "Corporate networks and some CI runners pass TLS through an inspecting proxy or endpoint agent (Zscaler, Netskope, Palo Alto Networks, Fortinet, Blue Coat, Forcepoint, Cisco Umbrella, Sophos, Kaspersky, mitmproxy, ...). It ends the TLS connection itself and shows the client a certificate it signed with its own root, which the client does not trust. The server is fine: the network path is not.",
        detection: "Strict verification failed, and a certificate of the presented chain is issued by or named after an inspection product (the list is in `src/diagnose/interception.rs`), or the host is an Atlas host (`*.mongodb.net`) and no certificate of the chain comes from Let's Encrypt or Google Trust Services, the only CAs Atlas uses.",
        remedy: "Either exempt the cluster from inspection (ask the network team to bypass `*.mongodb.net:27017`, or your cluster's host names and port, in the proxy's SSL inspection policy), or trust the proxy's root explicitly: export it (your IT department publishes it) and pass it with `tlsCAFile` (or `--ca-file`), in a bundle that also holds the server's real roots.",
        avoid: "`tlsAllowInvalidCertificates=true` or `tlsInsecure=true` would accept the proxy's certificate and anyone else's. Disabling verification is never the way out.",
    },
    ReplicaSetNameMismatch = "replica-set-name-mismatch", Error, {
        title: "The connection string's replicaSet differs from the server's replica set name",
        cause: "The URI (or its DNS TXT record) names `replicaSet=X`, but the server reports another `setName` in `hello`, or is not a replica set member at all (a standalone or a mongos). Drivers then find no member of set X and wait out server selection (30 s by default) with an opaque timeout.",
        detection: "The `setName` of the server's `hello` reply (read over the verified connection, or over the relaxed one when strict TLS failed) was compared with the `replicaSet` option.",
        remedy: "Use the replica set name the server reports (shown in the evidence) in `replicaSet=`, or remove the option for a standalone server or a mongos. For Atlas, copy the connection string again from Connect > Drivers.",
        avoid: "Do not raise `serverSelectionTimeoutMS`: no member of the named set will ever answer.",
    },
    ServerVersionUnsupported = "server-version-unsupported", Error, {
        title: "The server is older than current drivers support",
        cause: "The server's `maxWireVersion` is below 7, that is older than MongoDB 4.0. Current official drivers refuse such servers, with messages such as \"Server reports wire version 6, but this version of the driver requires at least 7 (MongoDB 4.0)\" that are easily misread as network problems. Some current drivers require more: the Rust driver 3.x and the Node.js driver 7.x (in mongosh 2.12) require MongoDB 4.4 (wire version 9).",
        detection: "The `maxWireVersion` of the server's `hello` (or legacy `isMaster`) reply was compared with 7.",
        remedy: "Upgrade the server to a supported MongoDB version (4.0 at the very least; better a version MongoDB still supports), or pin a driver release that still supports it while you upgrade.",
        avoid: "Do not downgrade drivers in production to dodge the upgrade: old drivers miss security fixes.",
    },
    ClockSkew = "clock-skew", Error, {
        title: "The runner's clock is off, and that makes a valid certificate look invalid",
        cause: "The runner's clock differs from the server's by more than 5 minutes (a VM restored from a snapshot, a container without time sync, a wrong time zone setting on a system clock). Certificate dates are compared with the local clock, so a certificate that is valid by the server's clock looks not yet valid or expired.",
        detection: "Strict verification failed on a validity date; the server's `hello` `localTime` (read over the relaxed connection, which carries no credentials) differs from the runner's clock by more than 5 minutes, and at the server's time every certificate of the chain is within its validity.",
        remedy: "Fix the runner's clock: enable time synchronisation (NTP, `systemd-timesyncd`, `chrony`), and check the host clock of the VM or container. If the server's clock is the wrong one, fix it there.",
        avoid: "Do not disable certificate validation, and do not re-issue the certificate: it is valid.",
    },
    CaBundleIncomplete = "ca-bundle-incomplete", Error, {
        title: "A CA file lacks a root the server's certificate authorities need",
        cause: "The run uses a CA file (`tlsCAFile`, `--ca-file`, the policy's `ca_file`, or one the repository's MongoDB settings point at) that replaces the system's trust store, and it lacks a root the server's CA family needs. Atlas issues cluster certificates from Let's Encrypt (ISRG Root X1) and Google Trust Services (GTS Root R1-R4); a bundle with only one of them works until the cluster's next certificate comes from the other CA, then fails with CERTIFICATE_VERIFY_FAILED.",
        detection: "Every certificate of the CA file is parsed; roots are identified by subject and public key (SHA-256 of the SubjectPublicKeyInfo), never by file name. For Atlas hosts, ISRG Root X1 and GTS Root R1-R4 are required (an error); for other hosts whose chain comes from Let's Encrypt or Google Trust Services, that family's roots are required (a warning).",
        remedy: "Add the missing roots named in the evidence to the CA file. ISRG Root X1: https://letsencrypt.org/certs/isrgrootx1.pem; GTS Root R1-R4: https://pki.goog/repository/. Better, drop the custom CA file and use the operating system's store or certifi, which hold them all.",
        avoid: "Do not \"fix\" the day it breaks with `tlsAllowInvalidCertificates`: add the roots now.",
    },
    CaPinsIntermediate = "ca-pins-intermediate", Warning, {
        title: "A CA file holds intermediate certificates without their roots",
        cause: "The CA file trusts an intermediate CA directly (for example Let's Encrypt R10/R11/E5/E6, or a GTS WE1/WR1 intermediate) but not the root that issued it. Public CAs rotate their intermediates often; the day the server's certificate comes from another intermediate, verification fails.",
        detection: "Every certificate of the CA file is parsed; a CA certificate whose issuer differs from its subject (not self-signed) is an intermediate, and its issuer was looked for among the file's roots.",
        remedy: "Replace the intermediates with the roots that issued them (named in the evidence); for Atlas, ISRG Root X1 and GTS Root R1-R4. Servers send their intermediates in the handshake; clients need only roots.",
        avoid: "Do not pin intermediates or leaf certificates, and do not disable verification when the pinned one rotates.",
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Documented;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in DiagnosisCode::ALL {
            assert_eq!(DiagnosisCode::from_id(code.id()), Some(*code));
            assert!(seen.insert(code.id()), "duplicate id {}", code.id());
            assert!(!code.explanation().remedy.is_empty());
        }
        assert_eq!(DiagnosisCode::ALL.len(), 35);
    }
}
