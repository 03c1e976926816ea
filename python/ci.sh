#!/usr/bin/env bash
# CI stage of the Python package (run from the repository root; installs what it needs itself):
#   1. a fresh venv with maturin and the test dependencies,
#   2. the abi3 wheel, built as `pip install ./python` builds it (pip, PEP 517, maturin in release
#      mode, into the workspace's target dir), with the `test-hooks` feature, which only adds the
#      private _panic_for_test hooks,
#   3. the wheel installed (the tests never import the source tree),
#   4. stubtest (the .pyi against the native module), mypy --strict (package, examples, tests),
#      ruff,
#   5. pytest against the mock server (real forks and processes included), and the examples run
#      against it.
# Prints how long each step took. Env: PYTHON (default python3), CARGO_TARGET_DIR.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/python-ci/venv
wheels=$target/python-ci/wheels
python=${PYTHON:-python3}
STEP_PREFIX=python
# shellcheck source=../scripts/step.sh
source scripts/step.sh

setup_venv() {
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" \
    "pytest>=8" "pytest-asyncio>=0.24" "pytest-timeout>=2" \
    "twilio>=9.3,<10" "requests>=2.31" "httpx>=0.27" \
    "mypy>=1.11,<3" "ruff==0.17.6"
  "$venv/bin/python" --version
}

build_wheel() {
  rm -rf "$wheels"
  # The PEP 517 build that `pip install ./python` runs (maturin fetched into pip's isolated
  # build environment), kept as a file for its size; the tests need the test-hooks feature.
  MATURIN_PEP517_ARGS="--features test-hooks" "$venv/bin/python" -m pip wheel --quiet \
    --disable-pip-version-check --no-deps --wheel-dir "$wheels" ./python
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$wheels"/twilio_oauth-*.whl
  ls -l "$wheels"
}

build_mock() {
  cargo build --locked -q -p twilio-oauth-mock
}

check_types() {
  # From a folder without the sources, so that the installed package is what gets checked.
  (cd "$target/python-ci" &&
    "$venv/bin/python" -m mypy.stubtest twilio_oauth._native &&
    "$venv/bin/python" -m mypy --strict --cache-dir "$target/python-ci/mypy" -p twilio_oauth)
  (cd python/examples && "$venv/bin/python" -m mypy --strict --cache-dir "$target/python-ci/mypy" quickstart.py typed_usage.py user_tokens.py)
  "$venv/bin/python" -m mypy --strict --cache-dir "$target/python-ci/mypy" python/share_bench.py
  # The tests use the whole API: a second, larger check of the stubs.
  (cd python/tests && "$venv/bin/python" -m mypy --strict --cache-dir "$target/python-ci/mypy" .)
  "$venv/bin/ruff" check --no-cache python
  "$venv/bin/ruff" format --no-cache --check python
}

run_tests() {
  # pytest exits non-zero when no test ran (exit code 5), and on any failure.
  (cd python && TWILIO_OAUTH_MOCK="$target/debug/twilio-oauth-mock" \
    "$venv/bin/pytest" -q -p no:cacheprovider --durations=8 -rs)
}

run_examples() {
  coproc MOCK { exec "$target/debug/twilio-oauth-mock" --port 0 --exit-on-stdin-eof 2>/dev/null; }
  local line
  read -r line <&"${MOCK[0]}"
  local rc=0
  (
    export TWILIO_OAUTH_BASE_URL=${line#listening on }
    export TWILIO_CLIENT_ID=OQ0123456789abcdef0123456789abcdef
    export TWILIO_CLIENT_SECRET=mock-client-secret-0123456789
    export TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
    export TWILIO_AUTH_TOKEN=mock-auth-token-0123456789abcdef
    cd python/examples
    "$venv/bin/python" quickstart.py
    "$venv/bin/python" typed_usage.py
    # The person who signs in is the local server's: it approves the device code by itself.
    "$venv/bin/python" -c 'import json, os, urllib.request as u; u.urlopen(u.Request(os.environ["TWILIO_OAUTH_BASE_URL"] + "/admin/config", json.dumps({"auto_approve_after_polls": 0, "device_interval": 1}).encode(), {"Content-Type": "application/json"}), timeout=10)'
    "$venv/bin/python" user_tokens.py
    # Last: it shortens the server's token lifetime.
    "$venv/bin/python" ../soak.py
  ) || rc=$?
  kill "$MOCK_PID" 2>/dev/null || true
  return "$rc"
}

step venv setup_venv
step wheel build_wheel
step mock build_mock
step types check_types
step pytest run_tests
step examples run_examples
