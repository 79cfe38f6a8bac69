//! The policy file exactly as written: serde types that reject unknown keys and keep the
//! location of every value that a later check may need to point at.
//!
//! These types are also the source of the JSON Schema (`mongo-preflight schema`), so their doc
//! comments are what editors show while the file is being written.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::model::Severity;
use crate::model::TlsVersion;

/// mongo-preflight policy (`mongo-preflight.yml`): which clusters must be reachable over strict
/// TLS, which files are scanned for insecure TLS fallbacks, and which findings are waived until
/// when.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mongo-preflight policy")]
pub struct PolicyFile {
    /// The policy format version. Always 1.
    #[schemars(with = "PolicyVersion")]
    pub version: Spanned<u32>,
    /// Deadline in seconds for each network stage (DNS, TCP, TLS, hello, auth). Default 10.
    /// `--timeout` on the command line wins.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0.001, max = 3600.0))]
    pub timeout: Option<Spanned<f64>>,
    /// Clusters to probe, each as `mongo-preflight probe` would.
    #[serde(default)]
    #[schemars(with = "Vec<ClusterFile>")]
    pub clusters: Vec<Spanned<ClusterFile>>,
    /// What the scanner reads. Default: the whole repository.
    #[serde(default)]
    pub scan: Option<ScanFile>,
    /// Waivers: findings and diagnoses that do not fail the run, each with a reason and an
    /// expiry date.
    #[serde(default)]
    #[schemars(with = "Vec<WaiverFile>")]
    pub allow: Vec<Spanned<WaiverFile>>,
    /// Severity overrides, keyed by diagnosis code or scan rule (see `mongo-preflight explain`).
    /// `info` and `warning` never fail the run; `error` does. Raising or keeping a severity is
    /// written `ID: LEVEL`; lowering one is a waiver and is written
    /// `ID: {level: LEVEL, reason: "…", expires: YYYY-MM-DD}`.
    #[serde(default)]
    #[schemars(with = "SeverityOverrides")]
    pub severity: BTreeMap<String, Spanned<SeverityOverrideFile>>,
    /// The furthest a waiver's `expires` may lie after the day of the run, in days. Default 90.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 3650))]
    pub max_waiver_days: Option<Spanned<u32>>,
    /// The MongoDB Atlas project behind the clusters: its Administration API confirms or
    /// refutes an IP access-list rejection and can give CI temporary access (docs/atlas.md).
    #[serde(default)]
    #[schemars(with = "Option<super::atlas::AtlasFile>")]
    pub atlas: Option<Spanned<super::atlas::AtlasFile>>,
}

/// One severity override: a bare level, or a level with the reason and expiry that lowering a
/// severity needs.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum SeverityOverrideFile {
    Level(Severity),
    Waiver(SeverityWaiverFile),
}

/// A severity lowered for a while, for a reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityWaiverFile {
    pub level: Severity,
    /// Why the lower severity is acceptable, for the next reader.
    #[serde(default)]
    pub reason: Option<String>,
    /// The last day (UTC, `YYYY-MM-DD`) the lower severity applies.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub expires: Option<String>,
}

impl<'de> Deserialize<'de> for SeverityOverrideFile {
    // Written out rather than `#[serde(untagged)]`: untagged enums report "did not match any
    // variant", while this keeps the precise error of whichever form was written.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SeverityOverrideFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a severity (info, warning, error) or a mapping with `level`, `reason` and `expires`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SeverityOverrideFile, E> {
                use serde::de::IntoDeserializer;
                Severity::deserialize(v.into_deserializer()).map(SeverityOverrideFile::Level)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<SeverityOverrideFile, A::Error> {
                SeverityWaiverFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SeverityOverrideFile::Waiver)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl SeverityOverrideFile {
    pub fn level(&self) -> Severity {
        match self {
            SeverityOverrideFile::Level(level) => *level,
            SeverityOverrideFile::Waiver(w) => w.level,
        }
    }
}

/// Only version 1 exists.
struct PolicyVersion;

impl JsonSchema for PolicyVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PolicyVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "The policy format version. Always 1.", "const": 1 })
    }
}

