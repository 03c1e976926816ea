#!/usr/bin/env bash
# Builds the npm packages that would be published, as napi-rs lays them out, into DIST:
#
#   node/dist.sh DIST
#
#   DIST/twilio-oauth-VERSION.tgz                 the main package: JavaScript, types, the
#                                                 napi-rs loader (native.js); no addon, nothing
#                                                 to compile; `optionalDependencies` on ↓
#   DIST/twilio-oauth-linux-x64-gnu-VERSION.tgz   the platform package: the addon alone
#                                                 (twilio-oauth.linux-x64-gnu.node, size-optimized)
#
# The addon is a release build without the test-only `test-hooks` feature, linked against
# glibc 2.17 so that every glibc distribution since 2014 loads it (as Python's manylinux2014
# wheel): `napi build --cross-compile` with cargo-zigbuild and zig (the `cargo-zigbuild` and
# `ziglang` packages from PyPI, pinned, in a venv under target/dist-tools/node-zig), in the zig
# build's own target dir (target/dist-zig-node): zig as the C compiler and linker would otherwise
# make cargo rebuild everything in the target dir the test builds share. The check after the build
# fails if the addon needs any glibc symbol newer than 2.17.
# VERSION is the workspace's `[workspace.package] version`; node/package.json and
# node/npm/linux-x64-gnu/package.json must say the same, or this fails.
#
# The main package's package.json is node/package.json with what `napi prepublish` adds at
# publish time (`optionalDependencies` on the platform package, same version) and without what
# only development needs (scripts, devDependencies, the locally built `*.node` in `files`).
# node/package.json itself keeps them: the tests pack node/ with its addon inside.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: node/dist.sh DIST" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(realpath -m "$1")
target=$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")
export npm_config_update_notifier=false

ms() { date +%s%3N; }
start=$(ms)

# One version everywhere: the workspace's, which the crates inherit.
version=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml")
if [[ -z "$version" ]]; then
  echo "no [workspace.package] version in Cargo.toml" >&2
  exit 1
fi
json_field() { node -p "require(process.argv[1])[process.argv[2]]" "$1" "$2"; }
platform_dir="$root/node/npm/linux-x64-gnu"
platform_name=$(json_field "$platform_dir/package.json" name)
addon=$(json_field "$platform_dir/package.json" main)
for manifest in "$root/node/package.json" "$platform_dir/package.json"; do
  v=$(json_field "$manifest" version)
  if [[ "$v" != "$version" ]]; then
    echo "${manifest#"$root/"} says version $v, Cargo.toml's [workspace.package] says $version" >&2
    exit 1
  fi
done

if [[ ! -x "$root/node/node_modules/.bin/napi" ]]; then
  (cd "$root/node" && npm install --no-audit --no-fund --loglevel=error)
fi

# zig and cargo-zigbuild, pinned (PyPI wheels: nothing to compile).
glibc=2.17
zig_pins="cargo-zigbuild==0.24.0 ziglang==0.17.0"
tools="$target/dist-tools/node-zig"
if [[ "$(cat "$tools/.pins" 2>/dev/null)" != "$zig_pins" ]]; then
  echo "--- $zig_pins into ${tools#"$root/"}"
  python3 -m venv --clear "$tools"
  # shellcheck disable=SC2086 # one word per pin
  "$tools/bin/pip" install --quiet --disable-pip-version-check $zig_pins
  echo "$zig_pins" >"$tools/.pins"
fi

stage="$target/npm-dist"
rm -rf "$stage"
mkdir -p "$stage/build" "$stage/twilio-oauth" "$stage/$platform_name" "$dist"

echo "--- napi build --profile dist (no test-hooks, glibc $glibc) into ${stage#"$root/"}/build"
# cargo-zigbuild finds zig through the venv's python-zig (ziglang). The `dist` profile (the
# root Cargo.toml: fat LTO, one codegen unit, opt-level "s") makes the addon 4.4 MB instead of
# 8.4 MB (the target is 5 MB), with no measurable change in the cache-hit or token-request
# times. The target dir is this build's own: shared with python/dist.sh's zig build, each
# rebuilds every crate of the other (their zig wrappers set different compiler environments).
(cd "$root/node" && PATH="$tools/bin:$PATH" \
  npx napi build --platform --profile dist \
  --cross-compile --target "x86_64-unknown-linux-gnu.$glibc" --target-dir "$target/dist-zig-node" \
  --manifest-path ../bindings/node/Cargo.toml --package-json-path package.json \
  --output-dir "$stage/build" --js native.js --dts native.d.ts --no-const-enum)
built_at=$(ms)

