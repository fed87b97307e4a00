// swift-tools-version: 6.1
import PackageDescription

/// The libFuzzer targets (README "Fuzzing"), one executable each, built through SwiftPM against the
/// relay's own package: `swift build --package-path Fuzz --sanitize=fuzzer --sanitize=address
/// -Xswiftc -enable-testing` (Fuzz/run.sh, `make fuzz`). Each target is one file defining
/// `LLVMFuzzerTestOneInput`; libFuzzer provides `main`. `-enable-testing` lets a target reach the
/// parsers' internals through `@testable import`, as the unit tests do.
let parsers = [
    "FuzzH264", "FuzzOpusTOC", "FuzzRED", "FuzzRTCP", "FuzzRTP", "FuzzSDP", "FuzzSTUN", "FuzzTWCC", "FuzzVP8",
]
/// Targets that run the relay core, its crypto or a whole in-process visit.
let visits = ["FuzzJoinOffer", "FuzzSrtpGcm"]

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableExperimentalFeature("Lifetimes"),
]
let mediaCore = Target.Dependency.product(name: "MediaCore", package: "VisitRelay")
let clientPeer = Target.Dependency.product(name: "ClientPeer", package: "VisitRelay")

let package = Package(
    name: "VisitRelayFuzz",
    dependencies: [.package(name: "VisitRelay", path: "..")],
    targets: (parsers + visits).map { name in
        .executableTarget(name: name, dependencies: [mediaCore], swiftSettings: swiftSettings)
    } + [
        // The unit tests' in-process client and router (links to Tests/MediaCoreTests/Relay, not copies).
        .target(name: "FuzzSupport", dependencies: [mediaCore, clientPeer], swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzRelayEntry",
            dependencies: [mediaCore, clientPeer, "FuzzSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
