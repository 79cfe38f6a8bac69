//! The Linux binary built by `scripts/build-static` has no dynamic loader and no shared
//! libraries, and runs in an empty environment.
//!
//! By default the test builds with the `dev` profile: the property under test (static
//! linkage) does not depend on optimisation, and a debug build of the dependencies takes a
//! few minutes where the release profile's fat LTO takes several times that, on the same
//! 2-core CI budget as everything else. CI builds the release binary once in its own job and
//! checks it with `MONGO_PREFLIGHT_STATIC_BIN=PATH cargo test --test static_binary`.
#![cfg(target_os = "linux")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const PT_INTERP: u32 = 3;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;

/// What the ELF headers say about dynamic linking.
#[derive(Debug, Default)]
struct Linkage {
    interpreter: bool,
    needed_libraries: usize,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads the program headers of a 64-bit little-endian ELF file (x86_64, aarch64).
fn linkage(elf: &[u8]) -> Linkage {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not 64-bit");
    assert_eq!(elf[5], 1, "not little-endian");
    let phoff = u64_at(elf, 0x20) as usize;
    let phentsize = u16_at(elf, 0x36) as usize;
    let phnum = u16_at(elf, 0x38) as usize;
    let mut result = Linkage::default();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        match u32_at(elf, ph) {
            PT_INTERP => result.interpreter = true,
            PT_DYNAMIC => {
                let offset = u64_at(elf, ph + 0x08) as usize;
                let size = u64_at(elf, ph + 0x20) as usize;
                for entry in (offset..offset + size).step_by(16) {
                    match u64_at(elf, entry) {
                        DT_NULL => break,
                        DT_NEEDED => result.needed_libraries += 1,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    result
}

fn static_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MONGO_PREFLIGHT_STATIC_BIN") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut build = Command::new(root.join("scripts/build-static"));
    build.args(["--profile", "dev", "--target-dir"]).arg(root.join("target/static-test")).current_dir(root);
    support::remove_caller_env(&mut build);
    // A cold build of the static binary takes minutes, not an hour.
    let out = support::output_within(build, std::time::Duration::from_secs(40 * 60));
    assert!(out.status.success(), "build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = PathBuf::from(path);
    if path.is_absolute() { path } else { root.join(path) }
}

#[test]
fn the_elf_reader_sees_the_dynamic_linking_of_this_test_itself() {
    // This test executable is a normal dynamically linked one: the reader must say so, or
    // the static assertion below would prove nothing.
    let me = std::fs::read(std::env::current_exe().expect("current exe")).expect("read self");
    let l = linkage(&me);
    assert!(l.interpreter && l.needed_libraries > 0, "{l:?}");
}

#[test]
fn the_linux_release_binary_is_static_and_runs_without_any_environment() {
    let bin = static_binary();
    let elf = std::fs::read(&bin).unwrap_or_else(|e| panic!("cannot read {}: {e}", bin.display()));
    let l = linkage(&elf);
    assert!(!l.interpreter, "{} asks for a dynamic loader", bin.display());
    assert_eq!(l.needed_libraries, 0, "{} needs shared libraries", bin.display());

    let empty = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.args(args).env_clear().current_dir(empty.path());
        support::run(cmd)
    };
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    let explain = run(&["explain", "ip-access-list-rejected"]);
    assert!(explain.status.success(), "{}", String::from_utf8_lossy(&explain.stderr));
    assert!(!explain.stdout.is_empty());
}
