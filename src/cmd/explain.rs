use clap::Args;

use crate::catalog;
use crate::error::AppError;

/// Print the long explanation of a diagnosis code or scan rule, with remedies.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnosis code (e.g. ip-access-list-rejected) or scan rule (e.g. allow-invalid-certificates).
    pub code: String,
}

pub fn run(args: ExplainArgs) -> Result<i32, AppError> {
    let Some(entry) = catalog::lookup(&args.code) else {
        let ids = catalog::all_ids();
        let suggestion = ids
            .iter()
            .map(|id| (strsim::jaro_winkler(id, &args.code), id))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| format!(" Did you mean `{id}`?"))
            .unwrap_or_default();
        return Err(AppError::Usage(format!(
            "unknown code or rule `{}`.{suggestion}\nKnown codes and rules:\n  {}",
            args.code,
            ids.join("\n  ")
        )));
    };
    crate::output::emit(&render(entry), None)?;
    Ok(0)
}

/// The long explanation as text; the docs are generated from the same function.
pub fn render(entry: catalog::Entry) -> String {
    let doc = entry.documented();
    let e = doc.explanation();
    let alternatives = match entry {
        catalog::Entry::Rule(rule) => {
            let lines: Vec<String> =
                rule.safe_alternatives().iter().map(|(lang, alt)| format!("  {lang}: {alt}")).collect();
            format!("\nSafe alternatives\n{}\n", lines.join("\n"))
        }
        catalog::Entry::Code(_) => String::new(),
    };
    format!(
        "{id} ({kind}, default severity {sev})\n\n{title}\n\nCause\n  {cause}\n\nHow it is detected\n  {detection}\n\nRemedy\n  {remedy}\n\nAvoid\n  {avoid}\n{alternatives}",
        id = doc.id(),
        kind = entry.kind(),
        sev = doc.default_severity(),
        title = e.title,
        cause = e.cause,
        detection = e.detection,
        remedy = e.remedy,
        avoid = e.avoid,
    )
}
