#!/usr/bin/env bash
# Proves that the npm packages node/dist.sh built install and work on a machine without Rust:
#
#   node/clean-check.sh DIST
#
# With no cargo or rustc on PATH and a new, empty npm cache, it makes a fresh project in a
# temporary folder, installs DIST's two tarballs (twilio-oauth and twilio-oauth-linux-x64-gnu)
# with the registry pointed at an address that answers nothing (so they need no network and
# nothing is compiled), checks the layout (the addon only in the platform package, loaded from
# there, versions agreeing), then, against the local server (target/debug/twilio-oauth-mock,
# built beforehand; or $TWILIO_OAUTH_MOCK_BIN), runs the README's quick start three ways:
#   - CommonJS (examples/quickstart.cjs, `require`),
#   - ES module (examples/quickstart.mjs, `import`),
#   - TypeScript (examples/quickstart.mts), compiled with `tsc --strict`, then run.
# tsc is node/node_modules' typescript and @types/node when node/ has them (no download);
# CLEAN_CHECK_TYPESCRIPT=registry, or their absence, installs both from the registry into the
# project instead. KEEP=1 keeps the temporary folder. Prints how long each step took; any
# failure fails the script.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: node/clean-check.sh DIST" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(realpath -m "$1")
target=$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")
mock_bin=${TWILIO_OAUTH_MOCK_BIN:-$target/debug/twilio-oauth-mock}
version=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml")
main_tgz="$dist/twilio-oauth-$version.tgz"
platform_tgz="$dist/twilio-oauth-linux-x64-gnu-$version.tgz"
for f in "$main_tgz" "$platform_tgz"; do
  [[ -f "$f" ]] || { echo "missing $f: run node/dist.sh $1 first" >&2; exit 1; }
done
[[ -x "$mock_bin" ]] || { echo "no local server at $mock_bin: cargo build -p twilio-oauth-mock first" >&2; exit 1; }

ms() { date +%s%3N; }
timings=()
total_start=$(ms)
timed() {
  local name=$1
  shift
  local start
  start=$(ms)
  echo "--- node clean-check: $name"
  "$@"
  timings+=("$(printf '%-52s %6d ms' "$name" $(($(ms) - start)))")
}
report() {
  echo "--- node clean-check timings (total $(($(ms) - total_start)) ms)"
  local t
  for t in "${timings[@]}"; do echo "  $t"; done
}

# No Rust: drop every PATH entry that has cargo or rustc in it.
clean_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  [[ -n "$d" && ! -x "$d/cargo" && ! -x "$d/rustc" ]] && clean_path+="${clean_path:+:}$d"
done
export PATH="$clean_path"
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "cargo or rustc is still on PATH" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/twilio-oauth-node-clean.XXXXXX")
mock_pid=""
cleanup() {
  [[ -n "$mock_pid" ]] && kill "$mock_pid" 2>/dev/null || true
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
  report
}
trap cleanup EXIT

export npm_config_cache="$work/npm-cache" npm_config_update_notifier=false
# The one check of the version: native.js compares the platform package's with its own.
export NAPI_RS_ENFORCE_VERSION_CHECK=1
project="$work/project"
mkdir -p "$project" "$npm_config_cache"
echo '{ "name": "clean-check", "version": "1.0.0", "private": true }' >"$project/package.json"

install_tarballs() {
  (cd "$project" &&
    npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 \
      npm install --no-audit --no-fund --loglevel=error "$main_tgz" "$platform_tgz")
}
timed "npm install the two tarballs (no registry)" install_tarballs

