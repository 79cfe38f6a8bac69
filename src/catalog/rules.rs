//! The eleven scan rules, each with its explanation. Their ids are a public contract:
//! `docs/codes.md` lists them, `docs/scan.md` says what each one catches.

use super::documented::catalogue;

catalogue! {
    /// A scan rule id (listed in `docs/codes.md`).
    pub enum Rule, "scan rule";

    AllowInvalidCertificates = "allow-invalid-certificates", Error, {
        title: "Certificate-chain validation is switched off for a MongoDB client",
        cause: "`tlsAllowInvalidCertificates=true` (or `sslAllowInvalidCertificates`, or a driver's equivalent) makes the client accept any certificate, so anyone on the network path can impersonate the cluster and read the credentials. It is usually added to \"fix\" `CERTIFICATE_VERIFY_FAILED` or `TLSV1_ALERT_INTERNAL_ERROR`; the latter is Atlas's IP access list and cannot be fixed this way at all.",
        detection: "`tlsAllowInvalidCertificates` / `sslAllowInvalidCertificates` in any spelling (camelCase, snake_case, `MONGODB_TLS_ALLOW_INVALID_CERTIFICATES`) set to a true literal, as a `--flag`, or in a connection string (URL-decoded); the drivers' equivalents: Rust/C++ `allow_invalid_certificates(true)`, libmongoc `weak_cert_validation`, Node `sslValidate: false` / `rejectUnauthorized: false`, Ruby `ssl_verify_certificate: false`, PHP `verify_peer => false` (the generic names only when handed to a MongoDB client). In an option map that a tool renders as `mongodump`/`mongosh` flags, an empty value (`tlsAllowInvalidCertificates: \"\"`) is the bare flag and counts.",
        remedy: "Remove the setting. Run `mongo-preflight probe URI` to see the real cause. Supply the right CA with `tlsCAFile` (Python: `tlsCAFile=certifi.where()`; Node: `tlsCAFile`; Java: an SSLContext with the right trust store; Go: `RootCAs`).",
        avoid: "Replacing it with `tlsInsecure=true` or a trust-all verifier is the same hole.",
    },
    AllowInvalidHostnames = "allow-invalid-hostnames", Error, {
        title: "Hostname verification is switched off for a MongoDB client",
        cause: "`tlsAllowInvalidHostnames=true` accepts a valid certificate issued for any other host, so any server with any publicly trusted certificate can impersonate the cluster.",
        detection: "`tlsAllowInvalidHostnames` / `sslAllowInvalidHostnames` in any spelling set to a true literal, as a `--flag` (or an empty value in a MongoDB tool's option map, which renders as the bare flag) or in a connection string; Java `invalidHostNameAllowed(true)`, libmongoc `allow_invalid_hostname`, Ruby `ssl_verify_hostname: false`, PyMongo 3 `ssl_match_hostname=False`, PHP `verify_peer_name => false`.",
        remedy: "Remove it and connect with a host name the server's certificate lists; re-issue the certificate with the right subjectAltName if needed.",
        avoid: "Connecting by IP address and disabling the name check is not a fix.",
    },
    TlsInsecure = "tls-insecure", Error, {
        title: "One switch disables both certificate and hostname verification",
        cause: "`tlsInsecure=true` (and its legacy alias `sslInsecure=true`), Go's `InsecureSkipVerify: true` in a Mongo client's TLS config, C#'s `AllowInsecureTls = true` (in the 2.x driver `VerifySslCertificate = false`, in its connection strings `sslVerifyCertificate=false`) and Ruby's `ssl_verify: false` relax every check at once.",
        detection: "The option or the language's equivalent set to a true literal (false for the `Verify…` names), in a MongoDB client context. The .NET names count in configuration too: `MongoDB__AllowInsecureTls=true` (`__` is .NET's section separator in environment variables) in Helm values, Kubernetes manifests and dotenv files, and `AllowInsecureTls: true` under a YAML section that names MongoDB; `Redis__AllowInsecureTls` is another client's.",
        remedy: "Remove it; supply the right CA (`tlsCAFile`, `RootCAs`, a trust store).",
        avoid: "Splitting it into `tlsAllowInvalidCertificates` and `tlsAllowInvalidHostnames` is the same hole.",
    },
    CertReqsNone = "cert-reqs-none", Error, {
        title: "PyMongo 3 `ssl_cert_reqs=CERT_NONE` disables certificate validation",
        cause: "PyMongo 3's `ssl_cert_reqs=ssl.CERT_NONE` (or the string `CERT_NONE` in a URI) turns certificate validation off.",
        detection: "`ssl_cert_reqs` set to `CERT_NONE` in any spelling, in a MongoDB client context.",
        remedy: "Remove it; on PyMongo 4 use `tlsCAFile=certifi.where()` if the system CA bundle is outdated.",
        avoid: "`tlsAllowInvalidCertificates=True` is the same thing under PyMongo 4's name.",
    },
    CustomVerifierAcceptsAll = "custom-verifier-accepts-all", Error, {
        title: "A certificate verification hook that accepts anything is handed to a MongoDB client",
        cause: "A trust-all `X509TrustManager`, a `ServerCertificateValidationCallback` returning true, a `VerifyPeerCertificate` that returns nil, or a rustls verifier that always succeeds, installed in the MongoDB client's TLS settings.",
        detection: "A verifier whose body unconditionally accepts, in a file that hands it to the MongoDB client: Java/Kotlin trust managers with an empty `checkServerTrusted` or Netty's `InsecureTrustManagerFactory` next to `applyToSslSettings`/`MongoClientSettings`; C# `ServerCertificateValidationCallback` returning true in `SslSettings` (never `ServicePointManager`); Go `VerifyPeerCertificate` returning nil in the `tls.Config` given to `SetTLSConfig`; Node `checkServerIdentity: () => undefined` in the MongoClient options.",
        remedy: "Delete the custom verifier and use the platform's default verification with the right trust anchors.",
        avoid: "Logging-and-accepting verifiers are still trust-all.",
    },
    TlsDisabledForRemoteHost = "tls-disabled-for-remote-host", Error, {
        title: "TLS is switched off towards a remote MongoDB host",
        cause: "`tls=false` / `ssl=false` to a non-local host (Atlas, `mongodb+srv`) sends credentials and data in plaintext; Atlas refuses it anyway.",
        detection: "`tls=false` / `ssl=false` in a connection string whose hosts are literals and not all local, or as a client option next to such a string in the same YAML mapping, object or call. Local means localhost, 127.0.0.0/8, ::1, host.docker.internal, or a single-label service name such as `mongo` (Docker Compose, Kubernetes); every `mongodb+srv` name is remote.",
        remedy: "Remove `tls=false`; `mongodb+srv` strings enable TLS by default.",
        avoid: "Do not turn TLS off to get around certificate errors.",
    },
    OcspCheckDisabled = "ocsp-check-disabled", Error, {
        title: "OCSP endpoint checking is switched off",
        cause: "`tlsDisableOCSPEndpointCheck=true` stops the driver from asking the CA whether the certificate was revoked.",
        detection: "The option set to a true literal.",
        remedy: "Remove it; if OCSP responders are unreachable from your network, allow egress to them.",
        avoid: "Do not switch off revocation checks to silence network errors.",
    },
    RevocationCheckDisabled = "revocation-check-disabled", Error, {
        title: "Certificate revocation checking is switched off",
        cause: "`tlsDisableCertificateRevocationCheck=true` makes the client accept revoked certificates.",
        detection: "The option set to a true literal.",
        remedy: "Remove it.",
        avoid: "Do not switch off revocation checks to silence network errors.",
    },
    AccessListOpenToWorld = "access-list-open-to-world", Error, {
        title: "An Atlas IP access list is opened to every address (0.0.0.0/0 or ::/0)",
        cause: "Teams that meet Atlas's `TLSV1_ALERT_INTERNAL_ERROR` (the runner's IP is not on the project's IP access list) often open the list to the whole internet: a Terraform entry commented \"allow all\" or \"TEMP - DEBUG ONLY\", a scheduled workflow that re-adds `0.0.0.0/0` every week, a setup guide's step for GitHub-hosted runners. It is the network-level twin of `tlsAllowInvalidCertificates`: the cluster then accepts connections from anywhere and only the database password protects it.",
        detection: "`0.0.0.0/0` or `::/0` as the value of `cidr_block`/`cidrBlock`/`CIDRBlock` inside Terraform `mongodbatlas_project_ip_access_list` or `mongodbatlas_access_list_api_key` (and the old `mongodbatlas_project_ip_whitelist`), the Atlas Kubernetes Operator's `projectIpAccessList` or `AtlasIPAccessList`, CloudFormation `MongoDB::Atlas::ProjectIpAccessList`, or Pulumi `ProjectIpAccessList` in any language; in an Admin API request body next to an `/accessList` or `/whitelist` path (v2 and v1.0); and as the entry of `atlas accessLists create` (or `mongocli atlas whitelist create`) in scripts and workflows. Specific CIDRs, `--currentIp`, AWS security groups and routes, `net.bindIp: 0.0.0.0`, comments and documentation are not flagged.",
        remedy: "Remove the entry. Give CI its own way in: `mongo-preflight check --atlas-temporary-access 30m` adds the runner's IP/32 with an expiry, waits until it is ACTIVE and deletes it at the end of the run, or `atlas accessLists create --currentIp --deleteAfter TIME`; for permanent access list the exact egress ranges, or use private endpoints.",
        avoid: "A \"temporary\" `0.0.0.0/0` that a job removes later is still open while it exists, and stays open whenever the clean-up fails.",
    },
    ServerTlsOptional = "server-tls-optional", Error, {
        title: "The MongoDB server accepts plaintext connections although TLS is set up",
        cause: "`net.tls.mode: preferTLS` or `allowTLS` (the deprecated `net.ssl.mode: preferSSL` / `allowSSL`) makes mongod and mongos accept unencrypted connections next to TLS ones, so one client that forgets `tls=true` sends its credentials and data in plaintext, and nothing on the server side notices. `allowTLS` also makes the node's own connections to the other members plaintext. The setting is meant for the few minutes of a rolling upgrade to TLS and is often left behind; operators and charts write it for you (the Percona operator's `spec.tls.mode`, the Community operator's `tls.optional: true`, KubeDB's `sslMode`, the Bitnami chart's `tls.mode`).",
        detection: "`allowTLS`, `preferTLS`, `allowSSL` or `preferSSL` as the value of `net.tls.mode` / `net.ssl.mode` in mongod and mongos YAML configuration (also inside an operator's or chart's embedded mongod configuration), of `tlsMode` / `sslMode` in the legacy `key = value` format, of `--tlsMode` / `--sslMode` on a command line (Dockerfiles, compose `command:`, Kubernetes `args`, Helm `extraFlags`, systemd units, scripts), of the Percona operator's and chart's `tls.mode`, KubeDB's `sslMode` and the Bitnami chart's `tls.mode`; the Community operator's `spec.security.tls.optional: true` in a `MongoDBCommunity` resource. Only a value that is written counts (an operator's default is not a finding); `requireTLS`, `disabled`, comparisons, validation lists, comments and documentation stay silent.",
        remedy: "Set the mode to `requireTLS` (`--tlsMode requireTLS`, `tls.mode: requireTLS`, `sslMode: requireSSL`, `tls.optional: false`) once every client connects with TLS; run `mongo-preflight probe URI` against each client's connection string first.",
        avoid: "Keeping `preferTLS` \"until all clients are migrated\" without a date: nothing forces the migration to end, and a plaintext client is invisible.",
    },
    ServerOldTlsEnabled = "server-old-tls-enabled", Error, {
        title: "The MongoDB server or Atlas cluster accepts TLS 1.0 or TLS 1.1",
        cause: "TLS 1.0 and 1.1 are deprecated (RFC 8996) and lack the cipher suites modern clients insist on. Atlas's `minimum_enabled_tls_protocol` lowered to `TLS1_0` or `TLS1_1` (usually for one old driver), or a mongod `disabledProtocols` list that leaves 1.0 or 1.1 out (`none` re-enables TLS 1.0, which mongod 4.0+ otherwise disables), lets every client negotiate down to them.",
        detection: "Atlas's minimum TLS protocol set to `TLS1_0` or `TLS1_1`: Terraform `minimum_enabled_tls_protocol` in `mongodbatlas_advanced_cluster` / `mongodbatlas_cluster` (provider 1.x block and 2.x attribute forms, and through variables, `.tfvars`, `locals`, `for_each` maps and module inputs), Admin API bodies (`minimumEnabledTlsProtocol`, also under `advancedConfiguration`), `atlas clusters advancedSettings update --tlsProtocol`, CloudFormation `MinimumEnabledTLSProtocol`, the Atlas Kubernetes Operator's `spec.processArgs.minimumEnabledTlsProtocol`, Pulumi in TypeScript, Python, Go and YAML, and atlas-sdk-go's `MinimumEnabledTlsProtocol`. mongod and mongos `net.tls.disabledProtocols` / `net.ssl.disabledProtocols`, `tlsDisabledProtocols` / `sslDisabledProtocols` and `--tlsDisabledProtocols` / `--sslDisabledProtocols` set to `none` or to a list without both `TLS1_0` and `TLS1_1`. `TLS1_2`, `TLS1_3`, `TLS1_0,TLS1_1`, other products' settings (Azure `min_tls_version`, Cosmos DB `minimalTlsVersion`, nginx, Redis, PostgreSQL, DocumentDB), comparisons and validation blocks stay silent.",
        remedy: "Raise the minimum to `TLS1_2` (`minimum_enabled_tls_protocol = \"TLS1_2\"`, `--tlsProtocol TLS1_2`); on mongod, disable both old versions (`disabledProtocols: TLS1_0,TLS1_1`). Upgrade the client that needed the old protocol: every supported MongoDB driver speaks TLS 1.2.",
        avoid: "Atlas no longer supports TLS 1.0 and 1.1 and upgrades clusters that still allow them, so the setting also drifts from what the cluster really does.",
    },
}

