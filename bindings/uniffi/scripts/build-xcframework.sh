#!/usr/bin/env bash
# macOS only (needs Xcode): builds TwilioOAuthFFI.xcframework from release static libraries for
# iOS devices, the iOS simulator (Apple silicon and Intel) and macOS, next to Package.swift, where
# the Swift package picks it up instead of the cargo-built dynamic library.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
swift="$root/bindings/uniffi/swift"
target=${CARGO_TARGET_DIR:-$root/target}
cd "$root"

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
    cargo rustc -p twilio-oauth-uniffi --lib --release --target "$t" --crate-type staticlib
done

# The generated header and module map, refreshed from the library itself.
bash "$here/generate.sh" swift "$swift"
include=$(mktemp -d)
trap 'rm -rf "$include"' EXIT
cp "$swift/Sources/TwilioOAuthFFI/TwilioOAuthFFI.h" "$swift/Sources/TwilioOAuthFFI/module.modulemap" "$include/"

lib=libtwilio_oauth_uniffi.a
mkdir -p "$target/universal/ios-sim" "$target/universal/macos"
lipo -create "$target/aarch64-apple-ios-sim/release/$lib" "$target/x86_64-apple-ios/release/$lib" \
    -output "$target/universal/ios-sim/$lib"
lipo -create "$target/aarch64-apple-darwin/release/$lib" "$target/x86_64-apple-darwin/release/$lib" \
    -output "$target/universal/macos/$lib"

rm -rf "$swift/TwilioOAuthFFI.xcframework"
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/release/$lib" -headers "$include" \
    -library "$target/universal/ios-sim/$lib" -headers "$include" \
    -library "$target/universal/macos/$lib" -headers "$include" \
    -output "$swift/TwilioOAuthFFI.xcframework"
echo "built $swift/TwilioOAuthFFI.xcframework"
