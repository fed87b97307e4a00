import Foundation

/// visit-relay against Janus on the same visits (issue #9): the ratio of CPU per packet the
/// receivers got (Janus counts nothing itself, so both SFUs are counted by what arrived), and for a
/// ramp the ratio of the last good step's visits.
struct LoadComparison {
    let relay: [LoadReport]
    let janus: [LoadReport]
    let ramp: Bool

    var text: String {
        var lines = ["comparison (janus / visit-relay; CPU per packet the receivers got, same visits, same media):"]
        var ratios: [Double] = []
        for (ours, theirs) in zip(relay, janus) where ours.visits == theirs.visits {
            if let a = theirs.cpuMicrosecondsPerReceivedPacket, let b = ours.cpuMicrosecondsPerReceivedPacket, b > 0 {
                ratios.append(a / b)
            }
            lines.append(
                "  \(ours.visits) visits: CPU per received packet \(Self.format(ours.cpuMicrosecondsPerReceivedPacket)) vs \(Self.format(theirs.cpuMicrosecondsPerReceivedPacket)), ratio \(Self.ratio(theirs.cpuMicrosecondsPerReceivedPacket, ours.cpuMicrosecondsPerReceivedPacket)); received \(Int(ours.receivedPerSecond)) vs \(Int(theirs.receivedPerSecond)) pkt/s; loss \(Self.percent(ours.loss)) vs \(Self.percent(theirs.loss)); undelivered \(Self.percent(ours.undelivered)) vs \(Self.percent(theirs.undelivered))"
            )
        }
        // Several pairs at the same visits (--interleave, or --intervals): the median pair.
        if !ramp, ratios.count > 1 {
            let sorted = ratios.sorted()
            let median =
                sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            lines.append(
                String(
                    format: "  median ratio over %d pairs: %.2f× (lowest %.2f×, highest %.2f×)",
                    ratios.count,
                    median,
                    sorted[0],
                    sorted[sorted.count - 1]
                )
            )
        }
        if ramp {
            let ours = relay.last { $0.isGood }
            let theirs = janus.last { $0.isGood }
            // A ramp whose last step was still good stopped at --max-visits: its capacity is at least that.
            let oursCapped = relay.last?.isGood ?? false
            let theirsCapped = janus.last?.isGood ?? false
            let bound = oursCapped == theirsCapped ? "" : (oursCapped ? "at least " : "at most ")
            lines.append(
                "  last good step: visit-relay \(Self.visits(ours, capped: oursCapped)), janus \(Self.visits(theirs, capped: theirsCapped)), ratio (relay / janus) \(bound)\(Self.ratio(ours.map { Double($0.visits) }, theirs.map { Double($0.visits) }))"
            )
        }
        if let stripped = janus.first(where: { $0.untimed > 0 }) {
            lines.append(
                "  note: \(stripped.untimed) packets reached the receivers through Janus without the padding trailer: latency and checksum cover only the rest"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func visits(_ report: LoadReport?, capped: Bool) -> String {
        guard let report else { return "none" }
        return capped ? "\(report.visits) (still good at --max-visits)" : "\(report.visits)"
    }

    static func format(_ microseconds: Double?) -> String {
        microseconds.map { String(format: "%.1f µs", $0) } ?? "n/a"
    }
    static func percent(_ fraction: Double) -> String { String(format: "%.3f %%", fraction * 100) }
    static func ratio(_ numerator: Double?, _ denominator: Double?) -> String {
        guard let numerator, let denominator, denominator > 0 else { return "n/a" }
        return String(format: "%.2f×", numerator / denominator)
    }
}
