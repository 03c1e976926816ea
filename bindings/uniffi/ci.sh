#!/usr/bin/env bash
# CI stage of the uniffi bindings (Kotlin and Swift). Run from the repository root:
#   bash bindings/uniffi/ci.sh
# 1. builds the cdylib, the uniffi-bindgen binary and the mock server (debug);
# 2. runs the binding crate's Rust unit tests (and checks its formatting; clippy is .ci/run's);
# 3. lints the Kotlin sources with ktlint (the ktlint-cli jar from Maven Central, fetched by
#    Maven on first use);
# 4. runs the Kotlin tests on the JVM (Maven: regenerates the bindings, then JUnit 5), including
#    every scenario of tests/scenarios (writes target/scenario-results/kotlin.json) and the
#    RedisStore tests against a real redis-server (Debian's; installed when missing);
# 5. checks that the committed Swift sources are what uniffi-bindgen generates now (no Swift
#    toolchain on these machines, so the Swift tests themselves run only where Swift exists).
# Prints each step's duration; exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
uniffi=bindings/uniffi
STEP_PREFIX=uniffi
# shellcheck source=../../scripts/step.sh
source scripts/step.sh

ensure_maven() {
    if command -v mvn >/dev/null && command -v javac >/dev/null; then
        return
    fi
    echo "Maven or a JDK is missing: installing them from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
}

ensure_redis() {
    if command -v redis-server >/dev/null; then
        return
    fi
    echo "redis-server is missing: installing it from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
}

# ktlint's own command line (one jar with its dependencies), from Maven Central through Maven.
KTLINT_VERSION=1.8.0

ktlint() {
    local dir=$uniffi/kotlin/target/ktlint
    local jar=$dir/ktlint-cli-$KTLINT_VERSION-all.jar
    if [ ! -f "$jar" ]; then
        (cd "$uniffi/kotlin" && mvn -B -ntp -q -Dstyle.color=never dependency:copy \
            "-Dartifact=com.pinterest.ktlint:ktlint-cli:$KTLINT_VERSION:jar:all" \
            "-DoutputDirectory=target/ktlint" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
    fi
    # Style: kotlin/.editorconfig. The generated sources (target/) are not ours to lint.
    (cd "$uniffi/kotlin" && java -jar "target/ktlint/ktlint-cli-$KTLINT_VERSION-all.jar" --relative "src/**/*.kt")
    echo "ktlint: the Kotlin sources are clean"
}

build() {
    cargo build --quiet -p twilio-oauth-uniffi --features cli,test-hooks --lib --bin uniffi-bindgen
    cargo build --quiet -p twilio-oauth-mock
}

rust_tests() {
    cargo fmt -p twilio-oauth-uniffi -- --check
    cargo test --quiet -p twilio-oauth-uniffi --features cli,test-hooks --lib
}

kotlin_tests() {
    local reports=$uniffi/kotlin/target/surefire-reports
    rm -rf "$reports"
    local status=0
    # Not quiet: Surefire's closing `Tests run: N, Failures: F, Errors: E, Skipped: S` line is
    # what the top-level CI counts. -ntp hides download progress; Maven 3.8 prints stray colour
    # resets even in batch mode: strip them.
    (cd "$uniffi/kotlin" && mvn -B -ntp -Dstyle.color=never test 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g') || status=$?
    # One line over every test class (ScenarioTest's dynamic tests count one each).
    local run=0 failed=0 errors=0 skipped=0
    if compgen -G "$reports/*.txt" >/dev/null; then
        while read -r r f e s; do
            run=$((run + r)) failed=$((failed + f)) errors=$((errors + e)) skipped=$((skipped + s))
        done < <(sed -n 's/^Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped: \([0-9]*\).*/\1 \2 \3 \4/p' "$reports"/*.txt)
    fi
    echo "kotlin: $((run - failed - errors - skipped)) passed, $((failed + errors)) failed, $skipped skipped"
    if [ "$status" -ne 0 ]; then
        return "$status"
    fi
    if [ "$run" -eq 0 ]; then
        echo "kotlin: no test ran" >&2
        return 1
    fi
}

swift_freshness() {
    local fresh
    fresh=$(mktemp -d)
    bash "$uniffi/scripts/generate.sh" swift "$fresh"
    local stale=0
    for f in TwilioOAuth/TwilioOAuth.swift TwilioOAuthFFI/TwilioOAuthFFI.h TwilioOAuthFFI/module.modulemap; do
        if ! diff -u "$uniffi/swift/Sources/$f" "$fresh/Sources/$f" >"$fresh/diff" 2>&1; then
            echo "stale: $uniffi/swift/Sources/$f (regenerate: bash $uniffi/scripts/generate.sh swift $uniffi/swift)" >&2
            head -40 "$fresh/diff" >&2
            stale=1
        fi
    done
    rm -rf "$fresh"
    if [ "$stale" -ne 0 ]; then
        return 1
    fi
    echo "swift: the generated sources are current (3 files)"
}

step "build cdylib, uniffi-bindgen, mock server" build
step "rust unit tests" rust_tests
step "maven" ensure_maven
step "redis-server" ensure_redis
step "ktlint" ktlint
step "kotlin tests" kotlin_tests
step "swift sources are current" swift_freshness
