#!/usr/bin/env bash
# Builds the cdylib and the uniffi-bindgen binary (debug: the generated code is the same as
# from a release build) and generates the bindings in library mode.
#
#   scripts/generate.sh kotlin OUT_DIR   Kotlin sources into OUT_DIR (package twiliooauth), built
#                                        with the `test-hooks` feature for the Maven tests; also
#                                        copies the cdylib and the mock server into
#                                        OUT_DIR/../../native for JNA and the tests.
#   scripts/generate.sh kotlin-release OUT_DIR
#                                        the JVM package as shipped (dist.sh, the Maven profile
#                                        `dist`): Kotlin sources generated from a release build
#                                        of the cdylib without test hooks, and that library
#                                        (stripped) copied into OUT_DIR/../../native.
#   scripts/generate.sh kotlin-android OUT_DIR
#                                        the Android flavour (android.toml), built without test
#                                        hooks, plus the hand-written Kotlin of
#                                        kotlin/src/main/kotlin: everything an app adds to its
#                                        sources (e.g. OUT_DIR = app/src/main/java).
#   scripts/generate.sh swift SWIFT_DIR  the Swift package's generated files under
#                                        SWIFT_DIR/Sources (TwilioOAuth.swift, the FFI header and
#                                        module.modulemap), built without test hooks.
#
# In Kotlin, uniffi makes an exception's `message` a list of its fields; this script makes it
# the error's human text (its `toString()`, the core's text), as `message` is in every language.
set -euo pipefail

lang=${1:?usage: generate.sh kotlin|kotlin-android|swift OUT_DIR}
out=${2:?usage: generate.sh kotlin|kotlin-android|swift OUT_DIR}
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
config=()
case "$lang" in
    kotlin) features=cli,test-hooks bindgen_lang=kotlin ;;
    # The bindgen binary as for `kotlin` (one debug build for both); the library is a release one.
    kotlin-release) features=cli,test-hooks bindgen_lang=kotlin ;;
    kotlin-android) features=cli bindgen_lang=kotlin config=(--config "$here/../android.toml") ;;
    swift) features=cli bindgen_lang=swift ;;
    *) echo "generate.sh: unknown language $lang (kotlin, kotlin-release, kotlin-android or swift)" >&2; exit 2 ;;
esac
echo "generate.sh: cargo build -p twilio-oauth-uniffi --features $features (debug)" >&2
cargo build --quiet -p twilio-oauth-uniffi --features "$features" --lib --bin uniffi-bindgen
built=$target/debug/$lib
if [ "$lang" = kotlin-release ]; then
    echo "generate.sh: cargo build --release -p twilio-oauth-uniffi (no features)" >&2
    cargo build --quiet --release -p twilio-oauth-uniffi --lib
    built=$target/release/$lib
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$target/debug/uniffi-bindgen" generate "$built" --language "$bindgen_lang" \
    ${config[@]+"${config[@]}"} --no-format --out-dir "$tmp"

# Kotlin: `TwilioOAuthException.message` is the human text (every subclass, or none: a change
# of uniffi's template must fail here, not ship the field list).
patch_kotlin_message() {
    perl -0pi -e '
        my $all = () = /override val message\n/g;
        my $done = s/(override val message\n\s+get\(\) = )"[^\n]*"\n/$1toString()\n/g;
        die "generate.sh: patched $done of $all exception messages\n" if $all == 0 || $done != $all;
    ' "$1"
}

case "$lang" in
    kotlin | kotlin-release | kotlin-android)
        patch_kotlin_message "$tmp/twiliooauth/twilio_oauth_uniffi.kt"
        ;;
esac

case "$lang" in
    kotlin-android)
        mkdir -p "$out"
        cp -R "$tmp/." "$out/"
        cp "$here/../kotlin/src/main/kotlin/twiliooauth/"*.kt "$out/twiliooauth/"
        ;;
    kotlin)
        cargo build --quiet -p twilio-oauth-mock
        rm -rf "$out"
        mkdir -p "$out"
        cp -R "$tmp/." "$out/"
        native="$out/../../native"
        mkdir -p "$native"
        cp "$target/debug/$lib" "$target/debug/twilio-oauth-mock" "$native/"
        ;;
    kotlin-release)
        rm -rf "$out"
        mkdir -p "$out"
        cp -R "$tmp/." "$out/"
        native="$out/../../native"
        mkdir -p "$native"
        cp "$built" "$native/"
        # The symbol table is for debuggers, not for JNA (which needs the dynamic symbols only):
        # a fifth of the library.
        if command -v strip >/dev/null && [ "$(uname -s)" = Linux ]; then
            strip --strip-unneeded "$native/$lib"
        fi
        ;;
    swift)
        mkdir -p "$out/Sources/TwilioOAuth" "$out/Sources/TwilioOAuthFFI"
        cp "$tmp/TwilioOAuth.swift" "$out/Sources/TwilioOAuth/TwilioOAuth.swift"
        cp "$tmp/TwilioOAuthFFI.h" "$out/Sources/TwilioOAuthFFI/TwilioOAuthFFI.h"
        # SwiftPM and XCFrameworks look for `module.modulemap`.
        cp "$tmp/TwilioOAuthFFI.modulemap" "$out/Sources/TwilioOAuthFFI/module.modulemap"
        ;;
esac
