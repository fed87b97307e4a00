import ArgumentParser
import Foundation
import Histogram
import MediaCore
import NIOCore
import NIOPosix

/// `relay-load`: simulated visits against a running visit-relay, with real ICE, DTLS, SRTP, VP8 and
/// Opus, measuring what the relay forwards, how fast, at what CPU cost.
@main
struct RelayLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-load",
        abstract: "Simulated video visits through visit-relay: forwarded packets per second, relay CPU per packet, added latency, loss.")

    @Option(help: "The relay's HTTP signaling address.")
    var http = "127.0.0.1:8080"

    @Option(help: "Simultaneous visits.")
    var visits = 2

    @Option(help: "Participants per visit: 2 (citizen and staff) or 3 (with an interpreter); each receives every other.")
    var party = 2

    @Option(help: "Seconds to measure, after a 2 s warm-up.")
    var seconds = 10

    @Option(help: "Target bitrate of the looped VP8, kbit/s.")
    var videoKbps = 600

    @Option(help: "The relay's process id, for its CPU time from /proc.")
    var relayPid: Int32?

    @Option(help: "Write the report as JSON here.")
    var json: String?

    @Option(help: "Event loop threads for the simulated clients.")
    var threads = 1

    @Option(help: "steady: --visits for --seconds; ramp: add --step visits per step until loss > 1 % or p99 > 10 ms; impaired: steady, every participant's media through --via (a link-emulator).")
    var mode: Mode = .steady

    @Option(help: "Send media to this host:port instead of the relay's candidate (a link-emulator in front of the relay).")
    var via: String?

    @Option(help: "The link-emulator profile behind --via, for the report.")
    var linkProfile: String?

    @Option(help: "Visits added per ramp step.")
    var step = 5

    @Option(help: "Most visits a ramp goes to.")
    var maxVisits = 400

    @Option(help: "steady: measure this many consecutive intervals of --seconds (a soak).")
    var intervals = 1

    @Flag(help: "Fail unless relay memory grew < 5 % from the first interval to the last, descriptors stayed put, loss < 1 % and every interval forwarded at least 90 % of the first.")
    var soakCheck = false

    enum Mode: String, ExpressibleByArgument { case steady, ramp, impaired }

    func validate() throws {
        guard (2...3).contains(party) else { throw ValidationError("--party must be 2 or 3, not \(party)") }
        if mode == .impaired && via == nil { throw ValidationError("--mode impaired needs --via, the link-emulator's address") }
        if let via { _ = try Self.address(via) }
    }

    func run() async throws {
        let signaling = SignalingClient(base: "http://\(http)")
        let media = try LoopedMedia(videoKbps: videoKbps)
        if mode == .impaired {
            say("relay-load: every participant behind \(linkProfile ?? "a link") at \(via ?? ""): latency and loss below include both emulated links")
        }
        say("relay-load: \(mode.rawValue), \(party) per visit, VP8 loop \(media.frames.count) frames at \(media.videoBitrate / 1000) kbit/s + Opus, \(seconds) s per step")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var fleet = Fleet(signaling: signaling, media: media, group: group, party: party, via: try via.map(Self.address))
        var reports: [LoadReport] = []
        let steady = mode != .ramp
        var target = steady ? visits : step
        while true {
            try await fleet.grow(to: target)
            for _ in 0..<(steady ? max(1, intervals) : 1) {
                var report = try await fleet.measure(seconds: seconds, relayPid: relayPid)
                report.linkProfile = mode == .impaired ? (linkProfile ?? via) : nil
                report.relayResidentKiB = relayPid.flatMap(ProcessFootprint.residentKiB)
                report.relayOpenFiles = relayPid.flatMap(ProcessFootprint.openFiles)
                say(report.row)
                reports.append(report)
            }
            let good = reports.last.map { $0.loss <= 0.01 && $0.latencyMs(99) <= 10 } ?? false
            if steady || !good || target + step > maxVisits { break }
            target += step
        }
        say(LoadReport.header + "\n" + reports.map(\.row).joined(separator: "\n"))
        if mode == .ramp {
            let good = reports.filter { $0.loss <= 0.01 && $0.latencyMs(99) <= 10 }
            say("last good step: \(good.last.map { "\($0.visits) visits, \(Int($0.forwardedPerSecond)) forwarded packets/s" } ?? "none")")
        }
        if let json {
            try ("[\n" + reports.map(\.json).joined(separator: ",\n") + "\n]\n").write(toFile: json, atomically: true, encoding: .utf8)
        }
        await fleet.leave()
        try await group.shutdownGracefully()
        if soakCheck { try Self.checkSoak(reports) }
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
        let worstLoss = reports.map(\.loss).max() ?? 0
        say(String(format: "soak: relay memory %d → %d KiB (%+.1f %%), descriptors %d → %d, worst loss %.3f %%",
                     rssFirst, rssLast, growth * 100, fdFirst, fdLast, worstLoss * 100))
        // Forwarding must hold up too: every interval within 10 % of the first (a stream that stops
        // loses nothing the receivers can count as gaps).
        let slowest = reports.map(\.forwardedPerSecond).min() ?? 0
        say(String(format: "soak: forwarded %.0f packets/s in the first interval, %.0f in the slowest", first.forwardedPerSecond, slowest))
        guard growth < 0.05, abs(fdLast - fdFirst) <= 2, worstLoss < 0.01, slowest >= 0.9 * first.forwardedPerSecond else {
            throw ExitCode(1)
        }
    }

}

