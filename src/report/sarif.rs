//! SARIF 2.1.0 for code scanning: every diagnosis code and scan rule declared as a rule with
//! its help, one result per finding (at its file and line) and per diagnosis (at its
//! cluster's entry in the policy file), each with `partialFingerprints`.

use serde_json::{Value, json};

use super::view::{RenderContext, diagnosis_fingerprint, finding_fingerprint, host_port};
use crate::catalog::Documented;
use crate::catalog::rules::Rule;
use crate::diagnose::codes::DiagnosisCode;
use crate::model::{ClusterReport, RunReport, Severity, Shown};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const FINGERPRINT_KEY: &str = "mongoPreflight/v1";

fn docs_url(id: &str) -> String {
    format!("{}/blob/main/docs/codes.md#{id}", env!("CARGO_PKG_REPOSITORY"))
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_descriptor(doc: &dyn Documented, kind: &str) -> Value {
    let e = doc.explanation();
    let name: String = doc
        .id()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    json!({
        "id": doc.id(),
        "name": name,
        "shortDescription": { "text": e.title },
        "fullDescription": { "text": e.cause },
        "help": {
            "text": format!("{}\n\nAvoid: {}", e.remedy, e.avoid),
            "markdown": format!("**Cause.** {}\n\n**Detection.** {}\n\n**Remedy.** {}\n\n**Avoid.** {}", e.cause, e.detection, e.remedy, e.avoid),
        },
        "helpUri": docs_url(doc.id()),
        "defaultConfiguration": { "level": level(doc.default_severity()) },
        "properties": { "tags": ["security", "mongodb", kind] },
    })
}

pub fn render(report: &RunReport, ctx: &RenderContext) -> String {
    let catalogue = Catalogue::new();
    let mut results: Vec<Value> = report.findings.iter().map(|f| finding_result(f, &catalogue)).collect();
    // Without a policy file a diagnosis has no line to point at, and code scanning rejects
    // results without a location: those diagnoses become notifications tied to their rule.
    let mut unlocated = Vec::new();
    // A cause several hosts share is one result naming them, as every other format shows it.
    for cluster in &report.clusters {
        for item in cluster.shown() {
            match diagnosis_result(cluster, &item, ctx.policy_path.as_deref(), &catalogue) {
                Located::Result(result) => results.push(result),
                Located::Notification(notification) => unlocated.push(notification),
            }
        }
    }
    let notifications: Vec<Value> = report
        .notes
        .iter()
        .map(|n| json!({ "level": level(n.severity), "message": { "text": n.message } }))
        .chain(unlocated)
        .collect();

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": catalogue.rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository root." } } },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
                "properties": { "verdict": report.verdict.as_str() },
            }],
            "results": results,
        }]
    });
    super::escape::json_document(log)
}

/// Every diagnosis code and scan rule as SARIF rule descriptors, and where each id sits.
struct Catalogue {
    ids: Vec<&'static str>,
    rules: Vec<Value>,
}

impl Catalogue {
    fn new() -> Catalogue {
        let codes = DiagnosisCode::ALL.iter().map(|c| (c.id(), rule_descriptor(c, "diagnosis")));
        let scan_rules = Rule::ALL.iter().map(|r| (r.id(), rule_descriptor(r, "scan")));
        let (ids, rules) = codes.chain(scan_rules).unzip();
        Catalogue { ids, rules }
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| *i == id)
    }
}

fn finding_result(f: &crate::model::Finding, catalogue: &Catalogue) -> Value {
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": finding_message(f) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": f.line.max(1), "startColumn": f.column.max(1) },
            }
        }],
        "partialFingerprints": { FINGERPRINT_KEY: finding_fingerprint(f) },
        "baselineState": if f.new { "new" } else { "unchanged" },
    });
    decorate(&mut result, catalogue.index_of(f.rule.id()), f.waived);
    result
}

/// A diagnosis as a result located at its cluster's line in the policy file, or, without a
/// policy file, as a notification.
enum Located {
    Result(Value),
    Notification(Value),
}

fn diagnosis_result(
    cluster: &ClusterReport,
    item: &Shown<'_>,
    policy_path: Option<&str>,
    catalogue: &Catalogue,
) -> Located {
    let d = item.diagnosis;
    let place = match item.hosts.as_slice() {
        [] => format!("cluster `{}`", cluster.name),
        [one] => format!("cluster `{}`, host {}", cluster.name, host_port(one)),
        hosts => {
            let names: Vec<String> = hosts.iter().map(|h| host_port(h)).collect();
            format!("cluster `{}`, hosts {}", cluster.name, names.join(", "))
        }
    };
    let mut text = format!("{} ({place})", item.summary);
    if !d.evidence.is_empty() {
        text.push_str(&format!("\nEvidence: {}", d.evidence));
    }
    if !d.remedy.is_empty() {
        text.push_str(&format!("\nRemedy: {}", d.remedy));
    }
    let Some(policy) = policy_path else {
        let mut notification = json!({ "level": level(d.severity), "message": { "text": text } });
        if let Some(i) = catalogue.index_of(d.code.id()) {
            notification["associatedRule"] = json!({ "id": d.code.id(), "index": i });
        }
        return Located::Notification(notification);
    };
    let mut result = json!({
        "ruleId": d.code.id(),
        "level": level(d.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": policy, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": cluster.policy_line.unwrap_or(1).max(1) },
            },
            "logicalLocations": [{ "name": cluster.name, "kind": "resource" }],
        }],
        "partialFingerprints": { FINGERPRINT_KEY: diagnosis_fingerprint(cluster, item) },
    });
    decorate(&mut result, catalogue.index_of(d.code.id()), d.waived);
    Located::Result(result)
}

fn finding_message(f: &crate::model::Finding) -> String {
    let what = if f.message.is_empty() { f.rule.to_string() } else { f.message.clone() };
    let age = if f.new { "" } else { " (already present on the base ref)" };
    format!("{what}{age}: `{}`", f.snippet)
}

/// Adds the rule index (when the id is a known one) and, for waived results, a suppression.
fn decorate(result: &mut Value, rule_index: Option<usize>, waived: bool) {
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if waived {
        result["suppressions"] =
            json!([{ "kind": "external", "justification": "waived in the mongo-preflight policy (allow[])" }]);
    }
}
