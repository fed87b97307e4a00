// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

/// Settings shared by every Swift target: Swift 6 language mode (the tools-version default),
/// explicit existentials, internal imports (so C modules never leak into public API), and
/// lifetime-dependent `~Escapable` views over borrowed bytes (see STYLE.md §2).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableExperimentalFeature("Lifetimes"),
]

let package = Package(
    name: "VisitRelay",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MediaCore", targets: ["MediaCore"]),
        .library(name: "ClientPeer", targets: ["ClientPeer"]),
        .executable(name: "visit-relay", targets: ["RelayDaemon"]),
        .executable(name: "link-emulator", targets: ["LinkEmulator"]),
        .executable(name: "relay-load", targets: ["RelayLoad"]),
        .executable(name: "udp-floor", targets: ["UdpFloor"]),
        .executable(name: "bwe-sim", targets: ["BweSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C modules. CSrtp is a real C target (the DTLS datagram BIO needs C callbacks);
        // COpus and CVpx are system libraries found through pkg-config.
        .target(
            name: "CSrtp",
            cSettings: [.unsafeFlags(["-Wno-deprecated-declarations"])],
            linkerSettings: [.linkedLibrary("srtp2"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // CUdpBatch wraps sendmmsg(2), which Swift's Glibc module does not import, for the workers' output batches.
        .target(name: "CUdpBatch"),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CVpx", pkgConfig: "vpx", providers: [.apt(["libvpx-dev"])]),

        // The relay's brain: sans-I/O, no sockets, no threads, no wall clock.
        .target(name: "MediaCore", dependencies: ["CSrtp", "COpus", "CVpx"], swiftSettings: swiftSettings),

        // One client peer (offer, ICE checks, DTLS keying, SRTP), sans I/O, for the in-process tests,
        // the load harness and the fuzz targets.
        .target(name: "ClientPeer", dependencies: ["MediaCore"], swiftSettings: swiftSettings),

        // The daemon process.
        .executableTarget(
            name: "RelayDaemon",
            dependencies: [
                "MediaCore",
                "CUdpBatch",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Public")],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "MediaCoreTests", dependencies: ["MediaCore", "ClientPeer"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RelayDaemonTests",
            dependencies: [
                "RelayDaemon", "MediaCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),

        // The load harness: simulated visits with real ICE, DTLS, SRTP, VP8 and Opus (Benchmarks/RelayLoad).
        .executableTarget(
            name: "RelayLoad",
            dependencies: [
                "MediaCore",
                "ClientPeer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/RelayLoad",
            swiftSettings: swiftSettings
        ),

        // The kernel's own cost per forwarded UDP datagram on loopback, no SFU work (Benchmarks/UdpFloor):
        // the floor under relay-load's CPU per forwarded packet. C, because it measures the system calls alone.
        .executableTarget(name: "UdpFloor", path: "Benchmarks/UdpFloor", cSettings: [.define("_GNU_SOURCE")]),

        // The link emulator: a pure, clock-driven link model and the UDP proxy built on it.
        .target(name: "LinkModel", swiftSettings: swiftSettings),
        .executableTarget(
            name: "LinkEmulator",
            dependencies: [
                "LinkModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("profiles.json")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LinkModelTests", dependencies: ["LinkModel"], swiftSettings: swiftSettings),

        // The bandwidth simulator: the relay's estimator and allocator over the link model and
        // recorded traces, in virtual time (Benchmarks/BweSimulation; `bwe-sim` runs it).
        .target(
            name: "BweSimulation",
            dependencies: ["MediaCore", "LinkModel"],
            path: "Benchmarks/BweSimulation",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BweSim",
            dependencies: [
                "BweSimulation", "MediaCore", "LinkModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/BweSim",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BweSimulationTests",
            dependencies: ["BweSimulation", "MediaCore", "LinkModel"],
            swiftSettings: swiftSettings
        ),
    ]
)

// Micro-benchmarks (package-benchmark) are declared only when VISITRELAY_BENCHMARKS is set, so that
// `swift build` and `swift test` never build the benchmark harness. `make bench` sets it and uses its
// own scratch path (.build-bench):
//   VISITRELAY_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark
if ProcessInfo.processInfo.environment["VISITRELAY_BENCHMARKS"] != nil {
    package.dependencies += [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"])
    ]
    package.targets += [
        .executableTarget(
            name: "MediaCoreBenchmarks",
            dependencies: ["MediaCore", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/MediaCoreBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
}
