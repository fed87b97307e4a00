import Foundation
import Histogram

/// One measured run: what the simulated clients sent and got, what the relay says it forwarded, and
/// the relay's CPU time over the same interval.
struct LoadReport {
    let visits: Int
    let participants: Int
    let seconds: Double
    let sent: Int
    let received: Int
    let gaps: Int
    /// Packets whose payload differed from what was sent (checksum in the trailer).
    let corrupted: Int
    /// The sampled participant's libvpx decode of what it received.
    let video: SampledVideoCheck.Counts
    let forwarded: Double
    let forwardedBytes: Double
    let nacks: Double
    let relayCPUSeconds: Double?
    let latency: Histogram<UInt64>
    /// The relay's resident memory and open descriptors at the end of the interval.
    var relayResidentKiB: Int?
    var relayOpenFiles: Int?
    /// The link-emulator profile every participant sat behind (impaired mode).
    var linkProfile: String?

    init(visits: Int, participants: Int, elapsed: Duration, snapshots: [LoadParticipant.Snapshot], forwarded: Double,
         forwardedBytes: Double, nacks: Double, relayCPUSeconds: Double?) {
        self.visits = visits
        self.participants = participants
        let (whole, fraction) = elapsed.components
        seconds = Double(whole) + Double(fraction) / 1e18
        sent = snapshots.reduce(0) { $0 + $1.sentPackets }
        received = snapshots.reduce(0) { $0 + $1.receivedPackets }
        gaps = snapshots.reduce(0) { $0 + $1.gaps }
        corrupted = snapshots.reduce(0) { $0 + $1.corrupted }
        video = snapshots.first?.video ?? SampledVideoCheck.Counts()
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for snapshot in snapshots { merged.add(snapshot.latencyMicroseconds) }
        latency = merged
        self.forwarded = forwarded
        self.forwardedBytes = forwardedBytes
        self.nacks = nacks
        self.relayCPUSeconds = relayCPUSeconds
    }

    var loss: Double { received + gaps == 0 ? 0 : Double(gaps) / Double(received + gaps) }
    var forwardedPerSecond: Double { forwarded / seconds }
    var cpuMicrosecondsPerPacket: Double? { relayCPUSeconds.map { forwarded > 0 ? $0 * 1e6 / forwarded : 0 } }
    func latencyMs(_ percentile: Double) -> Double { Double(latency.valueAtPercentile(percentile)) / 1000 }

    static let header = """
        | visits | participants | forwarded pkt/s | forwarded Mbit/s | relay CPU | CPU per forwarded pkt | added latency p50 / p99 / p99.9 | loss | corrupted | sample decoded / errors | relay NACKs | relay RSS | relay fds |
        | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
        """

    var row: String {
        let cpu = relayCPUSeconds.map { String(format: "%.0f %%", $0 / seconds * 100) } ?? "n/a"
        let perPacket = cpuMicrosecondsPerPacket.map { String(format: "%.1f µs", $0) } ?? "n/a"
        return "| \(visits) | \(participants) | \(Int(forwardedPerSecond)) | \(String(format: "%.2f", forwardedBytes * 8 / seconds / 1e6)) | \(cpu) | \(perPacket) | \(String(format: "%.2f / %.2f / %.2f ms", latencyMs(50), latencyMs(99), latencyMs(99.9))) | \(String(format: "%.3f %%", loss * 100)) | \(corrupted) | \(video.decoded) / \(video.errors) | \(Int(nacks)) | \(relayResidentKiB.map { "\($0 / 1024) MiB" } ?? "n/a") | \(relayOpenFiles.map(String.init) ?? "n/a") |"
    }

    var json: String {
        let object: [String: Any] = [
            "visits": visits, "participants": participants, "seconds": seconds, "sent": sent, "received": received,
            "gaps": gaps, "loss": loss, "corrupted": corrupted,
            "sampleVideo": ["decoded": video.decoded, "skipped": video.skipped, "errors": video.errors, "width": video.width,
                            "height": video.height], "forwarded": forwarded, "forwardedPerSecond": forwardedPerSecond,
            "forwardedMbps": forwardedBytes * 8 / seconds / 1e6, "relayCpuSeconds": relayCPUSeconds as Any,
            "cpuMicrosecondsPerForwardedPacket": cpuMicrosecondsPerPacket as Any,
            "latencyMs": ["p50": latencyMs(50), "p99": latencyMs(99), "p999": latencyMs(99.9), "samples": latency.totalCount],
            "relayNacks": nacks, "linkProfile": linkProfile as Any, "relayResidentKiB": relayResidentKiB as Any, "relayOpenFiles": relayOpenFiles as Any,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
