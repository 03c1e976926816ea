#!/usr/bin/env bash
# CI stage of the `twilio-oauth` command line: format, lint, build and test.
# Needs only a Rust toolchain with rustfmt and clippy; run from anywhere.
set -euo pipefail
start=$(date +%s)
cd "$(dirname "$0")/.."

cargo fmt -p twilio-oauth-cli -- --check
cargo clippy -p twilio-oauth-cli --all-targets -- -D warnings
cargo test -p twilio-oauth-cli

echo "cli stage: $(( $(date +%s) - start )) s"
