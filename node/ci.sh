#!/usr/bin/env bash
# CI stage of the npm package twilio-oauth. Run from the repository root:  bash node/ci.sh
# Installs what it needs (npm), builds the addon (with the `test-hooks` feature, which only adds
# the private `_panicForTest()`; napi-rs writes native.js and the types, native.d.ts), lints
# (clippy, eslint; tsc checks the declarations and index.js), runs the tests against the packed
# package (they start a redis-server of their own for RedisStore, and include the scenarios of
# tests/scenarios/, whose tally goes to target/scenario-results/node.json), checks that the
# tarball installs and loads in an empty project, runs the README's examples (quick start,
# people's tokens) against the mock server, and runs the benchmarks. Prints how long each step
# took.
set -euo pipefail

root="$(pwd)"
if [[ ! -f "$root/node/package.json" || ! -d "$root/bindings/node" ]]; then
  echo "run node/ci.sh from the repository root" >&2
  exit 2
fi
export npm_config_update_notifier=false
STEP_PREFIX=node
# shellcheck source=../scripts/step.sh
source scripts/step.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"; step_report' EXIT

npm_install() {
  (cd node && npm install --no-audit --no-fund)
}

rust_checks() {
  cargo fmt -p twilio-oauth-node -- --check
  cargo clippy -p twilio-oauth-node --all-targets --all-features -- -D warnings
  cargo test -p twilio-oauth-node
}

eslint() {
  (cd node && npx eslint .)
}

build_addon() {
  (cd node && npm run build:test)
}

build_mock() {
  cargo build -p twilio-oauth-mock
}

npm_test() {
  command -v redis-server >/dev/null || { echo "redis-server is missing (apt-get install redis-server)" >&2; return 1; }
  (cd node && npm test)
}

empty_project() {
  local tarball
  tarball="$(cd node && npm pack --silent --pack-destination "$work" | tail -n 1)"
  mkdir "$work/empty"
  (cd "$work/empty" &&
    echo '{"name": "empty-project", "private": true}' > package.json &&
    npm install --no-audit --no-fund --loglevel=error "$work/$tarball" &&
    node -e "
      const { OAuthClient, ConfigError } = require('twilio-oauth')
      const c = new OAuthClient({ clientId: 'OQ0123456789abcdef0123456789abcdef' })
      try { new OAuthClient({ clientId: 'nope' }) } catch (e) { if (!(e instanceof ConfigError)) throw e }
      console.log('require: loaded, client for', c.clientId)
    " &&
    node --input-type=module -e "
      import { OAuthClient, Token } from 'twilio-oauth'
      console.log('import: loaded,', String(Token.fromAccessToken('x'.repeat(40), 60)))
    ")
}

readme_examples() {
  scripts/check-readme node/README.md
  (cd node && node test/with-mock.mjs node examples/quickstart.mjs)
  # The token file goes in a private folder (FileStore refuses one that others can write).
  mkdir -m 700 "$work/people"
  (cd node && TOKENS_FILE="$work/people/tokens.json" node test/with-mock.mjs node examples/people.mjs)
}

bench() {
  if [[ -n "${BENCH_JSON:-}" ]]; then
    BENCH_JSON="$(realpath -m "$BENCH_JSON")"
    export BENCH_JSON
  fi
  (cd node && BENCH_ITERATIONS=50000 node bench.mjs)
}

export TWILIO_OAUTH_MOCK_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/twilio-oauth-mock"
step "npm install" npm_install
step "cargo fmt, clippy and unit tests (twilio-oauth-node)" rust_checks
step "eslint" eslint
step "napi build (release, with the test-hooks feature the tests need)" build_addon
step "build the mock server" build_mock
step "npm test (tsc --strict, then node --test on the packed package)" npm_test
step "npm pack, install and load in an empty project" empty_project
step "README examples (quickstart.mjs, people.mjs) against the mock server" readme_examples
step "benchmark (short run, numbers only; BENCH_JSON=path also writes them as JSON)" bench
