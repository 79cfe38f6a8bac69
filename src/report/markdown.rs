//! The Markdown body of the PR comment and the job summary.
//!
//! Every string that did not come from our own catalogue (certificate subjects, server errors,
//! file snippets, names from the policy) goes through [`escape`], because it is rendered by
//! GitHub in a page other people read.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::escape::{code, html, html_with_code, markdown as md, markdown_with_code as prose};
use super::view::{RenderContext, host_port, ordered_findings, stage_label, totals_line};
use crate::catalog;
use crate::catalog::Documented;
use crate::model::{
    ClusterReport, Diagnosis, Finding, HostReport, PolicyReport, PolicySource, RunReport, Severity, Shown, Verdict,
    stage,
};

/// How much a Markdown report holds. `github/` picks the level that fits its size budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Evidence, remedies and "how to fix" blocks in `<details>`.
    Full,
    /// Tables only, with at most this many finding rows.
    Compact { findings: usize },
}

/// The whole report.
pub fn render(report: &RunReport, ctx: &RenderContext) -> String {
    render_detail(report, ctx, Detail::Full)
}

/// The report at the given level of detail.
pub fn render_detail(report: &RunReport, ctx: &RenderContext, detail: Detail) -> String {
    let max_findings = match detail {
        Detail::Full => usize::MAX,
        Detail::Compact { findings } => findings,
    };
    render_with(report, ctx, detail, max_findings)
}

fn severity_icon(severity: Severity, waived: bool) -> &'static str {
    if waived {
        return "🔕";
    }
    match severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Info => "ℹ️",
    }
}

fn render_with(report: &RunReport, ctx: &RenderContext, detail: Detail, max_findings: usize) -> String {
    let mut out = String::new();
    let (icon, word) = match report.verdict {
        Verdict::Pass => ("✅", "pass"),
        Verdict::Fail => ("❌", "fail"),
    };
    let _ = writeln!(out, "## {icon} mongo-preflight: {word}\n");
    write_causes(&mut out, report);
    let _ = writeln!(
        out,
        "**{}** · {} probed · {}\n",
        totals_line(report),
        super::view::plural(report.clusters.len(), "cluster"),
        super::view::plural(report.findings.len(), "finding")
    );

    // What the change itself does comes first: its new findings, then how it would loosen the
    // gate, then what the gate already lets through; cluster health after that.
    write_findings(&mut out, report, detail, max_findings, ctx, FindingGroup::New);
    if let Some(policy) = &report.policy {
        write_policy_changes(&mut out, policy);
        write_waivers(&mut out, policy);
    }
    for cluster in &report.clusters {
        write_cluster(&mut out, cluster, detail);
    }
    write_findings(&mut out, report, detail, max_findings, ctx, FindingGroup::Existing);

    if !report.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {} {}", severity_icon(note.severity, false), prose(&note.message));
        }
        out.push('\n');
    }

    write_footer(&mut out, report, ctx);
    out
}

/// One sentence per cause of a failing verdict.
fn write_causes(out: &mut String, report: &RunReport) {
    let causes = super::view::verdict_causes(report);
    if causes.is_empty() {
        return;
    }
    out.push_str("**Why it fails:**\n\n");
    for cause in causes {
        let _ = writeln!(out, "- {}", prose(&cause));
    }
    out.push('\n');
}

fn write_policy_changes(out: &mut String, policy: &PolicyReport) {
    let judged_by = match (policy.source, &policy.path) {
        (PolicySource::Base, Some(path)) => format!("the base commit's <code>{}</code>", html(path)),
        (PolicySource::Base, None) | (PolicySource::Default, _) => "the embedded default policy".to_string(),
        (PolicySource::WorkingTree, Some(path)) => format!("<code>{}</code> as checked out", html(path)),
        (PolicySource::WorkingTree, None) => "the checked-out policy".to_string(),
    };
    if policy.changes.is_empty() {
        if policy.source == PolicySource::Base {
            let _ = writeln!(out, "Judged by {judged_by}. This pull request does not loosen the policy.\n");
        }
        return;
    }
    let _ = writeln!(out, "### ⚠️ This pull request loosens the gate ({})\n", policy.changes.len());
    let _ = writeln!(
        out,
        "Judged by {judged_by}: these changes take effect only once merged. Review them as you would a \
         change to the gate itself.\n"
    );
    out.push_str("| change | what |\n| --- | --- |\n");
    for change in &policy.changes {
        let _ = writeln!(out, "| <code>{}</code> | {} |", change.kind.as_str(), prose(&change.detail));
    }
    out.push('\n');
}

