#!/usr/bin/env bash
# Step 1 of action.yml: puts a mongo-preflight binary on this runner.
#
# A release asset is used only when checksums/sha256.sum in the action itself names its
# sha256: pinning the action (to a tag or, better, a commit) therefore pins the exact binary,
# and a replaced release asset is refused. When this action's commit names no binary for the
# runner (the action used from a branch), the step fails, unless INPUT_BUILD_FROM_SOURCE is
# true: then the binary is built from the action's source. Nothing compiles unasked.
#
# Inputs (environment): INPUT_VERSION, INPUT_BUILD_FROM_SOURCE, ACTION_REPOSITORY, GITHUB_ACTION_PATH, RUNNER_OS,
# RUNNER_ARCH, RUNNER_TEMP, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_OUTPUT.
# MONGO_PREFLIGHT_DOWNLOAD_BASE replaces `SERVER/REPO/releases/download` (mirrors, tests).
# Output: `bin` (the binary's path) and `version` in GITHUB_OUTPUT.
set -euo pipefail

fail() {
  # Workflow-command escaping for the message: %, CR, LF.
  local msg="${1//%/%25}"
  msg="${msg//$'\r'/%0D}"
  msg="${msg//$'\n'/%0A}"
  echo "::error title=mongo-preflight install::$msg"
  exit 1
}

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
runner_temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
# Windows runners hand out `D:\a\...` paths; Git Bash's tools want `/d/a/...`.
if command -v cygpath >/dev/null 2>&1; then
  action_path=$(cygpath -u "$action_path")
  runner_temp=$(cygpath -u "$runner_temp")
fi
sums_file="$action_path/checksums/sha256.sum"
source_version=$(sed -n 's/^version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$action_path/Cargo.toml" | head -n 1)
requested="${INPUT_VERSION:-}"
requested="${requested#v}"
version="${requested:-$source_version}"
case "$version" in
  '' | *[!0-9A-Za-z.+-]*) fail "invalid version '${version}': expected something like 1.2.3" ;;
esac

exe=""
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc; exe=".exe" ;;
  *) target="" ;;
esac

work="$runner_temp/mongo-preflight-$version"
mkdir -p "$work"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "neither sha256sum nor shasum is available to verify the download"
  fi
}

expected=""
asset=""
if [ -n "$target" ]; then
  asset="mongo-preflight-v$version-$target$exe"
  if [ -f "$sums_file" ]; then
    # `HASH  NAME` or `HASH *NAME` lines, as sha256sum writes them; comments allowed.
    expected=$(awk -v name="$asset" '$1 !~ /^#/ && ($2 == name || $2 == "*" name) { print tolower($1); exit }' "$sums_file")
  fi
fi

if [ -n "$expected" ]; then
  case "$expected" in
    *[!0-9a-f]*) fail "checksums/sha256.sum has a malformed entry for $asset" ;;
  esac
  [ ${#expected} -eq 64 ] || fail "checksums/sha256.sum has a malformed entry for $asset"
  repository="${ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-}}"
  base="${MONGO_PREFLIGHT_DOWNLOAD_BASE:-${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download}"
  url="$base/v$version/$asset"
  part="$work/$asset.part"
  rm -f "$part"
  echo "Downloading $url"
  curl --fail --location --silent --show-error --proto '=https,file' --retry 3 --retry-delay 2 \
    --connect-timeout 20 --max-time 300 --output "$part" "$url" ||
    fail "cannot download $url"
  actual=$(sha256_of "$part")
  if [ "$actual" != "$expected" ]; then
    rm -f "$part"
    fail "checksum mismatch for $asset: expected $expected (checksums/sha256.sum), got $actual. The download was deleted and not run."
  fi
  echo "sha256 $actual matches checksums/sha256.sum"
  bin="$work/mongo-preflight$exe"
  mv -f "$part" "$bin"
  chmod +x "$bin"
else
  if [ -n "$requested" ] && [ "$requested" != "$source_version" ]; then
    fail "version $requested has no checksum in this action's checksums/sha256.sum${asset:+ for $asset}. Use the action at that release's tag (uses: OWNER/mongo-preflight@v$requested) or leave 'version' empty."
  fi
  case "${INPUT_BUILD_FROM_SOURCE:-false}" in
    true | True | TRUE | yes | 1) ;;
    false | False | FALSE | no | 0 | '')
      pinned=$(awk '$1 !~ /^#/ && NF >= 2 { name = $2; sub(/^\*/, "", name); print name }' "$sums_file" 2>/dev/null | sed -n 's/^mongo-preflight-v\([^-]*\)-.*/v\1/p' | sort -u | tr '\n' ' ')
      fail "this commit of the action names no release binary for v$version${target:+ on $target} in checksums/sha256.sum, and nothing is compiled unasked. Use a release tag of the action (uses: mongo-preflight/mongo-preflight@<tag>, or its commit)${pinned:+; this commit pins binaries for: $pinned}, or set the input 'build-from-source: true' to build it here with cargo."
      ;;
    *) fail "input 'build-from-source' must be true or false, not '${INPUT_BUILD_FROM_SOURCE}'" ;;
  esac
  echo "::notice title=mongo-preflight install::No published binary for v$version${target:+ on $target} is pinned in checksums/sha256.sum: building from the action's source with cargo, as build-from-source asks."
  command -v cargo >/dev/null 2>&1 || fail "cargo is not installed: install a Rust toolchain before this step, or use a released version of the action"
  cargo install --locked --path "$action_path" --root "$work/cargo"
  bin="$work/cargo/bin/mongo-preflight$exe"
fi

"$bin" --version || fail "the installed binary does not run: $bin"
{
  echo "bin=$bin"
  echo "version=$version"
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
