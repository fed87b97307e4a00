import Foundation
import Histogram

/// One measured run: what the simulated clients sent and got, what the SFU says it forwarded (when
/// it exports counters), and the SFU's CPU time over the same interval.
///
/// CPU per packet is given two ways. Per *received* packet counts what the harness's receivers
/// decrypted, the same way for every SFU, so it is the figure to compare visit-relay with Janus by
/// (Janus has no forwarding counters). Per *forwarded* packet uses visit-relay's own counter.
struct LoadReport {
    /// The SFU measured ("visit-relay", "janus").
    let target: String
    let visits: Int
    let participants: Int
    /// Participants per visit: each packet sent is owed to the `party - 1` others.
    let party: Int
    let seconds: Double
    let sent: Int
    let received: Int
    let receivedBytes: Int
    let gaps: Int
    /// Packets of those gaps that arrived later, retransmitted on our NACKs.
    let recovered: Int
    /// NACKs the receivers sent, and packets the senders sent again on the SFU's NACKs.
    let nacksSent: Int
    let retransmitted: Int
    /// Packets whose payload differed from what was sent (checksum in the trailer).
    let corrupted: Int
    /// Packets that arrived without the timing trailer (the SFU dropped the RTP padding).
    let untimed: Int
    /// The sampled connection's libvpx decode of what it received.
    let video: SampledVideoCheck.Counts
    /// The SFU's own counts over the interval; nil when it exports none.
    let counters: SFUCounters?
    let relayCPUSeconds: Double?
    let latency: Histogram<UInt64>
    /// The SFU's resident memory and open descriptors at the end of the interval.
    var relayResidentKiB: Int?
    var relayOpenFiles: Int?
    /// The link-emulator profile every participant sat behind (impaired mode).
    var linkProfile: String?

    init(
        target: String,
        visits: Int,
        party: Int,
        elapsed: Duration,
        snapshots: [LoadConnection.Snapshot],
        counters: SFUCounters?,
        relayCPUSeconds: Double?
    ) {
        self.target = target
        self.visits = visits
        self.party = party
        participants = visits * party
        let (whole, fraction) = elapsed.components
        seconds = Double(whole) + Double(fraction) / 1e18
        sent = snapshots.reduce(0) { $0 + $1.sentPackets }
        received = snapshots.reduce(0) { $0 + $1.receivedPackets }
        receivedBytes = snapshots.reduce(0) { $0 + $1.receivedBytes }
        gaps = snapshots.reduce(0) { $0 + $1.gaps }
        recovered = snapshots.reduce(0) { $0 + $1.recovered }
        nacksSent = snapshots.reduce(0) { $0 + $1.nacksSent }
        retransmitted = snapshots.reduce(0) { $0 + $1.retransmitted }
        corrupted = snapshots.reduce(0) { $0 + $1.corrupted }
        untimed = snapshots.reduce(0) { $0 + $1.untimed }
        video = snapshots.map(\.video).first { $0.decoded + $0.skipped + $0.errors > 0 } ?? SampledVideoCheck.Counts()
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for snapshot in snapshots { merged.add(snapshot.latencyMicroseconds) }
        latency = merged
        self.counters = counters
        self.relayCPUSeconds = relayCPUSeconds
    }

    /// What never arrived: gaps that no retransmission filled, over everything expected (the
    /// received count includes the retransmissions that filled a gap).
    var loss: Double {
        let missing = max(0, gaps - recovered)
        let expected = received - recovered + gaps
        return expected <= 0 ? 0 : Double(missing) / Double(expected)
    }
    /// What the receivers should have got: every packet sent (not counting resends) once to each
    /// other participant of its visit.
    var expected: Int { max(0, sent - retransmitted) * (party - 1) }
    /// The share of `expected` that reached no receiver at all. Gaps only count packets missing
    /// between packets that did arrive: a stream that never started, or stopped for good, leaves
    /// none (a Janus ramp past its capacity delivered a tenth of its packets with 0 % "loss").
    var undelivered: Double { expected <= 0 ? 0 : Double(max(0, expected - received)) / Double(expected) }
    /// Loss before repair: every gap, filled later or not.
    var lossBeforeRepair: Double {
        let expected = received - recovered + gaps
        return expected <= 0 ? 0 : Double(gaps) / Double(expected)
    }
    /// The SFU's forwarded packets per second by its own count, else by what the receivers got.
    var forwardedPerSecond: Double { (counters?.forwardedPackets ?? Double(received)) / seconds }
    var receivedPerSecond: Double { Double(received) / seconds }
    var cpuMicrosecondsPerPacket: Double? {
        guard let cpu = relayCPUSeconds, let forwarded = counters?.forwardedPackets else { return nil }
        return forwarded > 0 ? cpu * 1e6 / forwarded : 0
    }
    var cpuMicrosecondsPerReceivedPacket: Double? {
        relayCPUSeconds.map { received > 0 ? $0 * 1e6 / Double(received) : 0 }
    }
    func latencyMs(_ percentile: Double) -> Double { Double(latency.valueAtPercentile(percentile)) / 1000 }
    /// A ramp step is good while loss and undelivered packets stay at or under 1 % and p99 added
    /// latency at or under 10 ms.
    var isGood: Bool { loss <= 0.01 && undelivered <= 0.01 && latencyMs(99) <= 10 }

