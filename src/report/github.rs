//! GitHub workflow commands: one annotation per unwaived finding, diagnosis and note.
//!
//! GitHub shows at most 10 annotations of each level per step, so past that the tenth slot is
//! one annotation that says how many more there are and where to read them.

use std::fmt::Write as _;

use super::escape::{workflow_message as msg, workflow_property as prop};
use super::view::{RenderContext, host_port, ordered_findings, totals_line};
use crate::model::{RunReport, Severity};

/// Annotations GitHub displays per level and step.
pub const MAX_PER_LEVEL: usize = 10;

struct Annotation {
    severity: Severity,
    file: Option<String>,
    line: Option<u32>,
    col: Option<u32>,
    title: String,
    message: String,
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn write_annotation(out: &mut String, a: &Annotation) {
    let mut props = Vec::new();
    if let Some(file) = &a.file {
        props.push(format!("file={}", prop(file)));
        if let Some(line) = a.line {
            props.push(format!("line={line}"));
        }
        if let Some(col) = a.col {
            props.push(format!("col={col}"));
        }
    }
    props.push(format!("title={}", prop(&a.title)));
    let _ = writeln!(out, "::{} {}::{}", command(a.severity), props.join(","), msg(&a.message));
}

pub fn render(report: &RunReport, ctx: &RenderContext) -> String {
    let mut annotations = Vec::new();
    for f in ordered_findings(report).into_iter().filter(|f| !f.waived) {
        let age = if f.new { "" } else { " (already on the base ref)" };
        let what = if f.message.is_empty() { f.rule.to_string() } else { f.message.clone() };
        annotations.push(Annotation {
            severity: f.severity,
            file: Some(f.path.clone()),
            line: Some(f.line),
            col: Some(f.column),
            title: format!("mongo-preflight: {}", f.rule),
            message: format!("{what}{age}\n{}\nRun `mongo-preflight explain {}` for the fix.", f.snippet, f.rule),
        });
    }
    let shown = report.clusters.iter().flat_map(|c| c.shown().into_iter().map(move |s| (c, s)));
    for (cluster, item) in shown.filter(|(_, s)| !s.diagnosis.waived) {
        let d = item.diagnosis;
        let place = match item.hosts.as_slice() {
            [] => cluster.name.clone(),
            hosts => {
                let names: Vec<String> = hosts.iter().map(|h| host_port(h)).collect();
                format!("{} / {}", cluster.name, names.join(", "))
            }
        };
        let mut message = format!("{}: {}", place, item.summary);
        if !d.evidence.is_empty() {
            message.push_str(&format!("\nEvidence: {}", d.evidence));
        }
        if !d.remedy.is_empty() {
            message.push_str(&format!("\nRemedy: {}", d.remedy));
        }
        annotations.push(Annotation {
            severity: d.severity,
            file: ctx.policy_path.clone(),
            line: ctx.policy_path.as_ref().map(|_| cluster.policy_line.unwrap_or(1)),
            col: None,
            title: format!("mongo-preflight: {}", d.code),
            message,
        });
    }
    for note in &report.notes {
        annotations.push(Annotation {
            severity: note.severity,
            file: None,
            line: None,
            col: None,
            title: "mongo-preflight".to_string(),
            message: note.message.clone(),
        });
    }

    let mut out = String::new();
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let of_level: Vec<&Annotation> = annotations.iter().filter(|a| a.severity == severity).collect();
        let shown = if of_level.len() > MAX_PER_LEVEL { MAX_PER_LEVEL - 1 } else { of_level.len() };
        for a in &of_level[..shown] {
            write_annotation(&mut out, a);
        }
        let hidden = of_level.len() - shown;
        if hidden > 0 {
            let word = match severity {
                Severity::Error => "errors",
                Severity::Warning => "warnings",
                Severity::Info => "notices",
            };
            let place = match &ctx.run_url {
                Some(url) => format!("the job summary ({url})"),
                None => "the job summary, or run `mongo-preflight check` locally".to_string(),
            };
            write_annotation(
                &mut out,
                &Annotation {
                    severity,
                    file: None,
                    line: None,
                    col: None,
                    title: format!("mongo-preflight: {hidden} more {word}"),
                    message: format!(
                        "{hidden} more {word} are not shown as annotations (GitHub shows {MAX_PER_LEVEL} per level); read them all in {place}."
                    ),
                },
            );
        }
    }
    // A plain last line for the log, outside any workflow command.
    let _ = writeln!(out, "mongo-preflight {}: {}", report.verdict.as_str(), totals_line(report));
    out
}
