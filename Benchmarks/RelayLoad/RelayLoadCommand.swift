import ArgumentParser
import Foundation
import Histogram
import MediaCore
import NIOCore
import NIOPosix

/// `relay-load`: simulated visits against a running visit-relay, Janus's VideoRoom, or both one after
/// the other with the same visits and media (issue #9), with real ICE, DTLS, SRTP, VP8 and Opus,
/// measuring what the SFU forwards, how fast, at what CPU cost.
@main
struct RelayLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-load",
        abstract:
            "Simulated video visits through visit-relay: forwarded packets per second, relay CPU per packet, added latency, loss."
    )

    @Option(help: "The relay's HTTP signaling address.")
    var http = "127.0.0.1:8080"

    @Option(help: "Simultaneous visits.")
    var visits = 2

    @Option(
        help: "Participants per visit: 2 (citizen and staff) or 3 (with an interpreter); each receives every other."
    )
    var party = 2

    @Option(help: "Seconds to measure, after a 2 s warm-up.")
    var seconds = 10

    @Option(help: "Target bitrate of the looped VP8, kbit/s.")
    var videoKbps = 600

    @Option(help: "The relay's process id, for its CPU time from /proc.")
    var relayPid: Int32?

    @Option(
        help:
            "relay: visit-relay at --http; janus: Janus's VideoRoom at --janus; both: the relay, then Janus, with the same visits, then their ratios."
    )
    var target: Target = .relay

    @Option(help: "Janus's HTTP API root.")
    var janus = "http://127.0.0.1:8088/janus"

    @Option(help: "Janus's process id, for its CPU time from /proc.")
    var janusPid: Int32?

    @Option(help: "Write the report as JSON here.")
    var json: String?

    @Option(help: "Event loop threads for the simulated clients.")
    var threads = 1

    @Option(
        help:
            "steady: --visits for --seconds; ramp: add --step visits per step until loss > 1 % or p99 > 10 ms; impaired: steady, every participant's media through --via (a link-emulator)."
    )
    var mode: Mode = .steady

    @Option(
        help: "Send media to this host:port instead of the relay's candidate (a link-emulator in front of the relay)."
    )
    var via: String?

    @Option(help: "The link-emulator profile behind --via, for the report.")
    var linkProfile: String?

    @Option(help: "Visits added per ramp step.")
    var step = 5

    @Option(help: "Most visits a ramp goes to.")
    var maxVisits = 400

    @Option(help: "steady: measure this many consecutive intervals of --seconds (a soak).")
    var intervals = 1

    @Flag(
        help:
            "steady with --target both: both SFUs' visits stay joined and the --intervals measurements alternate between them (relay, Janus, relay, ...), only the measured SFU's senders sending; each ratio then pairs two measurements minutes apart at most, not a whole run apart."
    )
    var interleave = false

    @Flag(
        help:
            "Fail unless relay memory grew < 5 % from the first interval to the last, descriptors stayed put, loss < 1 % and every interval forwarded at least 90 % of the first."
    )
    var soakCheck = false

    enum Mode: String, ExpressibleByArgument { case steady, ramp, impaired }
    enum Target: String, ExpressibleByArgument { case relay, janus, both }

    func validate() throws {
        guard (2...3).contains(party) else { throw ValidationError("--party must be 2 or 3, not \(party)") }
        if mode == .impaired && via == nil {
            throw ValidationError("--mode impaired needs --via, the link-emulator's address")
        }
        if let via { _ = try Self.address(via) }
        if via != nil && target != .relay {
            throw ValidationError("--via (a link-emulator) is for --target relay only")
        }
        if soakCheck && target != .relay { throw ValidationError("--soak-check is for --target relay only") }
        if interleave && (target != .both || mode != .steady) {
            throw ValidationError("--interleave is for --target both --mode steady")
        }
    }

    func run() async throws {
        let media = try LoopedMedia(videoKbps: videoKbps)
        if mode == .impaired {
            say(
                "relay-load: every participant behind \(linkProfile ?? "a link") at \(via ?? ""): latency and loss below include both emulated links"
            )
        }
        say(
            "relay-load: \(mode.rawValue), \(party) per visit, VP8 loop \(media.frames.count) frames at \(media.videoBitrate / 1000) kbit/s + Opus, \(seconds) s per step"
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let factory = ConnectionFactory(media: media, group: group)
        var runs: [[LoadReport]] = []
        let relay = RelayTarget(signaling: SignalingClient(base: "http://\(http)"), via: try via.map(Self.address))
        let janusTarget = JanusTarget(client: JanusVideoRoomClient(base: janus))
        if interleave {
            runs = try await measureInterleaved([(relay, relayPid), (janusTarget, janusPid)], factory: factory)
        } else {
            if target != .janus { runs.append(try await measure(relay, pid: relayPid, factory: factory)) }
            if target != .relay { runs.append(try await measure(janusTarget, pid: janusPid, factory: factory)) }
        }
        try await group.shutdownGracefully()
        let reports = runs.flatMap { $0 }
        say(LoadReport.header + "\n" + reports.map(\.row).joined(separator: "\n"))
        for run in runs where mode == .ramp { say(Self.lastGoodStep(run)) }
        if runs.count == 2 { say(LoadComparison(relay: runs[0], janus: runs[1], ramp: mode == .ramp).text) }
        if let json {
            try ("[\n" + reports.map(\.json).joined(separator: ",\n") + "\n]\n").write(
                toFile: json,
                atomically: true,
                encoding: .utf8
            )
        }
        if soakCheck { try Self.checkSoak(reports) }
    }

    /// Runs the mode against one SFU: steady (`intervals` measurements of `visits`) or a ramp of
    /// `step` visits more per step until a step is no longer good or `maxVisits` is reached.
    func measure(_ sfu: any LoadTarget, pid: Int32?, factory: ConnectionFactory) async throws -> [LoadReport] {
        say("relay-load: \(sfu.name)")
        var fleet = Fleet(target: sfu, factory: factory, party: party)
        var reports: [LoadReport] = []
        let steady = mode != .ramp
        var target = steady ? visits : step
        do {
            while true {
                try await fleet.grow(to: target)
                for _ in 0..<(steady ? max(1, intervals) : 1) {
                    var report = try await fleet.measure(seconds: seconds, sfuPid: pid)
                    report.linkProfile = mode == .impaired ? (linkProfile ?? via) : nil
                    report.relayResidentKiB = pid.flatMap(ProcessFootprint.residentKiB)
                    report.relayOpenFiles = pid.flatMap(ProcessFootprint.openFiles)
                    say(report.row)
                    reports.append(report)
                }
                if steady || !(reports.last?.isGood ?? false) || target + step > maxVisits { break }
                target += step
            }
        } catch {
            await fleet.leave()
            // A ramp step that cannot even connect ends the ramp; the steps before it stand.
            guard !steady, !reports.isEmpty else { throw error }
            say("\(sfu.name): the step to \(target) visits failed: \(error)")
            return reports
        }
        await fleet.leave()
        return reports
    }

    /// `--interleave`: joins `visits` on every SFU, then measures them in turn, `intervals` rounds,
    /// with only the measured SFU's senders sending. Returns one run of reports per SFU.
    func measureInterleaved(
        _ sfus: [(target: any LoadTarget, pid: Int32?)],
        factory: ConnectionFactory
    ) async throws
        -> [[LoadReport]]
    {
        var fleets: [Fleet] = []
        var runs = Array(repeating: [LoadReport](), count: sfus.count)
        do {
            for sfu in sfus {
                say("relay-load: \(sfu.target.name): joining \(visits) visits")
                fleets.append(Fleet(target: sfu.target, factory: factory, party: party))
                try await fleets[fleets.count - 1].grow(to: visits)
                try await fleets[fleets.count - 1].pause()
            }
            for round in 1...max(1, intervals) {
                say("relay-load: round \(round) of \(max(1, intervals))")
                for (index, fleet) in fleets.enumerated() {
                    try await fleet.resume()
                    var report = try await fleet.measure(seconds: seconds, sfuPid: sfus[index].pid)
                    try await fleet.pause()
                    report.relayResidentKiB = sfus[index].pid.flatMap(ProcessFootprint.residentKiB)
                    report.relayOpenFiles = sfus[index].pid.flatMap(ProcessFootprint.openFiles)
                    say(report.row)
                    runs[index].append(report)
                }
            }
        } catch {
            for fleet in fleets { await fleet.leave() }
            throw error
        }
        for fleet in fleets { await fleet.leave() }
        return runs
    }

    static func lastGoodStep(_ reports: [LoadReport]) -> String {
        let good = reports.last { $0.isGood }
        return
            "\(reports.first?.target ?? ""): last good step: \(good.map { "\($0.visits) visits, \(Int($0.forwardedPerSecond)) forwarded packets/s" } ?? "none")"
    }

    static func address(_ text: String) throws -> SocketAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            let address = try? SocketAddress(ipAddress: String(text[..<colon]), port: port)
        else { throw ValidationError("expected host:port, got \(text)") }
        return address
    }

    /// The soak's verdict: memory, descriptors and loss over the run (issue: hardening).
    static func checkSoak(_ reports: [LoadReport]) throws {
        guard let first = reports.first, let last = reports.last, let rssFirst = first.relayResidentKiB,
            let rssLast = last.relayResidentKiB, let fdFirst = first.relayOpenFiles, let fdLast = last.relayOpenFiles
        else { throw ValidationError("the soak check needs --relay-pid") }
        let growth = Double(rssLast - rssFirst) / Double(rssFirst)
        let worstLoss = reports.map { max($0.loss, $0.undelivered) }.max() ?? 0
        say(
            String(
                format: "soak: relay memory %d → %d KiB (%+.1f %%), descriptors %d → %d, worst loss %.3f %%",
                rssFirst,
                rssLast,
                growth * 100,
                fdFirst,
                fdLast,
                worstLoss * 100
            )
        )
        // Forwarding must hold up too: every interval within 10 % of the first (a stream that stops
        // loses nothing the receivers can count as gaps).
        let slowest = reports.map(\.forwardedPerSecond).min() ?? 0
        say(
            String(
                format: "soak: forwarded %.0f packets/s in the first interval, %.0f in the slowest",
                first.forwardedPerSecond,
                slowest
            )
        )
        guard growth < 0.05, abs(fdLast - fdFirst) <= 2, worstLoss < 0.01, slowest >= 0.9 * first.forwardedPerSecond
        else {
            throw ExitCode(1)
        }
    }

}

/// Prints a line at once, also when standard output is a file or a pipe (the live progress line).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
