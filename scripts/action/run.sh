#!/usr/bin/env bash
# Step 2 of action.yml: runs `mongo-preflight check` with the action's inputs and exits with
# its exit code (0 pass, 1 fail, 2 could not judge). The binary itself writes the job summary,
# the step outputs (verdict, errors, warnings, sarif-file), annotations and the PR comment.
#
# Inputs (environment): MONGO_PREFLIGHT_BIN, INPUT_POLICY, INPUT_FORMAT, INPUT_SARIF_FILE,
# INPUT_COMMENT, INPUT_ARGS, and GITHUB_TOKEN for the comment.
set -euo pipefail

fail() {
  local msg="${1//%/%25}"
  msg="${msg//$'\r'/%0D}"
  msg="${msg//$'\n'/%0A}"
  echo "::error title=mongo-preflight::$msg"
  exit 2
}

bin="${MONGO_PREFLIGHT_BIN:-}"
[ -n "$bin" ] && [ -x "$bin" ] || fail "the mongo-preflight binary was not installed (MONGO_PREFLIGHT_BIN='$bin')"

args=(check)
if [ -n "${INPUT_POLICY:-}" ]; then
  args+=(--policy "$INPUT_POLICY")
fi

format="${INPUT_FORMAT:-}"
[ -z "$format" ] || args+=(--format "$format")
sarif="${INPUT_SARIF_FILE:-}"
if [ -n "$sarif" ]; then
  mkdir -p "$(dirname "$sarif")"
  args+=(--sarif "$sarif")
fi

case "${INPUT_COMMENT:-true}" in
  true | True | TRUE | yes | 1) args+=(--comment) ;;
  false | False | FALSE | no | 0 | '') ;;
  *) fail "input 'comment' must be true or false, not '${INPUT_COMMENT}'" ;;
esac

case "${INPUT_ISSUE:-false}" in
  true | True | TRUE | yes | 1) args+=(--issue) ;;
  false | False | FALSE | no | 0 | '') ;;
  *) fail "input 'issue' must be true or false, not '${INPUT_ISSUE}'" ;;
esac

# Extra arguments split on whitespace. Never evaluated by a shell: no quotes, no expansion.
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=(${extra[@]+"${extra[@]}"})
fi

set +e
"$bin" "${args[@]}"
code=$?
set -e
exit "$code"
