/// How much padding may go towards one receiver now, so that its estimate can show whether the
/// link has room again (video paused) or for the next simulcast encoding up.
///
/// A delay-based estimator only learns of capacity that is used. While video towards a receiver is
/// paused, nothing but audio crosses its downlink, so the estimate cannot climb back to the resume
/// rate by itself; padding a little above that rate gives it something to measure (as libwebrtc's
/// padding and LiveKit's prober do). The padding must not become the congestion it probes for, so
/// it has its own window: what the probe and audio rates put in flight over one round trip plus the
/// estimator's congestion-window margin, so a link still in its dip queues at most one window of it.
///
/// One type for the relay (`RelayCore+Allocation`) and `bwe-sim`, so the simulator judges the
/// probing the relay does. Sans-I/O: the time and what is in flight come in, a packet count goes out.
public struct PaddingProbePacer: Sendable {
    /// The budget holds at most two full-size packets, so probing after a gap does not burst.
    public static let maxBudgetBytes = 2.0 * 1200
    /// While paused, padding runs this much above the resume rate: once the estimate carries the
    /// probe it carries the resume rate with a margin.
    public static let pausedProbeFactor = 1.2

    /// Bytes of padding the rate has earned and not yet spent.
    public private(set) var budgetBytes = 0.0
    private var lastCall: ContinuousClock.Instant?

    public init() {}

    /// The padding rate: `pausedProbeFactor` × the resume rate while paused, else what a simulcast
    /// upswitch asks for (0: none).
    public static func rateBps(paused: Bool, resumeBps: Double, upswitchBps: Double) -> Double {
        paused ? resumeBps * pausedProbeFactor : upswitchBps
    }

    /// Bytes allowed in flight while probing. Paused: the probe and audio rates over one round trip
    /// plus the congestion-window margin. Not paused, video is in flight too: up to the estimate.
    public static func windowBytes(
        probeBps: Double,
        audioBps: Double,
        paused: Bool,
        targetBps: Double,
        rttMs: Double,
        congestionWindowMs: Double
    ) -> Int {
        let bps = paused ? probeBps + audioBps : max(probeBps, targetBps)
        return Int(bps / 8 * (rttMs + congestionWindowMs) / 1000)
    }

    /// How many padding packets of `packetBytes` to send now: the budget is refilled at `rateBps`
    /// for the time since the last call (`firstInterval` on the first; at most `maxBudgetBytes`),
    /// then spent on packets while what is in flight stays within `windowBytes`.
    public mutating func probes(
        now: ContinuousClock.Instant,
        rateBps: Double,
        packetBytes: Int,
        windowBytes: Int,
        bytesInFlight: Int,
        firstInterval: Duration
    ) -> Int {
        let elapsedSeconds = max(0, (lastCall.map { now - $0 } ?? firstInterval) / .seconds(1))
        lastCall = now
        budgetBytes = min(budgetBytes + rateBps / 8 * elapsedSeconds, Self.maxBudgetBytes)
        guard packetBytes > 0 else { return 0 }
        var count = 0
        var inFlight = bytesInFlight
        while budgetBytes >= Double(packetBytes), inFlight + packetBytes <= windowBytes {
            budgetBytes -= Double(packetBytes)
            inFlight += packetBytes
            count += 1
        }
        return count
    }
}
