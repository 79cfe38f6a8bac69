//! From catalogue matches to ranked causes: a code is `likely` when words that single it out
//! are in the text, `possible` when they only fit it. A likely cause at one stage of the
//! connection rules out the codes of every other stage: the client got past the earlier ones
//! and never reached the later ones.

use std::collections::BTreeMap;

use super::matcher::Hit;
use super::reading::{Cause, Failure, RuledOut};
use super::text::Clean;
use crate::catalog::codes::DiagnosisCode;
use crate::catalog::{Documented, Likelihood, Stage};

/// How many distinct words a cause quotes.
const MAX_WORDS: usize = 3;

fn stage_of(code: DiagnosisCode) -> Option<Stage> {
    code.explanation().stage()
}

fn words(clean: &Clean, hit: &Hit) -> String {
    let raw = clean.text.get(hit.start..hit.end).unwrap_or(hit.seen.text);
    let collapsed: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = collapsed.chars().take(100).collect();
    if cut.len() < collapsed.len() {
        cut.push('…');
    }
    crate::redact::text(&cut).into_owned()
}

/// The stage a catalogue text places a failure at: the one stage of every code that lists it.
fn placed_by(text: &str) -> Option<Stage> {
    let mut stages = DiagnosisCode::ALL
        .iter()
        .filter(|c| c.explanation().seen.iter().any(|s| s.text == text))
        .filter_map(|c| stage_of(*c));
    let first = stages.next()?;
    stages.all(|s| s == first).then_some(first)
}

