#!/usr/bin/env bash
# Proves that the JVM package of DIST installs and works without a Rust toolchain:
#
#   bindings/uniffi/clean-check.sh DIST
#
# 1. PATH without cargo (checked), no jna.library.path, LD_LIBRARY_PATH unset;
# 2. a fresh local Maven repository (target/clean-check/jvm/repository, emptied first) gets
#    DIST/twilio-oauth-kotlin-VERSION.jar and .pom through `mvn install:install-file`;
# 3. tests/jvm-quickstart, a separate Maven project that depends on that jar alone, compiles
#    the README's Kotlin quick start (a copy of kotlin/src/test/kotlin/twiliooauth/QuickStart.kt)
#    and runs it in its own JVM against the prebuilt local server (target/debug/twilio-oauth-mock,
#    or $TWILIO_OAUTH_MOCK): the account fetched, 5 API calls for 1 token request, a refused token
#    request explained, and JNA's word that the library came out of the jar.
#
# Third-party artifacts (kotlin-stdlib, coroutines, JNA, the Kotlin compiler and Maven's plugins)
# come from this machine's ~/.m2 used as a remote repository (file://), and from Maven Central
# when missing there; with CLEAN_CHECK_DOWNLOAD=1 from Maven Central only. Either way the fresh
# repository starts empty, so the jar's POM must name every dependency it needs.
# Prints each step's duration; exits non-zero on the first failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(realpath "${1:?usage: clean-check.sh DIST}")
start=$(date +%s.%N)
elapsed() { printf '%.1f s' "$(echo "$(date +%s.%N) - $1" | bc)"; }

version=$(sed -n '/^\[workspace\.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml")
jar=$dist/twilio-oauth-kotlin-$version.jar
pom=$dist/twilio-oauth-kotlin-$version.pom
for f in "$jar" "$pom"; do
    [ -f "$f" ] || { echo "clean-check.sh: $f is missing (run bindings/uniffi/dist.sh $dist)" >&2; exit 1; }
done
mock=$(realpath "${TWILIO_OAUTH_MOCK:-${CARGO_TARGET_DIR:-$root/target}/debug/twilio-oauth-mock}")
[ -x "$mock" ] || { echo "clean-check.sh: no local server at $mock (cargo build -p twilio-oauth-mock)" >&2; exit 1; }

# No Rust toolchain: every PATH entry that has cargo or rustc goes.
clean_path=
IFS=: read -ra entries <<<"$PATH"
for d in "${entries[@]}"; do
    if [ -n "$d" ] && [ ! -x "$d/cargo" ] && [ ! -x "$d/rustc" ]; then
        clean_path=${clean_path:+$clean_path:}$d
    fi
done
export PATH=$clean_path
unset LD_LIBRARY_PATH CARGO_TARGET_DIR JAVA_TOOL_OPTIONS
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
    echo "clean-check.sh: cargo is still on PATH" >&2
    exit 1
fi
echo "clean-check.sh: no cargo or rustc on PATH; jar $(basename "$jar") ($(stat -c %s "$jar") bytes)"

work=$root/target/clean-check/jvm
repo=$work/repository
rm -rf "$work"
mkdir -p "$repo"
settings=$work/settings.xml
if [ "${CLEAN_CHECK_DOWNLOAD:-0}" = 1 ]; then
    printf '<settings/>\n' >"$settings"
    echo "clean-check.sh: third-party artifacts from Maven Central"
else
    host_repo=${HOST_MAVEN_REPO:-$HOME/.m2/repository}
    cat >"$settings" <<EOF
<settings>
  <profiles>
    <profile>
      <id>host-cache</id>
      <repositories>
        <repository><id>host-cache</id><url>file://$host_repo</url></repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository><id>host-cache</id><url>file://$host_repo</url></pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles><activeProfile>host-cache</activeProfile></activeProfiles>
</settings>
EOF
    echo "clean-check.sh: third-party artifacts from $host_repo (file://), else Maven Central"
fi

# Maven 3.8 prints stray colour resets even in batch mode: strip them.
mvn_clean() {
    mvn -B -ntp -q -Dstyle.color=never -s "$settings" "-Dmaven.repo.local=$repo" "$@" 2>&1 |
        sed -u 's/\x1b\[[0-9;]*m//g'
    return "${PIPESTATUS[0]}"
}

t=$(date +%s.%N)
(cd "$work" && mvn_clean install:install-file "-Dfile=$jar" "-DpomFile=$pom")
echo "clean-check.sh: mvn install:install-file into the fresh repository: $(elapsed "$t")"

project=$root/tests/jvm-quickstart
rm -rf "$project/target"
mkdir -p "$project/target/quickstart"
cp "$here/kotlin/src/test/kotlin/twiliooauth/QuickStart.kt" "$project/target/quickstart/"

t=$(date +%s.%N)
(cd "$project" && mvn_clean "-Dtwilio.oauth.version=$version" compile)
echo "clean-check.sh: tests/jvm-quickstart resolved and compiled against the jar: $(elapsed "$t")"

installed=$repo/twiliooauth/twilio-oauth-kotlin/$version/twilio-oauth-kotlin-$version.jar
cmp -s "$installed" "$jar" || { echo "clean-check.sh: $installed is not $jar" >&2; exit 1; }

t=$(date +%s.%N)
out=$(cd "$project" && mvn_clean "-Dtwilio.oauth.version=$version" "-Dtwilio.oauth.mock=$mock" exec:exec) || {
    echo "$out" >&2
    echo "clean-check.sh: the quick start failed" >&2
    exit 1
}
echo "$out"
grep -q "jar!/linux-x86-64/libtwilio_oauth_uniffi.so" <<<"$out" || { echo "clean-check.sh: the library did not come from the jar" >&2; exit 1; }
grep -q -F "$repo/" <<<"$out" || { echo "clean-check.sh: the jar did not come from the fresh repository" >&2; exit 1; }
echo "clean-check.sh: the quick start ran (its own JVM, through Maven): $(elapsed "$t")"
echo "clean-check.sh: JVM package checked in $(elapsed "$start")"