fn write_waivers(out: &mut String, policy: &PolicyReport) {
    if policy.waivers.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Waivers applied ({})\n", policy.waivers.len());
    out.push_str("| waives | where | reason | expires | covered |\n| --- | --- | --- | --- | --- |\n");
    for w in &policy.waivers {
        let what = match w.level {
            Some(level) => format!("<code>{}</code> → {level}", html(&w.target)),
            None => format!("<code>{}</code>", html(&w.target)),
        };
        let scope =
            w.scope.as_deref().map_or_else(|| "everywhere".to_string(), |s| format!("<code>{}</code>", html(s)));
        let expires = if w.expired { format!("{} (expired)", html(&w.expires)) } else { html(&w.expires) };
        let _ = writeln!(out, "| {what} | {scope} | {} | {expires} | {} |", md(&w.reason), w.covered);
    }
    out.push('\n');
}

fn write_cluster(out: &mut String, cluster: &ClusterReport, detail: Detail) {
    let _ = writeln!(out, "### Cluster {}\n", md(&cluster.name));
    let optional = if cluster.required { "" } else { " (optional: unreachable only warns)" };
    let _ = writeln!(out, "<code>{}</code>{optional}\n", html(&cluster.uri));

    if !cluster.hosts.is_empty() {
        let stages: Vec<&str> =
            stage::ORDER.iter().copied().filter(|s| cluster.hosts.iter().any(|h| h.stages.contains_key(*s))).collect();
        out.push_str("| host |");
        for s in &stages {
            let _ = write!(out, " {} |", stage_label(s));
        }
        out.push_str(" codes |\n| --- |");
        for _ in &stages {
            out.push_str(" --- |");
        }
        out.push_str(" --- |\n");
        for host in &cluster.hosts {
            let _ = write!(out, "| {} |", md(&host_port(host)));
            for s in &stages {
                match host.stages.get(*s) {
                    Some(r) if r.ok => {
                        let _ = write!(out, " ✅ {} ms |", r.elapsed_ms);
                    }
                    Some(r) => {
                        let _ = write!(out, " ❌ {} ms |", r.elapsed_ms);
                    }
                    None => out.push_str(" — |"),
                }
            }
            let _ = writeln!(out, " {} |", codes_cell(&host.diagnoses));
        }
        out.push('\n');
    }

    let all = cluster.shown();
    match detail {
        Detail::Full => {
            for item in &all {
                write_diagnosis_details(out, item);
            }
        }
        Detail::Compact { .. } => {
            for item in all.iter().filter(|s| s.hosts.len() != 1) {
                let d = item.diagnosis;
                let _ = writeln!(
                    out,
                    "- {} <code>{}</code> {}{}",
                    severity_icon(d.severity, d.waived),
                    d.code,
                    prose(item.summary),
                    where_(&item.hosts)
                );
            }
        }
    }
    out.push('\n');
}

fn where_(hosts: &[&HostReport]) -> String {
    if hosts.is_empty() {
        return String::new();
    }
    let names: Vec<String> = hosts.iter().map(|h| md(&host_port(h))).collect();
    format!(" on {}", names.join(", "))
}

