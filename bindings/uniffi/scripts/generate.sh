#!/usr/bin/env bash
# Builds the cdylib and the uniffi-bindgen binary (debug: the generated code is the same as
# from a release build) and generates the bindings in library mode.
#
#   scripts/generate.sh kotlin OUT_DIR   Kotlin sources into OUT_DIR (package twiliooauth), built
#                                        with the `test-hooks` feature for the Maven tests; also
#                                        copies the cdylib and the mock server into
#                                        OUT_DIR/../../native for JNA and the tests.
#   scripts/generate.sh swift SWIFT_DIR  the Swift package's generated files under
#                                        SWIFT_DIR/Sources (TwilioOAuth.swift, the FFI header and
#                                        module.modulemap), built without test hooks.
set -euo pipefail

lang=${1:?usage: generate.sh kotlin|swift OUT_DIR}
out=${2:?usage: generate.sh kotlin|swift OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case "$(uname -s)" in
    Darwin) lib=libtwilio_oauth_uniffi.dylib ;;
    *) lib=libtwilio_oauth_uniffi.so ;;
esac

cd "$root"
case "$lang" in
    kotlin) features=cli,test-hooks ;;
    swift) features=cli ;;
    *) echo "generate.sh: unknown language $lang (kotlin or swift)" >&2; exit 2 ;;
esac
echo "generate.sh: cargo build -p twilio-oauth-uniffi --features $features (debug)" >&2
cargo build --quiet -p twilio-oauth-uniffi --features "$features" --lib --bin uniffi-bindgen

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$target/debug/uniffi-bindgen" generate "$target/debug/$lib" --language "$lang" --no-format --out-dir "$tmp"

case "$lang" in
    kotlin)
        cargo build --quiet -p twilio-oauth-mock
        rm -rf "$out"
        mkdir -p "$out"
        cp -R "$tmp/." "$out/"
        native="$out/../../native"
        mkdir -p "$native"
        cp "$target/debug/$lib" "$target/debug/twilio-oauth-mock" "$native/"
        ;;
    swift)
        mkdir -p "$out/Sources/TwilioOAuth" "$out/Sources/TwilioOAuthFFI"
        cp "$tmp/TwilioOAuth.swift" "$out/Sources/TwilioOAuth/TwilioOAuth.swift"
        cp "$tmp/TwilioOAuthFFI.h" "$out/Sources/TwilioOAuthFFI/TwilioOAuthFFI.h"
        # SwiftPM and XCFrameworks look for `module.modulemap`.
        cp "$tmp/TwilioOAuthFFI.modulemap" "$out/Sources/TwilioOAuthFFI/module.modulemap"
        ;;
esac
