import ArgumentParser
import Foundation
import LinkModel
import NIOCore
import NIOPosix

/// `link-emulator`: a UDP proxy that puts each client behind its own emulated link (uplink towards
/// the relay, downlink back), after mahimahi's mm-link, with a per-packet CSV log and a summary.
@main
struct LinkEmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link-emulator",
        abstract:
            "Trace-driven UDP link emulator (capacity traces, queue, delay, jitter, loss, outages, NAT rebinding)."
    )

    @Option(help: "LISTEN=TARGET, e.g. 127.0.0.1:41000=127.0.0.1:40000 (repeat once per relay worker port).")
    var listen: [String] = []

    @Option(help: "Profile name from the profiles file.")
    var profile = "rural-4g"

    @Option(help: "Profiles file (JSON); default: the one built in.")
    var profiles: String?

    @Option(help: "Directory of mahimahi traces; default the repository's Traces/, or VISITRELAY_TRACES.")
    var tracesDir: String?

    @Option(help: "Random seed (the same seed gives the same losses and jitter).")
    var seed: UInt64 = 1

    @Option(help: "Write a per-packet CSV log here.")
    var log: String?

    @Option(help: "Write the summary as JSON here.")
    var summary: String?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Give every client a new source port towards the relay every N seconds (overrides the profile).")
    var rebindEvery: Double?

    @Flag(help: "List the profiles and exit.")
    var listProfiles = false

    func run() throws {
        let json = try profiles.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } ?? Self.builtInProfiles()
        if listProfiles {
            let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
            for name in object.keys.sorted() where !name.hasPrefix("_") {
                let description = (object[name] as? [String: Any])?["description"] as? String ?? ""
                print("\(name)\t\(description)")
            }
            return
        }
        // A profile with fixed rates reads no trace: a missing directory is an error only when named.
        let traces =
            try tracesDir.map { dir throws(TraceDirectory.NotFound) in try TraceDirectory.locate(explicit: dir) }
            ?? (try? TraceDirectory.locate()) ?? "Traces"
        let linkProfile = try LinkProfile.load(name: profile, json: json, tracesDirectory: traces)
        guard !listen.isEmpty else { throw ValidationError("give at least one --listen LISTEN=TARGET") }
        let mappings = try listen.map { spec -> (SocketAddress, SocketAddress) in
            let parts = spec.split(separator: "=")
            guard parts.count == 2 else { throw ValidationError("--listen expects LISTEN=TARGET, got \(spec)") }
            return (try Self.address(String(parts[0])), try Self.address(String(parts[1])))
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let proxy = LinkProxy(
            eventLoop: group.next(),
            profile: linkProfile,
            seed: seed,
            logPath: log,
            rebindEverySeconds: rebindEvery ?? linkProfile.rebindEverySeconds
        )
        try proxy.eventLoop.submit { try proxy.start(mappings: mappings) }.wait().wait()
        let banner =
            "link-emulator: profile \(linkProfile.name) (\(linkProfile.description)); "
            + mappings.map { "\($0.0) -> \($0.1)" }.joined(separator: ", ") + "\n"
        FileHandle.standardOutput.write(Data(banner.utf8))  // unbuffered: scripts wait for this line

        let done = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        signal(SIGUSR1, SIG_IGN)
        let rebind = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        rebind.setEventHandler { proxy.eventLoop.execute { proxy.rebindAll() } }
        rebind.resume()
        if let duration {
            _ = done.wait(timeout: .now() + duration)
        } else {
            done.wait()
        }
        let report = try proxy.eventLoop.submit { proxy.stop() }.wait()
        print(report.line)
        if let summary { try report.json.write(toFile: summary, atomically: true, encoding: .utf8) }
        try? group.syncShutdownGracefully()
    }

    static func address(_ text: String) throws -> SocketAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("expected host:port, got \(text)")
        }
        return try SocketAddress(ipAddress: String(text[..<colon]), port: port)
    }

    static func builtInProfiles() throws -> Data {
        guard let url = Bundle.module.url(forResource: "profiles", withExtension: "json") else {
            throw ValidationError("built-in profiles.json is missing")
        }
        return try Data(contentsOf: url)
    }
}
