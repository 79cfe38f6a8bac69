//! A [`Reading`] as text (for a person), Markdown (a job summary) or JSON. Every excerpt and
//! word from the input was redacted when it was read; here it is escaped for its format.

use serde_json::{Value, json};

use super::reading::{Cause, Reading};
use crate::catalog::{Documented, Likelihood};
use crate::report::escape;

fn title(cause: &Cause) -> &'static str {
    cause.code.explanation().title
}

/// The JSON document: `causes`, `hosts`, `probe_command`, `errors`, `rules_out`, and the
/// probe's cluster report as `probe` when it ran.
pub fn json(reading: &Reading, probe_command: Option<&str>, probe: Option<Value>) -> String {
    let mut doc = json!({
        "causes": reading.causes,
        "hosts": reading.hosts,
        "probe_command": probe_command,
        "errors": reading.errors,
        "rules_out": reading.rules_out,
    });
    if let (Some(probe), Some(map)) = (probe, doc.as_object_mut()) {
        map.insert("probe".into(), probe);
    }
    // One way to write a JSON document: its strings redacted, its text safe from the runner.
    escape::json_document(doc)
}

fn headline(reading: &Reading, probe_command: Option<&str>, probed: bool) -> String {
    let n = reading.errors.len();
    if reading.causes.is_empty() {
        return "No MongoDB connection failure found in the text.".to_string();
    }
    let drivers: Vec<&str> = {
        let mut d: Vec<&str> = reading.errors.iter().filter_map(|e| e.driver).collect();
        d.dedup();
        d
    };
    let from = if drivers.is_empty() { String::new() } else { format!(" ({})", drivers.join(", ")) };
    let failures = crate::report::plural(n, "connection failure");
    if probed {
        format!("{failures} read{from}; the probe decided.")
    } else if reading.decided() {
        format!("{failures} read{from}.")
    } else if probe_command.is_some() {
        format!("{failures} read{from}. The text cannot decide the cause: the probe below does.")
    } else {
        format!("{failures} read{from}. The text cannot decide the cause, and names no host to probe.")
    }
}

pub fn text(reading: &Reading, probe_command: Option<&str>, probed: bool) -> String {
    let mut out = format!("mongo-preflight why: {}\n", headline(reading, probe_command, probed));
    let (likely, possible): (Vec<&Cause>, Vec<&Cause>) =
        reading.causes.iter().partition(|c| c.likelihood == Likelihood::Likely);
    let section = |out: &mut String, heading: &str, causes: &[&Cause], remedy: bool| {
        if causes.is_empty() {
            return;
        }
        out.push_str(&format!("\n{heading}\n"));
        for c in causes {
            out.push_str(&format!("  {}  {}\n", c.code, title(c)));
            if !c.why.is_empty() {
                out.push_str(&format!("    because the text says {}\n", escape::terminal(&c.why)));
            }
            if remedy {
                out.push_str(&format!("    remedy: {}\n", c.code.explanation().remedy));
            }
        }
    };
    section(&mut out, if probed { "Cause (observed by the probe)" } else { "Likely cause" }, &likely, true);
    section(&mut out, "Possible causes", &possible, false);
    if !reading.rules_out.is_empty() {
        out.push_str("\nWhat this rules out\n");
        for r in &reading.rules_out {
            let codes: Vec<&str> = r.codes.iter().map(|c| c.id()).collect();
            out.push_str(&format!("  - {}: {}\n", r.why, codes.join(", ")));
        }
    }
    if !reading.hosts.is_empty() {
        out.push_str(&format!("\nHosts\n  {}\n", escape::terminal(&reading.hosts.join("\n  "))));
    }
    if let Some(cmd) = probe_command {
        out.push_str(&format!("\nThe command that decides\n  {}\n", escape::terminal(cmd)));
    }
    if !reading.errors.is_empty() {
        out.push_str("\nFailures in the text\n");
        for (i, e) in reading.errors.iter().enumerate() {
            let codes: Vec<&str> = e.causes.iter().map(|c| c.code.id()).collect();
            out.push_str(&format!(
                "  {}. {}: {}\n     {}\n",
                i + 1,
                e.driver.unwrap_or("unknown client"),
                codes.join(", "),
                escape::terminal(&e.excerpt)
            ));
        }
    }
    if !reading.causes.is_empty() {
        out.push_str(
            "\nNever \"fix\" this with tlsAllowInvalidCertificates, tlsInsecure or an access list open to 0.0.0.0/0.\n",
        );
    }
    out
}

pub fn markdown(reading: &Reading, probe_command: Option<&str>, probed: bool) -> String {
    let mut out =
        format!("### mongo-preflight why\n\n{}\n", escape::markdown(&headline(reading, probe_command, probed)));
    if !reading.causes.is_empty() {
        out.push_str("\n| | Code | What it means | Words of the text |\n|---|---|---|---|\n");
        for c in &reading.causes {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                c.likelihood.as_str(),
                c.code,
                escape::markdown(title(c)),
                escape::markdown(&c.why)
            ));
        }
        if let Some(first) = reading.causes.iter().find(|c| c.likelihood == Likelihood::Likely) {
            out.push_str(&format!(
                "\n**Remedy** (`{}`): {}\n",
                first.code,
                escape::markdown(first.code.explanation().remedy)
            ));
        }
    }
    if !reading.rules_out.is_empty() {
        out.push_str("\n**Ruled out**\n\n");
        for r in &reading.rules_out {
            let codes: Vec<String> = r.codes.iter().map(|c| format!("`{c}`")).collect();
            out.push_str(&format!("- {}: {}\n", escape::markdown(r.why), codes.join(", ")));
        }
    }
    if !reading.hosts.is_empty() {
        let hosts: Vec<String> = reading.hosts.iter().map(|h| escape::markdown(h)).collect();
        out.push_str(&format!("\n**Hosts:** {}\n", hosts.join(", ")));
    }
    if let Some(cmd) = probe_command {
        // A fenced block shows the command as it is; backticks cannot close it early.
        out.push_str(&format!("\n**The command that decides:**\n\n```sh\n{}\n```\n", cmd.replace('`', "'")));
    }
    if !reading.errors.is_empty() {
        out.push_str("\n**Failures in the text**\n\n");
        for e in &reading.errors {
            out.push_str(&format!(
                "- {}: {}\n",
                escape::markdown(e.driver.unwrap_or("unknown client")),
                escape::markdown(&e.excerpt)
            ));
        }
    }
    out
}