/// One cluster to probe. Give exactly one of `uri` and `uri_env`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// A unique name, used in reports and by waivers (`allow[].cluster`).
    #[schemars(with = "String", length(min = 1))]
    pub name: Spanned<String>,
    /// The connection string, without credentials (those belong in a CI secret: use `uri_env`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub uri: Option<Spanned<String>>,
    /// The name of the environment variable that holds the connection string (a CI secret).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub uri_env: Option<Spanned<String>>,
    /// PEM trust anchors that replace the Mozilla roots for this cluster, relative to the
    /// policy file. The URI's `tlsCAFile` wins.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<Spanned<String>>,
    /// PEM file holding the client certificate and its key (mutual TLS), relative to the policy
    /// file. The URI's `tlsCertificateKeyFile` wins.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub client_cert: Option<Spanned<String>>,
    /// The name of the environment variable that holds the client certificate and key as PEM
    /// text (a CI secret), or a path to such a file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub client_cert_env: Option<Spanned<String>>,
    /// Fail when the negotiated TLS version is below this.
    #[serde(default)]
    #[schemars(with = "Option<MinTlsVersion>")]
    pub min_tls_version: Option<Spanned<MinTlsVersion>>,
    /// Warn when a certificate expires in fewer than this many days. Default 30.
    #[serde(default)]
    pub warn_days: Option<u32>,
    /// Fail when a certificate expires in fewer than this many days. Default 7.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub fail_days: Option<Spanned<u32>>,
    /// Whether the cluster must be reachable. An unreachable optional cluster only warns.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A TLS version, written `1.2` or `"1.2"` (also `TLS1.2`).
#[derive(Debug, Clone, Copy)]
pub struct MinTlsVersion(pub TlsVersion);

impl JsonSchema for MinTlsVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MinTlsVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A TLS version: 1.0, 1.1, 1.2 or 1.3.",
            "enum": ["1.0", "1.1", "1.2", "1.3", 1.0, 1.1, 1.2, 1.3]
        })
    }
}

impl<'de> Deserialize<'de> for MinTlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MinTlsVersion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a TLS version: 1.0, 1.1, 1.2 or 1.3")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MinTlsVersion, E> {
                let trimmed = v.trim();
                let number = trimmed
                    .strip_prefix("TLS")
                    .or_else(|| trimmed.strip_prefix("tls"))
                    .or_else(|| trimmed.strip_prefix("TLSv"))
                    .unwrap_or(trimmed)
                    .trim_start_matches(['v', ' ']);
                let version = match number {
                    "1.0" | "1" => TlsVersion::Tls10,
                    "1.1" => TlsVersion::Tls11,
                    "1.2" => TlsVersion::Tls12,
                    "1.3" => TlsVersion::Tls13,
                    _ => return Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                };
                Ok(MinTlsVersion(version))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<MinTlsVersion, E> {
                self.visit_str(&format!("{v:.1}"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<MinTlsVersion, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// What the scanner reads.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanFile {
    /// Files or directories to scan, relative to the repository root. Default: `["."]`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Glob patterns (relative to the repository root) to leave out, e.g. `vendor/**`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub exclude: Vec<Spanned<String>>,
    /// A git ref, for runs outside pull requests: findings already present there are kept as
    /// warnings (`new: false`); only new ones fail. In a pull request the merge base with the
    /// pull request's base commit is used instead.
    #[serde(default)]
    pub base: Option<String>,
}

/// A waiver. Give `rule` (with an optional `path` glob) or `code` (with an optional `cluster`),
/// a `reason` and an `expires` date; past that date the waiver is an error.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverFile {
    /// A scan rule id, e.g. `allow-invalid-certificates`.
    #[serde(default)]
    #[schemars(with = "Option<RuleId>")]
    pub rule: Option<Spanned<String>>,
    /// A diagnosis code, e.g. `cert-expiring-soon`.
    #[serde(default)]
    #[schemars(with = "Option<CodeId>")]
    pub code: Option<Spanned<String>>,
    /// With `rule`: a glob over repository-relative paths (`*` stays within one directory,
    /// `**` crosses them), e.g. `scripts/**`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// With `code`: the name of a cluster in `clusters`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// Why this is acceptable, for the next reader.
    #[schemars(with = "String", length(min = 1))]
    pub reason: Spanned<String>,
    /// The last day (UTC, `YYYY-MM-DD`) the waiver applies; after it the waiver is an error.
    #[schemars(with = "String", extend("format" = "date"))]
    pub expires: Spanned<String>,
}

/// Ids listed in the schema so that editors complete them.
struct RuleId;
struct CodeId;
struct SeverityOverrides;

fn rule_ids() -> Vec<&'static str> {
    crate::catalog::rules::Rule::ALL.iter().map(crate::catalog::Documented::id).collect()
}

fn code_ids() -> Vec<&'static str> {
    crate::diagnose::codes::DiagnosisCode::ALL.iter().map(crate::catalog::Documented::id).collect()
}

impl JsonSchema for RuleId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "A scan rule (`mongo-preflight explain ID`).", "enum": rule_ids() })
    }
}

impl JsonSchema for CodeId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CodeId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "A diagnosis code (`mongo-preflight explain ID`).", "enum": code_ids() })
    }
}

impl JsonSchema for SeverityOverrides {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SeverityOverrides".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = code_ids().into_iter().chain(rule_ids()).collect();
        let severity = generator.subschema_for::<SeverityOverrideFile>();
        schemars::json_schema!({
            "type": "object",
            "propertyNames": { "enum": ids },
            "additionalProperties": severity,
        })
    }
}
