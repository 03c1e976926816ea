#!/usr/bin/env bash
# The Python artifacts of a release, into the folder given as $1 (scripts/dist calls it):
#   twilio_oauth-VERSION-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       the abi3 wheel (CPython ≥ 3.9) of the `dist` profile (Cargo.toml: release tuned for
#       size, 2.3 MB instead of 3.8), without the test-hooks feature, linked against
#       glibc 2.17 so that old distributions accept it: maturin cross-links with zig
#       (`--zig`, the `ziglang` package from PyPI), and `auditwheel show` must name the same tag;
#   twilio_oauth-VERSION.tar.gz
#       the sdist (`maturin sdist`: the Python package, the pyo3 crate and the core), proven to
#       build and import with `pip install twilio_oauth-*.tar.gz` in a fresh venv.
#
# Tools (maturin, ziglang, auditwheel, pinned) live in a venv under target/dist-tools. The zig
# build has its own target dir (target/dist-zig): zig as the C compiler would otherwise make
# cargo rebuild aws-lc-sys and everything above it in the target dir the other stages share.
# The sdist install reuses the workspace's target dir (what python/ci.sh's release build left)
# for the registry crates, so its compile is the workspace crates and pyo3, not a cold build.
# Env: CARGO_TARGET_DIR (the shared target dir, default target/), PYTHON (default python3).
set -euo pipefail

out=${1:?usage: python/dist.sh OUTPUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
tools=$target/dist-tools
python=${PYTHON:-python3}
STEP_PREFIX=python-dist
# shellcheck source=../scripts/step.sh
source "$root/scripts/step.sh"

maturin_version=1.16.0
ziglang_version=0.17.0
auditwheel_version=6.8.2
tag=manylinux_2_17_x86_64
work=$(mktemp -d)
trap 'rm -rf "$work"; step_report' EXIT

setup_tools() {
  local want="maturin==$maturin_version ziglang==$ziglang_version auditwheel==$auditwheel_version"
  if [ "$(cat "$tools/venv/.pins" 2>/dev/null)" != "$want" ]; then
    "$python" -m venv --clear "$tools/venv"
    # shellcheck disable=SC2086 # one word per pin
    "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
    echo "$want" >"$tools/venv/.pins"
  fi
  "$tools/venv/bin/maturin" --version
  echo "zig $("$tools/venv/bin/python" -m ziglang version)"
}

build_wheel() {
  # maturin finds zig through the ziglang package of the Python that runs it: the tool venv's.
  (cd "$root/python" &&
    PATH=$tools/venv/bin:$PATH CARGO_TARGET_DIR=$target/dist-zig \
      maturin build --locked --profile dist --zig --compatibility manylinux2014 --out "$work/wheel")
  ls -l "$work/wheel"
}

check_wheel() {
  local whl report
  whl=$(echo "$work"/wheel/twilio_oauth-*-cp39-abi3-*.whl)
  [ -f "$whl" ] || { echo "no abi3 wheel was built" >&2; return 1; }
  case $(basename "$whl") in
    *"$tag"*) ;;
    *) echo "the wheel $(basename "$whl") is not tagged $tag" >&2; return 1 ;;
  esac
  report=$("$tools/venv/bin/auditwheel" show "$whl")
  echo "$report"
  # auditwheel reads the symbol versions the extension really needs: its verdict must be the tag.
  if ! tr -s ' \n' ' ' <<<"$report" | grep -q "consistent with the following platform tag: \"$tag\""; then
    echo "auditwheel does not agree that $(basename "$whl") is $tag" >&2
    return 1
  fi
  # The release wheel carries no test hooks.
  if "$python" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
sys.exit(0 if any(b"_panic_for_test" in z.read(n) for n in z.namelist() if n.endswith(".so")) else 1)' "$whl"; then
    echo "the release wheel contains the test hooks" >&2
    return 1
  fi
  cp "$whl" "$out/"
}

build_sdist() {
  (cd "$root/python" && "$tools/venv/bin/maturin" sdist --out "$work/sdist")
  local sdist
  sdist=$(echo "$work"/sdist/twilio_oauth-*.tar.gz)
  [ -f "$sdist" ] || { echo "no sdist was built" >&2; return 1; }
  tar -tzf "$sdist" | sed 's/^/  /' | grep -E 'PKG-INFO|pyproject.toml|Cargo.(toml|lock)$|README' || true
  cp "$sdist" "$out/"
}

check_sdist() {
  # What `pip install twilio_oauth-*.tar.gz` does on a user's machine with a Rust toolchain:
  # maturin from PyPI in pip's isolated build env, a release build, the package installed.
  # The venv's path stays the same from run to run: pyo3's build script reruns when the
  # Python it is built for (PYO3_PYTHON, the venv's) changes.
  local venv=$tools/sdist-venv
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # maturin writes the sdist reproducibly: every file is dated 2006. Cargo would then take any
  # earlier build of the workspace's own crates in this target dir as up to date, whatever
  # their sources were then: those are removed first. The registry crates (their sources never
  # change for a version) are reused.
  cargo clean --quiet --release --manifest-path "$root/Cargo.toml" --target-dir "$target" \
    -p twilio-oauth -p twilio-oauth-python
  CARGO_TARGET_DIR=$target "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-cache-dir "$out"/twilio_oauth-*.tar.gz
  (cd "$work" && "$venv/bin/python" -c '
import sys, twilio_oauth, twilio_oauth._native as n
assert twilio_oauth.__file__.startswith(sys.prefix), twilio_oauth.__file__
assert not hasattr(n, "_panic_for_test"), "test hooks in a release build"
c = twilio_oauth.OAuthClient(client_id="OQ" + "0" * 32, client_secret="s", base_url="http://127.0.0.1:9")
print("sdist install imports:", twilio_oauth.__file__, type(c.token_provider()).__name__)
')
}

step tools setup_tools
step wheel build_wheel
step auditwheel check_wheel
step sdist build_sdist
step sdist-install check_sdist
ls -l "$out"/twilio_oauth-*
