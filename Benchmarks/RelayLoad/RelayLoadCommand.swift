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

    @Option(help: "Simultaneous visits (two participants each).")
    var visits = 2

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

    func run() async throws {
        let signaling = SignalingClient(base: "http://\(http)")
        let media = try LoopedMedia(videoKbps: videoKbps)
        print("relay-load: \(visits) visit(s), VP8 loop \(media.frames.count) frames at \(media.videoBitrate / 1000) kbit/s + Opus, \(seconds) s")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var participants: [LoadParticipant] = []
        var channels: [any Channel] = []
        var sessions: [String] = []
        for visit in 0..<visits {
            for role in ["citizen", "staff"] {
                let participant = try LoadParticipant(name: "\(role)\(visit)", media: media, seed: UInt32(participants.count + 1))
                let joined = try await signaling.join(room: "load-\(visit)", role: role, offer: participant.offer(slots: 1))
                try participant.accept(answer: joined.answer)
                let channel = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_rcvbuf), value: 1 << 21)
                    .channelInitializer { $0.pipeline.addHandler(participant) }
                    .bind(host: "127.0.0.1", port: 0).get()
                participants.append(participant)
                channels.append(channel)
                sessions.append(joined.session)
            }
        }
        let connectDeadline = ContinuousClock.now + .seconds(20)
        while try await !allConnected(participants, channels) {
            guard ContinuousClock.now < connectDeadline else { throw ValidationError("not every participant connected within 20 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await onEach(participants, channels) { $0.setSending(true) }
        try await Task.sleep(for: .seconds(2))  // warm-up: slots assigned, first keyframes through
        try await onEach(participants, channels) { $0.resetCounters() }
        let countersBefore = try await signaling.counters()
        let cpuBefore = relayPid.flatMap(ProcessCPU.seconds)
        let began = ContinuousClock.now
        for second in 1...seconds {
            try await Task.sleep(for: .seconds(1))
            let partial = try await snapshots(participants, channels)
            let received = partial.reduce(0) { $0 + $1.receivedPackets }
            print("  \(second) s: \(received) packets received")
        }
        try await onEach(participants, channels) { $0.setSending(false) }
        let elapsed = ContinuousClock.now - began
        try await Task.sleep(for: .milliseconds(300))  // in flight
        let cpuAfter = relayPid.flatMap(ProcessCPU.seconds)
        let countersAfter = try await signaling.counters()
        let report = LoadReport(
            visits: visits, participants: participants.count, elapsed: elapsed,
            snapshots: try await snapshots(participants, channels),
            forwarded: (countersAfter["visitrelay_rtp_packets_forwarded_total"] ?? 0) - (countersBefore["visitrelay_rtp_packets_forwarded_total"] ?? 0),
            forwardedBytes: (countersAfter["visitrelay_bytes_forwarded_total"] ?? 0) - (countersBefore["visitrelay_bytes_forwarded_total"] ?? 0),
            nacks: (countersAfter["visitrelay_nacks_sent_total"] ?? 0) - (countersBefore["visitrelay_nacks_sent_total"] ?? 0),
            relayCPUSeconds: zip2(cpuBefore, cpuAfter).map { $1 - $0 })
        print(report.table)
        if let json { try report.json.write(toFile: json, atomically: true, encoding: .utf8) }
        for session in sessions { await signaling.leave(session) }
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()
    }

    func zip2(_ a: Double?, _ b: Double?) -> (Double, Double)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    func onEach(_ participants: [LoadParticipant], _ channels: [any Channel], _ body: @escaping @Sendable (LoadParticipant) -> Void) async throws {
        for (participant, channel) in zip(participants, channels) {
            try await channel.eventLoop.submit { body(participant) }.get()
        }
    }

    func snapshots(_ participants: [LoadParticipant], _ channels: [any Channel]) async throws -> [LoadParticipant.Snapshot] {
        var result: [LoadParticipant.Snapshot] = []
        for (participant, channel) in zip(participants, channels) {
            result.append(try await channel.eventLoop.submit { participant.snapshot }.get())
        }
        return result
    }

    func allConnected(_ participants: [LoadParticipant], _ channels: [any Channel]) async throws -> Bool {
        try await snapshots(participants, channels).allSatisfy(\.connected)
    }
}