    static let header = """
        | SFU | visits | participants | forwarded pkt/s (SFU) | received pkt/s | received Mbit/s | SFU CPU | CPU per received pkt | CPU per forwarded pkt | added latency p50 / p99 / p99.9 | loss (before repair) | undelivered | corrupted | untimed | sample decoded / errors | SFU NACKs / RTX | SFU RSS | SFU fds |
        | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
        """

    var row: String {
        func microseconds(_ value: Double?) -> String { value.map { String(format: "%.1f µs", $0) } ?? "n/a" }
        let cpu = relayCPUSeconds.map { String(format: "%.0f %%", $0 / seconds * 100) } ?? "n/a"
        let forwarded = counters.map { String(Int($0.forwardedPackets / seconds)) } ?? "n/a"
        let latency =
            latency.totalCount == 0
            ? "n/a" : String(format: "%.2f / %.2f / %.2f ms", latencyMs(50), latencyMs(99), latencyMs(99.9))
        return
            "| \(target) | \(visits) | \(participants) | \(forwarded) | \(Int(receivedPerSecond)) | \(String(format: "%.2f", Double(receivedBytes) * 8 / seconds / 1e6)) | \(cpu) | \(microseconds(cpuMicrosecondsPerReceivedPacket)) | \(microseconds(cpuMicrosecondsPerPacket)) | \(latency) | \(String(format: "%.3f %% (%.3f %%)", loss * 100, lossBeforeRepair * 100)) | \(String(format: "%.3f %%", undelivered * 100)) | \(corrupted) | \(untimed) | \(video.decoded) / \(video.errors) | \(counters.map { "\(Int($0.nacks)) / \(Int($0.retransmissions))" } ?? "n/a") | \(relayResidentKiB.map { "\($0 / 1024) MiB" } ?? "n/a") | \(relayOpenFiles.map(String.init) ?? "n/a") |"
    }

    var json: String {
        let object: [String: Any] = [
            "target": target, "visits": visits, "participants": participants, "seconds": seconds, "sent": sent,
            "received": received,
            "receivedPerSecond": receivedPerSecond, "receivedMbps": Double(receivedBytes) * 8 / seconds / 1e6,
            "gaps": gaps, "loss": loss, "expected": expected, "undelivered": undelivered, "party": party,
            "lossBeforeRepair": lossBeforeRepair, "recovered": recovered,
            "clientNacksSent": nacksSent, "clientRetransmissions": retransmitted, "corrupted": corrupted,
            "untimed": untimed,
            "sampleVideo": [
                "decoded": video.decoded, "skipped": video.skipped, "errors": video.errors, "width": video.width,
                "height": video.height,
            ],
            "forwarded": counters?.forwardedPackets as Any, "forwardedPerSecond": forwardedPerSecond,
            "forwardedMbps": counters.map { $0.forwardedBytes * 8 / seconds / 1e6 } as Any,
            "relayCpuSeconds": relayCPUSeconds as Any,
            "cpuMicrosecondsPerForwardedPacket": cpuMicrosecondsPerPacket as Any,
            "cpuMicrosecondsPerReceivedPacket": cpuMicrosecondsPerReceivedPacket as Any,
            "latencyMs": [
                "p50": latencyMs(50), "p99": latencyMs(99), "p999": latencyMs(99.9), "samples": latency.totalCount,
            ],
            "relayNacks": counters?.nacks as Any, "relayRetransmissions": counters?.retransmissions as Any,
            "linkProfile": linkProfile as Any, "relayResidentKiB": relayResidentKiB as Any,
            "relayOpenFiles": relayOpenFiles as Any,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
