// swift-tools-version:5.9
// The Swift package of twilio-oauth: the generated bindings (module `TwilioOAuth`) over the Rust
// library `libtwilio_oauth_uniffi`.
//
// Two ways to provide the Rust library:
// - an XCFramework at `TwilioOAuthFFI.xcframework` next to this file (iOS/macOS apps; see
//   ../README.md for building it), used whenever it exists;
// - otherwise the library built by cargo (`cargo build -p twilio-oauth-uniffi`), looked up in
//   $TWILIO_OAUTH_LIB_DIR or the workspace's target/debug (macOS and Linux development, tests).
import Foundation
import PackageDescription

let packageDir = Context.packageDirectory
let xcframework = "\(packageDir)/TwilioOAuthFFI.xcframework"
let useXCFramework = FileManager.default.fileExists(atPath: xcframework)
let libDir = Context.environment["TWILIO_OAUTH_LIB_DIR"] ?? "\(packageDir)/../../../target/debug"

let ffiTarget: Target = useXCFramework
    ? .binaryTarget(name: "TwilioOAuthFFI", path: "TwilioOAuthFFI.xcframework")
    : .systemLibrary(name: "TwilioOAuthFFI", path: "Sources/TwilioOAuthFFI")

// The Rust library verifies TLS certificates with the platform's verifier (Security.framework).
let apple: [Platform] = [.macOS, .iOS]
let linkRustLibrary: [LinkerSetting] = [
    .linkedFramework("Security", .when(platforms: apple)),
    .linkedFramework("CoreFoundation", .when(platforms: apple)),
] + (useXCFramework
    ? []
    : [
        .linkedLibrary("twilio_oauth_uniffi"),
        .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
    ])

let package = Package(
    name: "TwilioOAuth",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "TwilioOAuth", targets: ["TwilioOAuth"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "TwilioOAuth",
            dependencies: ["TwilioOAuthFFI"],
            path: "Sources/TwilioOAuth",
            linkerSettings: linkRustLibrary
        ),
        .testTarget(
            name: "TwilioOAuthTests",
            dependencies: ["TwilioOAuth"],
            path: "Tests/TwilioOAuthTests"
        ),
    ]
)
