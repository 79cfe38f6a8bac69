//! Human-first text: per cluster and host, each stage with ✓/✗ and its time, then each
//! diagnosis with its evidence and remedy; then findings by file; notes; totals last.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::view::{RenderContext, first_sentence, host_port, host_stages, ordered_findings, stage_label, totals_line};
use crate::catalog::Documented;
use crate::model::{RunReport, Severity, Shown, StageResult, Verdict};

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_string() }
    }
    fn ok(&self, t: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), t)
    }
    fn bad(&self, t: &str) -> String {
        self.paint(AnsiColor::Red.on_default().bold(), t)
    }
    fn warn(&self, t: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default().bold(), t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    fn severity(&self, severity: Severity, waived: bool) -> String {
        if waived {
            return self.dim("~ waived");
        }
        match severity {
            Severity::Error => self.bad("✗ error"),
            Severity::Warning => self.warn("! warning"),
            Severity::Info => self.dim("i info"),
        }
    }
}

/// Control and format characters from servers or files must not drive the terminal or hide
/// text; they are shown as escapes, the same way every format shows them.
fn clean(s: &str) -> String {
    super::escape::terminal(s)
}

fn indent(text: &str, pad: &str) -> String {
    clean(text).lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
}

pub fn render(report: &RunReport, ctx: &RenderContext) -> String {
    let p = Painter { color: ctx.color };
    let mut out = String::new();

    for cluster in &report.clusters {
        let _ =
            writeln!(out, "{} {}  {}", p.bold("Cluster"), p.bold(&clean(&cluster.name)), p.dim(&clean(&cluster.uri)));
        if !cluster.required {
            let _ = writeln!(out, "  {}", p.dim("optional: unreachable only warns"));
        }
        let shown = cluster.shown();
        for item in shown.iter().filter(|s| s.hosts.len() != 1) {
            write_diagnosis(&mut out, &p, item, "  ");
        }
        if cluster.hosts.is_empty() && cluster.diagnoses.is_empty() {
            let _ = writeln!(out, "  {}", p.dim("no hosts probed"));
        }
        for host in &cluster.hosts {
            let address = if host.address.is_empty() { String::new() } else { format!(" ({})", clean(&host.address)) };
            let _ = writeln!(out, "  {}{}", p.bold(&clean(&host_port(host))), p.dim(&address));
            for name in host_stages(host) {
                if let Some(result) = host.stages.get(name) {
                    write_stage(&mut out, &p, name, result);
                }
            }
            for item in shown.iter().filter(|s| s.hosts.len() == 1 && std::ptr::eq(s.hosts[0], host)) {
                write_diagnosis(&mut out, &p, item, "    ");
            }
        }
        out.push('\n');
    }

    let findings = ordered_findings(report);
    if !findings.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Findings"));
        let mut current_path: Option<&str> = None;
        for f in findings {
            if current_path != Some(f.path.as_str()) {
                let _ = writeln!(out, "  {}", p.bold(&clean(&f.path)));
                current_path = Some(f.path.as_str());
            }
            let age = if f.new { "new" } else { "already on the base ref" };
            let message = if f.message.is_empty() { String::new() } else { format!(": {}", clean(&f.message)) };
            let _ = writeln!(
                out,
                "    {} {}:{} {} ({age}){message}",
                p.severity(f.severity, f.waived),
                f.line,
                f.column,
                p.bold(f.rule.id())
            );
            if !f.snippet.is_empty() {
                let _ = writeln!(out, "        {}", p.dim(&indent(&f.snippet, "        ")));
            }
            if !f.waived {
                let remedy = first_sentence(f.rule.explanation().remedy);
                let _ = writeln!(out, "        remedy: {remedy} (`mongo-preflight explain {}`)", f.rule);
            }
        }
        out.push('\n');
    }

    if let Some(policy) = &report.policy
        && !policy.changes.is_empty()
    {
        let _ = writeln!(
            out,
            "{}",
            p.warn("This pull request loosens the gate (judged by the base's policy; effective once merged)")
        );
        for change in &policy.changes {
            let _ = writeln!(out, "  {} {}", p.bold(change.kind.as_str()), indent(&change.detail, "    "));
        }
        out.push('\n');
    }

    if !report.notes.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Notes"));
        for note in &report.notes {
            let _ = writeln!(out, "  {} {}", p.severity(note.severity, false), indent(&note.message, "    "));
        }
        out.push('\n');
    }

    if report.clusters.is_empty() && report.findings.is_empty() {
        let _ = writeln!(out, "{}\n", p.dim("No clusters probed and no insecure TLS settings found."));
    }

    let verdict = match report.verdict {
        Verdict::Pass => p.ok("PASS"),
        Verdict::Fail => p.bad("FAIL"),
    };
    let _ = writeln!(out, "{} {verdict}: {}", p.bold("mongo-preflight"), totals_line(report));
    for cause in super::view::verdict_causes(report) {
        let _ = writeln!(out, "  {}", indent(&cause, "    "));
    }
    out
}

fn write_stage(out: &mut String, p: &Painter, name: &str, result: &StageResult) {
    let mark = if result.ok { p.ok("✓") } else { p.bad("✗") };
    let detail_key = if result.ok { "version" } else { "error" };
    let detail = result
        .details
        .get(detail_key)
        .and_then(|v| v.as_str())
        .map(|s| format!("  {}", p.dim(&clean(s).replace('\n', " "))))
        .unwrap_or_default();
    let _ = writeln!(out, "    {mark} {:<15} {:>6} ms{detail}", stage_label(name), result.elapsed_ms);
}

fn write_diagnosis(out: &mut String, p: &Painter, item: &Shown<'_>, pad: &str) {
    let d = item.diagnosis;
    let _ = writeln!(
        out,
        "{pad}{} {}: {}",
        p.severity(d.severity, d.waived),
        p.bold(d.code.id()),
        indent(item.summary, pad)
    );
    let inner = format!("{pad}    ");
    if item.hosts.len() > 1 {
        let hosts: Vec<String> = item.hosts.iter().map(|h| host_port(h)).collect();
        let hosts = format!("{} (the evidence is the first host's)", hosts.join(", "));
        let _ = writeln!(out, "{inner}hosts:    {}", indent(&hosts, &format!("{inner}          ")));
    }
    if !d.evidence.is_empty() {
        let _ = writeln!(out, "{inner}evidence: {}", indent(&d.evidence, &format!("{inner}          ")));
    }
    if !d.remedy.is_empty() && !d.waived {
        let _ = writeln!(out, "{inner}remedy:   {}", indent(&d.remedy, &format!("{inner}          ")));
    }
}