check_layout() {
  (cd "$project" && npm ls --all) # fails on an unmet or invalid dependency
  local m="$project/node_modules/twilio-oauth" p="$project/node_modules/twilio-oauth-linux-x64-gnu"
  if compgen -G "$m/*.node" >/dev/null; then
    echo "the main package holds an addon: $(ls "$m"/*.node)" >&2
    return 1
  fi
  node - "$project" "$version" <<'EOF'
const { createRequire } = require('node:module')
const { join } = require('node:path')
const [project, version] = process.argv.slice(2)
const req = createRequire(join(project, 'package.json'))
const main = req('twilio-oauth/package.json')
const wanted = main.optionalDependencies?.['twilio-oauth-linux-x64-gnu']
if (main.version !== version || wanted !== version) {
  throw new Error(`twilio-oauth ${main.version} wants twilio-oauth-linux-x64-gnu ${wanted}; expected ${version}`)
}
for (const pkg of ['twilio-oauth', 'twilio-oauth-linux-x64-gnu']) {
  const scripts = Object.keys(req(`${pkg}/package.json`).scripts ?? {})
  if (scripts.length) throw new Error(`${pkg} has scripts (${scripts.join(', ')}): nothing may run at install`)
}
req('twilio-oauth')
const addons = Object.keys(req.cache).filter((f) => f.endsWith('.node'))
const expected = join(project, 'node_modules', 'twilio-oauth-linux-x64-gnu', 'twilio-oauth.linux-x64-gnu.node')
if (addons.length !== 1 || addons[0] !== expected) throw new Error(`loaded ${addons.join(', ')}; expected ${expected}`)
console.log(`twilio-oauth ${main.version} loads its addon from ${addons[0]}`)
EOF
  du -sh "$m" "$p"
}
timed "layout: addon only in the platform package" check_layout

start_mock() {
  coproc MOCK { exec "$mock_bin" --host 127.0.0.1 --port 0 --exit-on-stdin-eof 2>/dev/null; }
  mock_pid=$MOCK_PID
  local line
  read -r line <&"${MOCK[0]}"
  [[ "$line" == "listening on http://"* ]] || { echo "unexpected first line from the local server: $line" >&2; return 1; }
  export TWILIO_OAUTH_BASE_URL=${line#listening on } TWILIO_API_BASE_URL=${line#listening on }
  export TWILIO_CLIENT_ID=OQ0123456789abcdef0123456789abcdef
  export TWILIO_CLIENT_SECRET=mock-client-secret-0123456789
  export TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
  export TWILIO_AUTH_TOKEN=mock-auth-token-0123456789abcdef
  echo "local server at $TWILIO_OAUTH_BASE_URL"
}
timed "start the local server" start_mock

cp "$root/node/examples/quickstart.cjs" "$root/node/examples/quickstart.mjs" \
  "$root/node/examples/quickstart.mts" "$project/"

# Runs an example and checks that it got the account with one token request for three calls.
run_example() {
  local out
  out=$(cd "$project" && node "$@")
  echo "$out"
  grep -q "^account $TWILIO_ACCOUNT_SID is " <<<"$out" || { echo "no account line from $*" >&2; return 1; }
  grep -q "fetches: 1," <<<"$out" || { echo "$* did not make exactly one token request" >&2; return 1; }
}
timed "CommonJS quick start (require)" run_example quickstart.cjs
timed "ES module quick start (import)" run_example quickstart.mjs

ts_args=(--strict --module nodenext --moduleResolution nodenext --target es2022 --types node --outDir build)
get_typescript() {
  local dev="$root/node/node_modules"
  if [[ "${CLEAN_CHECK_TYPESCRIPT:-}" != registry && -f "$dev/typescript/bin/tsc" && -d "$dev/@types/node" ]]; then
    tsc=(node "$dev/typescript/bin/tsc")
    ts_args+=(--typeRoots "$dev/@types")
    echo "typescript $(node -p 'require(process.argv[1]).version' "$dev/typescript/package.json") and @types/node from node/node_modules"
  else
    (cd "$project" && npm install --no-audit --no-fund --loglevel=error --save-dev typescript@5 @types/node@20)
    tsc=(node "$project/node_modules/typescript/bin/tsc")
    echo "typescript $(node -p 'require(process.argv[1]).version' "$project/node_modules/typescript/package.json") from the registry"
  fi
}
timed "typescript" get_typescript
compile_ts() { (cd "$project" && "${tsc[@]}" "${ts_args[@]}" quickstart.mts); }
timed "tsc --strict quickstart.mts" compile_ts
timed "TypeScript quick start (compiled)" run_example build/quickstart.mjs

echo "node clean-check: ok (twilio-oauth $version installed without Rust, used from CommonJS, ESM and TypeScript)"