/// Prints a line at once, also when standard output is a file or a pipe (the live progress line).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The simulated participants, `party` per visit, each on its own UDP socket.
struct Fleet {
    let signaling: SignalingClient
    let media: LoopedMedia
    let group: MultiThreadedEventLoopGroup
    let party: Int
    /// Where media goes instead of the relay's candidate (impaired mode), nil for straight to it.
    let via: SocketAddress?
    var participants: [LoadParticipant] = []
    var channels: [any Channel] = []
    var sessions: [String] = []

    init(signaling: SignalingClient, media: LoopedMedia, group: MultiThreadedEventLoopGroup, party: Int, via: SocketAddress?) {
        self.via = via
        self.signaling = signaling
        self.media = media
        self.group = group
        self.party = party
    }

    var visits: Int { participants.count / party }

    /// Joins visits until there are `target`, waits for every new participant's DTLS, starts them
    /// sending and lets 2 s pass (slots assigned, first keyframes through).
    mutating func grow(to target: Int) async throws {
        var added: [(LoadParticipant, any Channel)] = []
        while visits < target {
            let visit = visits
            for role in ["citizen", "staff", "interpreter"].prefix(party) {
                let participant = try LoadParticipant(name: "\(role)\(visit)", media: media, seed: UInt32(participants.count + 1),
                                                      decodesVideo: participants.isEmpty)
                let joined = try await signaling.join(room: "load-\(visit)", role: role, offer: participant.offer(slots: party - 1))
                try participant.accept(answer: joined.answer, via: via)
                let channel = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_rcvbuf), value: 1 << 21)
                    .channelInitializer { $0.pipeline.addHandler(participant) }
                    .bind(host: "127.0.0.1", port: 0).get()
                participants.append(participant)
                channels.append(channel)
                sessions.append(joined.session)
                added.append((participant, channel))
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        for (participant, channel) in added {
            while try await !channel.eventLoop.submit({ participant.snapshot.connected }).get() {
                guard ContinuousClock.now < deadline else { throw ValidationError("\(participant.name) did not connect within 30 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await channel.eventLoop.submit { participant.setSending(true) }.get()
        }
        try await Task.sleep(for: .seconds(2))
    }

    /// Resets every counter, measures for `seconds`, and reports.
    func measure(seconds: Int, relayPid: Int32?) async throws -> LoadReport {
        try await onEach { $0.resetCounters() }
        let before = try await signaling.counters()
        let cpuBefore = relayPid.flatMap(ProcessCPU.seconds)
        let began = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = ContinuousClock.now - began
        let snapshots = try await self.snapshots()
        let cpuAfter = relayPid.flatMap(ProcessCPU.seconds)
        let after = try await signaling.counters()
        func delta(_ name: String) -> Double { (after[name] ?? 0) - (before[name] ?? 0) }
        var cpu: Double?
        if let cpuBefore, let cpuAfter { cpu = cpuAfter - cpuBefore }
        return LoadReport(
            visits: visits, participants: participants.count, elapsed: elapsed, snapshots: snapshots,
            forwarded: delta("visitrelay_rtp_packets_forwarded_total"), forwardedBytes: delta("visitrelay_bytes_forwarded_total"),
            nacks: delta("visitrelay_nacks_sent_total"), relayCPUSeconds: cpu)
    }

    func leave() async {
        for session in sessions { await signaling.leave(session) }
        for channel in channels { try? await channel.close() }
    }

    func onEach(_ body: @escaping @Sendable (LoadParticipant) -> Void) async throws {
        for (participant, channel) in zip(participants, channels) {
            try await channel.eventLoop.submit { body(participant) }.get()
        }
    }

    func snapshots() async throws -> [LoadParticipant.Snapshot] {
        var result: [LoadParticipant.Snapshot] = []
        for (participant, channel) in zip(participants, channels) {
            result.append(try await channel.eventLoop.submit { participant.snapshot }.get())
        }
        return result
    }
}