/// One example a rule must catch (`flagged`) or must not (`clean`): a file name, which decides
/// the language, and its text.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    pub path: &'static str,
    pub text: &'static str,
    pub flagged: bool,
}

const fn bad(path: &'static str, text: &'static str) -> Example {
    Example { path, text, flagged: true }
}

const fn ok(path: &'static str, text: &'static str) -> Example {
    Example { path, text, flagged: false }
}

impl Rule {
    /// Test cases of the rule, next to its definition; each flagged one is flagged on line 1.
    pub fn examples(self) -> &'static [Example] {
        match self {
            Rule::AllowInvalidCertificates => {
                const E: &[Example] = &[
                    bad("app.py", "MongoClient(uri, tlsAllowInvalidCertificates=True)"),
                    bad(".env", "MONGODB_TLS_ALLOW_INVALID_CERTIFICATES=true"),
                    bad("ci.sh", "mongosh \"$URI\" --sslAllowInvalidCertificates"),
                    ok("app.py", "MongoClient(uri, tlsAllowInvalidCertificates=False)"),
                    ok("app.py", "MongoClient(uri, tlsAllowInvalidCertificates=os.getenv('X') == 'true')"),
                    ok("app.py", "# MongoClient(uri, tlsAllowInvalidCertificates=True)"),
                    ok("ui.ts", "const tlsAllowInvalidCertificatesBanner = true;"),
                ];
                E
            }
            Rule::AllowInvalidHostnames => {
                const E: &[Example] = &[
                    bad("db.js", "new MongoClient(uri, { tlsAllowInvalidHostnames: true })"),
                    bad(
                        "Db.java",
                        "MongoClientSettings.builder().applyToSslSettings(b -> b.invalidHostNameAllowed(true))",
                    ),
                    bad("restore.json", "{\"mongorestore\": {\"--tlsAllowInvalidHostnames\": \"\"}}"),
                    ok("db.js", "new MongoClient(uri, { tlsAllowInvalidHostnames: 'false' === flag })"),
                    ok("audit.sh", "grep -rn 'tlsAllowInvalidHostnames=true' src/"),
                ];
                E
            }
            Rule::TlsInsecure => {
                const E: &[Example] = &[
                    bad("values.yaml", "uri: mongodb+srv://c.example.net/?tlsInsecure=true"),
                    bad("Db.cs", "var s = new MongoClientSettings { AllowInsecureTls = true };"),
                    bad("db.rb", "Mongo::Client.new(hosts, ssl_verify: false)"),
                    bad("Db.cs", "var s = new MongoClientSettings { VerifySslCertificate = false };"),
                    bad("values.yaml", "MongoDB__AllowInsecureTls: \"true\""),
                    bad(
                        "db.go",
                        "uri := \"mongodb://\" + user + \":\" + url.QueryEscape(pw) + \"@h.example.net/?sslInsecure=true\"",
                    ),
                    ok(".env", "Redis__AllowInsecureTls=true\nMONGODB_URI=mongodb://h.example.net/"),
                    ok("guard.go", "if strings.Contains(uri, \"tlsInsecure=true\") { return errInsecure } // mongo"),
                    ok(
                        "main.go",
                        "c, _ := mongo.Connect(ctx, options.Client().SetTLSConfig(caCfg)); tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}",
                    ),
                    ok("compose.yml", "MONGODB_TLS_INSECURE: ${MONGODB_TLS_INSECURE:-false}"),
                ];
                E
            }
            Rule::CertReqsNone => {
                const E: &[Example] = &[
                    bad("app.py", "MongoClient(uri, ssl_cert_reqs=ssl.CERT_NONE)"),
                    bad("app.ini", "url = mongodb://h.example.net/?ssl=true&ssl_cert_reqs=CERT_NONE"),
                    bad(
                        "app.py",
                        "uri = \"mongodb+srv://u:\" + quote(p) + \"@c.example.net/?ssl=true&ssl_cert_reqs=CERT_NONE\"",
                    ),
                    ok("app.py", "redis.Redis(ssl_cert_reqs=ssl.CERT_NONE)"),
                    ok(
                        "app.py",
                        "uri = \"mongodb+srv://u:\" + quote(p) + \"@c.example.net/?ssl=true&ssl_cert_reqs=CERT_REQUIRED\"",
                    ),
                ];
                E
            }
            Rule::CustomVerifierAcceptsAll => {
                const E: &[Example] = &[
                    bad(
                        "Db.cs",
                        "var m = new MongoClientSettings { SslSettings = new SslSettings { ServerCertificateValidationCallback = (s, c, ch, e) => true } };",
                    ),
                    bad("db.ts", "new MongoClient(uri, { checkServerIdentity: () => undefined })"),
                    ok(
                        "Db.cs",
                        "ServicePointManager.ServerCertificateValidationCallback = (s, c, ch, e) => true; var m = new MongoClientSettings();",
                    ),
                ];
                E
            }
            Rule::TlsDisabledForRemoteHost => {
                const E: &[Example] = &[
                    bad(".env", "MONGODB_URI=mongodb+srv://c.example.net/?tls=false"),
                    ok(".env", "MONGODB_URI=mongodb://localhost:27017/?tls=false"),
                    ok(".env", "MONGODB_URI=mongodb+srv://c.example.net/?tls=true"),
                ];
                E
            }
            Rule::OcspCheckDisabled => {
                const E: &[Example] = &[
                    bad("app.py", "MongoClient(uri, tlsDisableOCSPEndpointCheck=True)"),
                    ok("app.py", "MongoClient(uri, tlsDisableOCSPEndpointCheck=False)"),
                ];
                E
            }
            Rule::RevocationCheckDisabled => {
                const E: &[Example] = &[
                    bad("db.ts", "new MongoClient(uri, { tlsDisableCertificateRevocationCheck: true })"),
                    ok("db.ts", "new MongoClient(uri, { tlsDisableCertificateRevocationCheck: false })"),
                ];
                E
            }
            Rule::AccessListOpenToWorld => {
                const E: &[Example] = &[
                    bad(
                        "atlas.tf",
                        "resource \"mongodbatlas_project_ip_access_list\" \"ci\" { cidr_block = \"0.0.0.0/0\" }",
                    ),
                    bad("ci.sh", "atlas accessLists create 0.0.0.0/0 --type cidrBlock"),
                    ok(
                        "atlas.tf",
                        "resource \"mongodbatlas_project_ip_access_list\" \"ci\" { cidr_block = \"203.0.113.0/24\" }",
                    ),
                    ok("sg.tf", "resource \"aws_security_group\" \"db\" { ingress { cidr_blocks = [\"0.0.0.0/0\"] } }"),
                    ok("ci.sh", "atlas accessLists create --currentIp --deleteAfter \"$EXPIRY\""),
                ];
                E
            }
            Rule::ServerTlsOptional => {
                const E: &[Example] = &[
                    bad(
                        "mongod.conf",
                        "net: {port: 27017, tls: {mode: preferTLS, certificateKeyFile: /etc/ssl/mongod.pem}}",
                    ),
                    bad(
                        "Dockerfile",
                        "CMD [\"mongod\", \"--tlsMode\", \"allowTLS\", \"--tlsCertificateKeyFile\", \"/etc/ssl/mongod.pem\"]",
                    ),
                    ok(
                        "mongod.conf",
                        "net: {port: 27017, tls: {mode: requireTLS, certificateKeyFile: /etc/ssl/mongod.pem}}",
                    ),
                    ok("check.sh", "[ \"$(yq '.net.tls.mode' /etc/mongod.conf)\" = \"preferTLS\" ] && exit 1"),
                ];
                E
            }
            Rule::ServerOldTlsEnabled => {
                const E: &[Example] = &[
                    bad(
                        "atlas.tf",
                        "resource \"mongodbatlas_advanced_cluster\" \"db\" { advanced_configuration { minimum_enabled_tls_protocol = \"TLS1_0\" } }",
                    ),
                    bad("mongod.conf", "net: {tls: {mode: requireTLS, disabledProtocols: none}}"),
                    ok(
                        "atlas.tf",
                        "resource \"mongodbatlas_advanced_cluster\" \"db\" { advanced_configuration { minimum_enabled_tls_protocol = \"TLS1_2\" } }",
                    ),
                    ok("storage.tf", "resource \"azurerm_storage_account\" \"logs\" { min_tls_version = \"TLS1_0\" }"),
                    ok("mongod.conf", "net: {tls: {mode: requireTLS, disabledProtocols: \"TLS1_0,TLS1_1\"}}"),
                ];
                E
            }
        }
    }
}
