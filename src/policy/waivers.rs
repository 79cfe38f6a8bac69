//! Waivers: `allow[]` entries, and severity overrides that lower a severity.
//!
//! Both loosen the gate, so both need a reason and an end no further than `max_waiver_days`
//! after the run. [`super::judge`] applies them.

use serde_saphyr::Spanned;
use time::Date;

use super::diagnostic::{Source, did_you_mean};
use super::file::{SeverityOverrideFile, WaiverFile};
use crate::catalog::rules::Rule;
use crate::catalog::{Documented, Entry};
use crate::diagnose::codes::DiagnosisCode;
use crate::error::AppError;
use crate::model::{Finding, Severity};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverTarget {
    Rule(Rule),
    Code(DiagnosisCode),
}

/// What a live waiver does to what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaiverEffect {
    /// `allow[]`: marked `waived`, never counted toward the verdict.
    Waive,
    /// A severity override below the default: counted at this level.
    Lower(Severity),
}

/// The latest day a waiver may end: `max_days` after `today`.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryLimit {
    pub today: Date,
    pub max_days: u32,
}

impl ExpiryLimit {
    pub fn latest(&self) -> Date {
        self.today.saturating_add(time::Duration::days(i64::from(self.max_days)))
    }
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub target: WaiverTarget,
    pub effect: WaiverEffect,
    /// With a rule: which paths (a glob as written, and its matcher).
    pub path: Option<(String, globset::GlobMatcher)>,
    /// With a code: which cluster.
    pub cluster: Option<String>,
    pub reason: String,
    /// The last day the waiver applies.
    pub expires: Date,
    /// `FILE:LINE` of the waiver's entry, to name it in notes.
    pub origin: String,
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Waiver {
    pub(super) fn from_file(
        entry: &Spanned<WaiverFile>,
        source: &Source<'_>,
        cluster_names: &[&str],
        limit: &ExpiryLimit,
    ) -> Result<Waiver, AppError> {
        let w = &entry.value;
        let target = waiver_target(entry, source)?;
        let path = path_scope(w.path.as_ref(), &target, source)?;
        let cluster = cluster_scope(w.cluster.as_ref(), &target, cluster_names, source)?;
        let reason = w.reason.value.trim().to_string();
        if reason.is_empty() {
            return Err(source.error_at(
                w.reason.referenced,
                "a waiver's `reason` cannot be empty: say why this is acceptable".to_string(),
            ));
        }
        let expires =
            parse_expiry(&w.expires.value, limit).map_err(|message| source.error_at(w.expires.referenced, message))?;

        let line = entry.referenced.line();
        Ok(Waiver {
            target,
            effect: WaiverEffect::Waive,
            path,
            cluster,
            reason,
            expires,
            origin: format!("{}:{line}", source.name),
        })
    }

    /// A `severity:` entry that lowers its rule or code below the default: a waiver, which needs
    /// a reason and an expiry like any other. `Ok(None)` when the entry raises or keeps the
    /// severity: then it is a plain override.
    pub(super) fn from_severity_override(
        entry: Entry,
        value: &Spanned<SeverityOverrideFile>,
        source: &Source<'_>,
        limit: &ExpiryLimit,
    ) -> Result<Option<Waiver>, AppError> {
        let documented = entry.documented();
        let (id, default) = (documented.id(), documented.default_severity());
        let level = value.value.level();
        if level >= default {
            return Ok(None);
        }
        let at = |message: String| source.error_at(value.referenced, message);
        let SeverityOverrideFile::Waiver(terms) = &value.value else {
            return Err(at(format!(
                "`severity: {{{id}: {level}}}` lowers {kind} `{id}` from {default}, which waives it: write it as \
                 `{id}: {{level: {level}, reason: \"…\", expires: YYYY-MM-DD}}` so that it says why and until when",
                kind = entry.kind()
            )));
        };
        let reason = terms.reason.as_deref().map(str::trim).unwrap_or_default().to_string();
        if reason.is_empty() {
            return Err(at(format!("lowering `{id}` to {level} is a waiver: it needs a `reason`")));
        }
        let Some(expires) = &terms.expires else {
            return Err(at(format!("lowering `{id}` to {level} is a waiver: it needs `expires` (YYYY-MM-DD)")));
        };
        let expires = parse_expiry(expires, limit).map_err(at)?;
        let target = match entry {
            Entry::Code(code) => WaiverTarget::Code(code),
            Entry::Rule(rule) => WaiverTarget::Rule(rule),
        };
        Ok(Some(Waiver {
            target,
            effect: WaiverEffect::Lower(level),
            path: None,
            cluster: None,
            reason,
            expires,
            origin: format!("{}:{}", source.name, value.referenced.line()),
        }))
    }

    /// `rule `x` on `glob`` / `code `y` on cluster `z``, to name the waiver in notes.
    pub fn describe(&self) -> String {
        let what = self.describe_target();
        match self.effect {
            WaiverEffect::Waive => what,
            WaiverEffect::Lower(level) => format!("{what} lowered to {level}"),
        }
    }

    /// The rule or code id.
    pub fn target_id(&self) -> &'static str {
        match &self.target {
            WaiverTarget::Rule(r) => r.id(),
            WaiverTarget::Code(c) => c.id(),
        }
    }

    /// The path glob or cluster the waiver is narrowed to.
    pub fn scope(&self) -> Option<&str> {
        self.path.as_ref().map(|(glob, _)| glob.as_str()).or(self.cluster.as_deref())
    }

