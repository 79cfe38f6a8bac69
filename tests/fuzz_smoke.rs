//! The fuzz targets' invariants on stable, in seconds: every committed seed under
//! `fuzz/corpus/<target>/` and a few hundred deterministic mutations of each go through the same
//! functions the fuzz targets call ([`mongo_preflight::fuzzing`]). `scripts/fuzz` runs the real
//! fuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Mutations tried per seed.
const MUTATIONS: u64 = 200;

/// A fixed-seed PRNG (splitmix64): the same mutations on every run and every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that mean something to the parsers: delimiters of URIs, YAML and DER, escapes.
const INTERESTING: &[u8] = b"@:/?#[]%&;=\\\"'`{}<>*!|-\n\r\t \x00\x30\x80\x81\x82\xff\xef\xbb\xbf\xfe";

/// One to four random edits of `seed`: bit flips, byte overwrites and insertions (random or
/// interesting), deletions, truncation, and duplication of a chunk.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                data.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                data.drain(start..end);
            }
            5 => data.truncate(rng.below(len + 1)),
            _ if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let chunk = data[start..end].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            _ => data.push(rng.next() as u8),
        }
    }
    data
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    seeds.sort();
    // A `crash-*` file is an input the fuzzer found breaking an invariant (`scripts/fuzz` keeps
    // them here). It is replayed as it is: until the code is fixed this test fails, naming it.
    // Once fixed, the file stays and guards against the regression (or is renamed `seed-*`).
    let is_crash = |p: &Path| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("crash-"));
    let (crashes, seeds): (Vec<_>, Vec<_>) = seeds.into_iter().partition(|p| is_crash(p));
    for path in &crashes {
        let input = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| body(&input))).is_err() {
            panic!(
                "{target}: the reproducer {} still breaks an invariant; input as hex:\n{}",
                path.display(),
                hex(&input)
            );
        }
    }
    let mut rng = Rng(0x6d6f_6e67_6f2d_7072);
    for path in &seeds {
        let seed = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut inputs = vec![seed.clone()];
        inputs.extend((0..MUTATIONS).map(|_| mutate(&seed, &mut rng)));
        for (n, input) in inputs.iter().enumerate() {
            if catch_unwind(AssertUnwindSafe(|| body(input))).is_err() {
                panic!(
                    "{target}: {} (mutation {n}; 0 is the seed itself) broke an invariant; input as hex:\n{}",
                    path.display(),
                    hex(input)
                );
            }
        }
    }
}

#[test]
fn uri() {
    run("uri", mongo_preflight::fuzzing::uri);
}

#[test]
fn policy() {
    run("policy", mongo_preflight::fuzzing::policy);
}

#[test]
fn scan() {
    run("scan", mongo_preflight::fuzzing::scan);
}

#[test]
fn certs() {
    run("certs", mongo_preflight::fuzzing::certs);
}