fn codes_cell(diagnoses: &[Diagnosis]) -> String {
    if diagnoses.is_empty() {
        return "—".to_string();
    }
    diagnoses
        .iter()
        .map(|d| {
            let code = format!("<code>{}</code>", html(d.code.id()));
            if d.waived {
                format!("~~{code}~~ (waived)")
            } else {
                format!("{} {code}", severity_icon(d.severity, false))
            }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn write_diagnosis_details(out: &mut String, item: &Shown<'_>) {
    let d = item.diagnosis;
    let place = match item.hosts.as_slice() {
        [] => " (cluster-wide)".to_string(),
        hosts => {
            let names: Vec<String> = hosts.iter().map(|h| html(&host_port(h))).collect();
            format!(" on {}", names.join(", "))
        }
    };
    let waived = if d.waived { " (waived)" } else { "" };
    let _ = writeln!(
        out,
        "<details><summary>{} <code>{}</code>{place}{waived}: {}</summary>\n",
        severity_icon(d.severity, d.waived),
        html(d.code.id()),
        html_with_code(item.summary)
    );
    if item.hosts.len() > 1 {
        let _ = writeln!(out, "The same cause on {} hosts; the evidence is the first host's.\n", item.hosts.len());
    }
    if !d.evidence.is_empty() {
        let _ = writeln!(out, "**Evidence:** {}\n", prose(&d.evidence));
    }
    if !d.remedy.is_empty() {
        let _ = writeln!(out, "**Remedy:** {}\n", prose(&d.remedy));
    }
    let _ = writeln!(out, "More: <code>mongo-preflight explain {}</code>\n\n</details>\n", html(d.code.id()));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FindingGroup {
    /// Unwaived findings the change adds (or every finding, without a base).
    New,
    /// Findings already at the base, and waived ones.
    Existing,
}

fn write_findings(
    out: &mut String,
    report: &RunReport,
    detail: Detail,
    max_rows: usize,
    ctx: &RenderContext,
    group: FindingGroup,
) {
    let findings: Vec<&Finding> =
        ordered_findings(report).into_iter().filter(|f| (group == FindingGroup::New) == (f.new && !f.waived)).collect();
    if findings.is_empty() {
        return;
    }
    let title = match group {
        FindingGroup::New => "New findings",
        FindingGroup::Existing => "Existing and waived findings",
    };
    let _ = writeln!(out, "### {title} ({})\n", findings.len());
    out.push_str("| | rule | location | snippet |\n| --- | --- | --- | --- |\n");
    // New findings get the rows first; existing ones share what is left of the budget.
    let new_count = report.findings.iter().filter(|f| f.new && !f.waived).count();
    let rows = match group {
        FindingGroup::New => max_rows,
        FindingGroup::Existing => max_rows.saturating_sub(new_count),
    };
    for f in findings.iter().take(rows) {
        write_finding_row(out, f);
    }
    let hidden = findings.len().saturating_sub(rows);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\n…and {hidden} more {}: {}",
            if hidden == 1 { "finding" } else { "findings" },
            full_report_pointer(ctx)
        );
    }
    out.push('\n');

    if detail == Detail::Full && group == FindingGroup::New {
        let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule.id()).collect();
        for rule in rules {
            let Some(entry) = catalog::lookup(rule) else { continue };
            let e = entry.documented().explanation();
            // Catalogue text is ours and uses Markdown on purpose.
            let _ = writeln!(
                out,
                "<details><summary>How to fix <code>{}</code>: {}</summary>\n\n{}\n\n**Avoid:** {}\n\n</details>\n",
                html(rule),
                html(e.title),
                e.remedy,
                e.avoid
            );
        }
    }
}

fn write_finding_row(out: &mut String, f: &Finding) {
    let status = if f.waived {
        "🔕 waived".to_string()
    } else if f.new {
        format!("{} new", severity_icon(f.severity, false))
    } else {
        format!("{} existing", severity_icon(f.severity, false))
    };
    let snippet = if f.snippet.is_empty() { "—".to_string() } else { code(&f.snippet) };
    let _ = writeln!(out, "| {status} | <code>{}</code> | {}:{} | {snippet} |", f.rule, md(&f.path), f.line);
}

fn full_report_pointer(ctx: &RenderContext) -> String {
    match &ctx.run_url {
        Some(url) => format!("the full report is in the job summary of [this run]({})", url.replace(')', "%29")),
        None => "the full report is in the job summary".to_string(),
    }
}

fn write_footer(out: &mut String, report: &RunReport, ctx: &RenderContext) {
    let mut parts = Vec::new();
    if let Some(url) = &ctx.run_url {
        parts.push(format!("[View the run]({})", url.replace(')', "%29")));
    }
    if let Some(ts) = &ctx.timestamp {
        parts.push(html(ts));
    }
    parts.push(format!("{} {}", html(&report.tool.name), html(&report.tool.version)));
    let _ = writeln!(out, "---\n<sub>{}</sub>", parts.join(" · "));
}