    fn describe_target(&self) -> String {
        match &self.target {
            WaiverTarget::Rule(r) => match &self.path {
                Some((glob, _)) => format!("rule `{}` on `{glob}`", r.id()),
                None => format!("rule `{}`", r.id()),
            },
            WaiverTarget::Code(c) => match &self.cluster {
                Some(name) => format!("code `{}` on cluster `{name}`", c.id()),
                None => format!("code `{}`", c.id()),
            },
        }
    }

    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expires
    }

    pub(super) fn covers_finding(&self, finding: &Finding) -> bool {
        match &self.target {
            WaiverTarget::Rule(rule) => {
                *rule == finding.rule && self.path.as_ref().is_none_or(|(_, glob)| glob.is_match(&finding.path))
            }
            WaiverTarget::Code(_) => false,
        }
    }

    pub(super) fn covers_diagnosis(&self, cluster: &str, code: DiagnosisCode) -> bool {
        match &self.target {
            WaiverTarget::Code(c) => *c == code && self.cluster.as_deref().is_none_or(|name| name == cluster),
            WaiverTarget::Rule(_) => false,
        }
    }
}

/// A waiver's end date: `YYYY-MM-DD`, no later than the limit allows.
/// What an `allow[]` entry waives: exactly one of `rule` and `code`, each a known id (with a hint
/// when it names the other kind).
fn waiver_target(entry: &Spanned<WaiverFile>, source: &Source<'_>) -> Result<WaiverTarget, AppError> {
    let w = &entry.value;
    let at = |s: &Spanned<String>, m: String| source.error_at(s.referenced, m);
    match (&w.rule, &w.code) {
        (Some(_), Some(code)) => {
            Err(at(code, "a waiver takes `rule` or `code`, not both; write two waivers".to_string()))
        }
        (None, None) => Err(source.error_at(
            entry.referenced,
            "a waiver needs `rule` (a scan rule) or `code` (a diagnosis code)".to_string(),
        )),
        (Some(rule), None) => match Rule::from_id(rule.value.trim()) {
            Some(r) => Ok(WaiverTarget::Rule(r)),
            None => {
                let hint = if DiagnosisCode::from_id(rule.value.trim()).is_some() {
                    "; it is a diagnosis code: write `code:`".to_string()
                } else {
                    did_you_mean(&rule.value, Rule::ALL.iter().map(|r| r.id()))
                };
                Err(at(rule, format!("unknown scan rule `{}`{hint}", rule.value)))
            }
        },
        (None, Some(code)) => match DiagnosisCode::from_id(code.value.trim()) {
            Some(c) => Ok(WaiverTarget::Code(c)),
            None => {
                let hint = if Rule::from_id(code.value.trim()).is_some() {
                    "; it is a scan rule: write `rule:`".to_string()
                } else {
                    did_you_mean(&code.value, DiagnosisCode::ALL.iter().map(|c| c.id()))
                };
                Err(at(code, format!("unknown diagnosis code `{}`{hint}", code.value)))
            }
        },
    }
}

/// `path` narrows a scan-rule waiver to the files a glob matches (`*` stays in one directory).
fn path_scope(
    path: Option<&Spanned<String>>,
    target: &WaiverTarget,
    source: &Source<'_>,
) -> Result<Option<(String, globset::GlobMatcher)>, AppError> {
    let Some(p) = path else { return Ok(None) };
    if let WaiverTarget::Code(_) = target {
        return Err(source.error_at(
            p.referenced,
            "`path` narrows a scan-rule waiver; a diagnosis-code waiver is narrowed with `cluster`".to_string(),
        ));
    }
    let glob = globset::GlobBuilder::new(p.value.trim()).literal_separator(true).build().map_err(|e| {
        source.error_at(p.referenced, format!("`path` `{}` is not a valid glob: {}", p.value, e.kind()))
    })?;
    Ok(Some((p.value.trim().to_string(), glob.compile_matcher())))
}

/// `cluster` narrows a diagnosis-code waiver to one cluster of this policy.
fn cluster_scope(
    cluster: Option<&Spanned<String>>,
    target: &WaiverTarget,
    cluster_names: &[&str],
    source: &Source<'_>,
) -> Result<Option<String>, AppError> {
    let Some(c) = cluster else { return Ok(None) };
    if let WaiverTarget::Rule(_) = target {
        return Err(source.error_at(
            c.referenced,
            "`cluster` narrows a diagnosis-code waiver; a scan-rule waiver is narrowed with `path`".to_string(),
        ));
    }
    if !cluster_names.contains(&c.value.as_str()) {
        return Err(source.error_at(
            c.referenced,
            format!(
                "`cluster` `{}` is not a cluster of this policy{}",
                c.value,
                did_you_mean(&c.value, cluster_names.iter().copied())
            ),
        ));
    }
    Ok(Some(c.value.clone()))
}

fn parse_expiry(text: &str, limit: &ExpiryLimit) -> Result<Date, String> {
    let expires = Date::parse(text.trim(), DATE_FORMAT)
        .map_err(|_| format!("`expires` must be a date written YYYY-MM-DD, not `{text}`"))?;
    let latest = limit.latest();
    if expires > latest {
        return Err(format!(
            "`expires: {expires}` is more than {} days away; a waiver must end by {latest} \
             (`max_waiver_days` is {}), so that someone looks at it again",
            limit.max_days, limit.max_days
        ));
    }
    Ok(expires)
}