# The newest glibc symbol version the addon needs must be no newer than the one it targets.
needs=$(objdump -T "$stage/build/$addon" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
if [[ "$(printf '%s\n%s\n' "$needs" "$glibc" | sort -V | tail -n 1)" != "$glibc" ]]; then
  echo "$addon needs glibc $needs; it must load on glibc $glibc" >&2
  objdump -T "$stage/build/$addon" | grep -E "GLIBC_$needs" | head -20 >&2
  exit 1
fi
echo "$addon needs glibc $needs or later"

# The loader and the types ship as generated with this addon. When node/ has copies from an
# earlier build (`npm run build:test`, which the tests ran), they must be the same, or what was
# tested is not what ships.
for generated in native.js native.d.ts; do
  if [[ -f "$root/node/$generated" ]] && ! cmp -s "$stage/build/$generated" "$root/node/$generated"; then
    diff -u "$root/node/$generated" "$stage/build/$generated" | head -40 >&2 || true
    echo "node/$generated differs from what this build generates: rebuild (npm run build:test in node/)" >&2
    exit 1
  fi
done

# No symbol table ships (the zig-linked build has none today; this keeps it so whatever the
# profile says). `strip` after the build, not napi build --strip, which changes RUSTFLAGS and so
# rebuilds every crate.
unstripped=$(stat -c %s "$stage/build/$addon")
strip --strip-unneeded -o "$stage/$platform_name/$addon" "$stage/build/$addon"

# The test-only entry points must not ship.
node -e '
  const b = require(process.argv[1])
  const hooks = Object.keys(b).filter((k) => k.startsWith("_panicForTest"))
  if (hooks.length) { console.error("the release addon has test hooks:", hooks.join(", ")); process.exit(1) }
' "$stage/$platform_name/$addon"

cp "$platform_dir/package.json" "$platform_dir/README.md" "$stage/$platform_name/"

# The main package: what node/package.json's `files` lists, less the addon.
node - "$root/node/package.json" "$stage/twilio-oauth/package.json" "$platform_name" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs')
const [src, dest, platformName] = process.argv.slice(2)
const pkg = JSON.parse(readFileSync(src, 'utf8'))
delete pkg.scripts
delete pkg.devDependencies
pkg.files = pkg.files.filter((f) => !f.endsWith('.node'))
pkg.optionalDependencies = { ...pkg.optionalDependencies, [platformName]: pkg.version }
writeFileSync(dest, JSON.stringify(pkg, null, 2) + '\n')
EOF
files=$(node -p 'require(process.argv[1]).files.join("\n")' "$stage/twilio-oauth/package.json")
while IFS= read -r f; do
  if [[ -f "$stage/build/$f" ]]; then
    cp "$stage/build/$f" "$stage/twilio-oauth/"
  else
    cp "$root/node/$f" "$stage/twilio-oauth/"
  fi
done <<<"$files"

echo "--- npm pack into $dist"
rm -f "$dist/twilio-oauth-$version.tgz" "$dist/$platform_name-$version.tgz"
for pkg in twilio-oauth "$platform_name"; do
  (cd "$stage/$pkg" && npm pack --json --pack-destination "$dist") >"$stage/$pkg.pack.json"
done

# What each tarball holds, and that the addon is in the platform package only.
NEEDS_GLIBC=$needs node - "$stage" "$platform_name" "$addon" "$unstripped" <<'EOF'
const { readFileSync } = require('node:fs')
const [stage, platformName, addon, unstripped] = process.argv.slice(2)
const mb = (n) => (n / 1e6).toFixed(2) + ' MB'
let failed = false
for (const name of ['twilio-oauth', platformName]) {
  const [p] = JSON.parse(readFileSync(`${stage}/${name}.pack.json`, 'utf8'))
  const paths = p.files.map((f) => f.path).sort()
  console.log(`${p.filename}: ${mb(p.size)} packed, ${mb(p.unpackedSize)} unpacked, ${paths.length} files: ${paths.join(' ')}`)
  const nodes = paths.filter((f) => f.endsWith('.node'))
  const expected = name === platformName ? [addon] : []
  if (JSON.stringify(nodes) !== JSON.stringify(expected)) {
    console.error(`${p.filename} holds ${nodes.join(', ') || 'no addon'}; expected ${expected.join(', ') || 'none'}`)
    failed = true
  }
}
const { size } = require('node:fs').statSync(`${stage}/${platformName}/${addon}`)
console.log(`${addon}: ${mb(size)} (${mb(Number(unstripped))} before strip), glibc ${process.env.NEEDS_GLIBC} or later`)
process.exit(failed ? 1 : 0)
EOF
end=$(ms)
echo "node dist $version: build $(( (built_at - start) / 1000 )) s, total $(( (end - start) / 1000 )) s"
