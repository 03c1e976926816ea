#!/usr/bin/env bash
# The Python wheel from DIST on a clean runtime (scripts/clean-runtime runs it with no cargo,
# rustc or rustup on PATH and pip's cache off):
#
#   python/clean-check.sh DIST
#
# For each CPython 3.9 … 3.13 (pyenv's, /root/.pyenv/versions/3.X.*/bin/python3.X, or
# PYENV_ROOT): a fresh venv, the wheel installed from DIST alone (`--no-index`: it has no
# dependencies, so nothing else may come from an index), the README quick start
# (python/examples/quickstart.py) run against the local Twilio OAuth server (the prebuilt
# target/debug/twilio-oauth-mock), and `python -X importtime -c "import twilio_oauth"`, whose
# cumulative cost is printed per version. Any error fails the check.
set -euo pipefail

dist=$(realpath "${1:?usage: python/clean-check.sh DIST}")
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
pyenv_root=${PYENV_ROOT:-/root/.pyenv}
mock=${TWILIO_OAUTH_MOCK:-$target/debug/twilio-oauth-mock}
work=$(mktemp -d)
mock_pid=
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

shopt -s nullglob
wheels=("$dist"/twilio_oauth-*-abi3-*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" != 1 ]; then
  echo "expected one abi3 wheel in $dist, found ${#wheels[@]}" >&2
  exit 1
fi
wheel=${wheels[0]}
echo "wheel: $(basename "$wheel")"
# The wheel's METADATA: any Requires-Dist outside an extra would need an index.
required=$(python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
print(" ".join(l for l in z.read(meta).decode().splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l))' "$wheel")
if [ -n "$required" ]; then
  echo "the wheel has required dependencies ($required); the check installs it with --no-index" >&2
  exit 1
fi
[ -x "$mock" ] || { echo "no local server at $mock (cargo build -p twilio-oauth-mock)" >&2; exit 1; }

coproc MOCK { exec "$mock" --port 0 --exit-on-stdin-eof 2>/dev/null; }
mock_pid=$MOCK_PID
read -r line <&"${MOCK[0]}"
export TWILIO_OAUTH_BASE_URL=${line#listening on }
export TWILIO_CLIENT_ID=OQ0123456789abcdef0123456789abcdef
export TWILIO_CLIENT_SECRET=mock-client-secret-0123456789
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=

declare -a report=()
for minor in 9 10 11 12 13; do
  pythons=("$pyenv_root"/versions/3."$minor".*/bin/python3."$minor")
  py=${pythons[-1]}
  [ -x "$py" ] || { echo "no CPython 3.$minor under $pyenv_root/versions" >&2; exit 1; }
  start=$SECONDS
  venv=$work/py3$minor
  echo "--- $("$py" --version): $venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --no-index "$wheel"
  # From a folder without the sources: the installed package is the one imported.
  (cd "$work" && "$venv/bin/python" -c '
import sys, twilio_oauth, twilio_oauth._native as n
assert twilio_oauth.__file__.startswith(sys.prefix), twilio_oauth.__file__
assert not hasattr(n, "_panic_for_test"), "test hooks in the release wheel"')
  (cd "$work" && "$venv/bin/python" "$root/python/examples/quickstart.py")
  # Twice: the first import also writes the .pyc files; the second is what an app pays.
  (cd "$work" && "$venv/bin/python" -c "import twilio_oauth")
  us=$(cd "$work" && "$venv/bin/python" -X importtime -c "import twilio_oauth" 2>&1 >/dev/null |
    awk -F'|' '$3 ~ /^ twilio_oauth$/ { gsub(/ /, "", $2); print $2 }')
  [ -n "$us" ] || { echo "python -X importtime printed no line for twilio_oauth" >&2; exit 1; }
  report+=("$(printf '%-16s import twilio_oauth %6.1f ms cumulative   (check %ss)' \
    "$("$venv/bin/python" --version)" "$(awk -v u="$us" 'BEGIN { print u / 1000 }')" $((SECONDS - start)))")
done
echo "--- python clean check: $(basename "$wheel")"
printf '  %s\n' "${report[@]}"