/// The one stage the matches place the failure at, if they agree: likely matches first, else
/// every match whose codes all fail at one stage (`x509: certificate signed by unknown
/// authority` is a certificate failure, whichever certificate failure it is).
pub fn placed(hits: &[Hit]) -> Option<Stage> {
    let unique = |stages: Vec<Stage>| {
        let mut stages = stages;
        stages.sort();
        stages.dedup();
        match stages.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let likely: Vec<Stage> =
        hits.iter().filter(|h| h.seen.likelihood == Likelihood::Likely).filter_map(|h| h.stage()).collect();
    if !likely.is_empty() {
        return unique(likely);
    }
    let mut texts: Vec<&str> = hits.iter().map(|h| h.seen.text).collect();
    texts.sort_unstable();
    texts.dedup();
    unique(texts.into_iter().filter_map(placed_by).collect())
}

/// The causes one failure's matches point at, most likely first, and the stage they place it at.
pub fn causes(clean: &Clean, hits: &[Hit]) -> (Vec<Cause>, Option<Stage>) {
    struct Acc {
        likelihood: Likelihood,
        count: usize,
        first: usize,
        words: Vec<(String, &'static str)>,
    }
    let mut by_code: BTreeMap<DiagnosisCode, Acc> = BTreeMap::new();
    for (i, hit) in hits.iter().enumerate() {
        let acc = by_code.entry(hit.code).or_insert(Acc {
            likelihood: hit.seen.likelihood,
            count: 0,
            first: i,
            words: Vec::new(),
        });
        acc.count += 1;
        if hit.seen.likelihood > acc.likelihood {
            acc.likelihood = hit.seen.likelihood;
            acc.words.clear();
        }
        if hit.seen.likelihood == acc.likelihood && acc.words.len() < MAX_WORDS {
            let w = words(clean, hit);
            if !acc.words.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(&w)) {
                acc.words.push((w, hit.seen.by));
            }
        }
    }
    let mut ranked: Vec<(DiagnosisCode, Acc)> = by_code.into_iter().collect();
    ranked.sort_by(|(a_code, a), (b_code, b)| {
        b.likelihood.cmp(&a.likelihood).then(b.count.cmp(&a.count)).then(a.first.cmp(&b.first)).then(a_code.cmp(b_code))
    });
    let causes: Vec<Cause> = ranked
        .into_iter()
        .map(|(code, acc)| Cause {
            code,
            likelihood: acc.likelihood,
            why: acc.words.iter().map(|(w, by)| format!("\"{w}\" ({by})")).collect::<Vec<_>>().join("; "),
        })
        .collect();
    let stage = placed(hits);
    let rules = rules_out(stage);
    (without(causes, &rules), stage)
}

/// The causes of every failure, merged: a code likely in one failure is likely; codes named
/// by more failures come first.
pub fn merge(failures: &[Failure]) -> (Vec<Cause>, Option<Stage>) {
    let mut merged: Vec<(Cause, usize, usize)> = Vec::new();
    for (index, failure) in failures.iter().enumerate() {
        for cause in &failure.causes {
            match merged.iter_mut().find(|(c, _, _)| c.code == cause.code) {
                Some((c, count, _)) => {
                    *count += 1;
                    if cause.likelihood > c.likelihood {
                        c.likelihood = cause.likelihood;
                        c.why = cause.why.clone();
                    }
                }
                None => merged.push((cause.clone(), 1, index)),
            }
        }
    }
    merged.sort_by(|(a, an, ai), (b, bn, bi)| b.likelihood.cmp(&a.likelihood).then(bn.cmp(an)).then(ai.cmp(bi)));
    let causes: Vec<Cause> = merged.into_iter().map(|(c, _, _)| c).collect();
    let mut stages: Vec<Option<Stage>> = failures.iter().map(|f| f.stage).collect();
    stages.dedup();
    let stage = match stages.as_slice() {
        [one] => *one,
        _ => None,
    };
    let rules = rules_out(stage);
    (without(causes, &rules), stage)
}

/// The one stage of the likely causes, if they agree.
pub fn likely_stage(causes: &[Cause]) -> Option<Stage> {
    let mut stages: Vec<Stage> =
        causes.iter().filter(|c| c.likelihood == Likelihood::Likely).filter_map(|c| stage_of(c.code)).collect();
    stages.sort();
    stages.dedup();
    match stages.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn codes_at(stages: &[Stage]) -> Vec<DiagnosisCode> {
    DiagnosisCode::ALL.iter().copied().filter(|c| stage_of(*c).is_some_and(|s| stages.contains(&s))).collect()
}

/// What a failure placed at `stage` rules out.
pub fn rules_out(stage: Option<Stage>) -> Vec<RuledOut> {
    let Some(stage) = stage else { return Vec::new() };
    let mut out = Vec::new();
    let mut add = |stages: &[Stage], why: &'static str| {
        let codes = codes_at(stages);
        if !codes.is_empty() {
            out.push(RuledOut { codes, why });
        }
    };
    match stage {
        Stage::Dns => add(
            &[Stage::Tcp, Stage::TlsHello, Stage::Certificate, Stage::Server, Stage::Auth],
            "the name did not resolve, so nothing was connected: no network rule, TLS setting, certificate or credential changes that",
        ),
        Stage::Tcp => {
            add(&[Stage::Dns], "the name resolved: the client had an address to connect to");
            add(
                &[Stage::TlsHello, Stage::Certificate, Stage::Server, Stage::Auth],
                "no TLS conversation started: no TLS setting, certificate, CA file or tlsAllowInvalidCertificates changes anything",
            );
        }
        Stage::TlsHello => {
            add(&[Stage::Dns, Stage::Tcp], "the host resolved and accepted the TCP connection");
            add(
                &[Stage::Certificate, Stage::Server, Stage::Auth],
                "the handshake failed before any certificate was checked: no CA file, certificate, tlsAllowInvalidCertificates or tlsInsecure changes anything",
            );
        }
        Stage::Certificate => {
            add(&[Stage::Dns, Stage::Tcp], "the host resolved and accepted the TCP connection");
            add(
                &[Stage::TlsHello],
                "the server answered the TLS handshake with its certificate: not the IP access list, not the TLS version, not a plaintext port",
            );
            add(&[Stage::Server, Stage::Auth], "the client stopped at the certificate: MongoDB itself was never asked");
        }
        Stage::Server => {
            add(
                &[Stage::Dns, Stage::Tcp, Stage::TlsHello, Stage::Certificate],
                "the connection (and TLS, if used) was established: no network, TLS or certificate setting is involved",
            );
        }
        Stage::Auth => {
            add(
                &[Stage::Dns, Stage::Tcp, Stage::TlsHello, Stage::Certificate, Stage::Server],
                "the server answered and asked for credentials: the network, TLS and certificates work",
            );
        }
    }
    out
}

/// `causes` without those `rules` rule out (likely causes always stay).
pub fn without(causes: Vec<Cause>, rules: &[RuledOut]) -> Vec<Cause> {
    causes
        .into_iter()
        .filter(|c| c.likelihood == Likelihood::Likely || !rules.iter().any(|r| r.codes.contains(&c.code)))
        .collect()
}
