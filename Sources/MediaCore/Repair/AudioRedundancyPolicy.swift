/// How many earlier Opus packets the relay repeats in each RED packet (RFC 2198) towards one
/// receiver: none on a clean link, one or two as the loss the receiver reports grows.
///
/// Input: the fraction lost in each receiver report the receiver sends about what we send it
/// (RFC 3550 §6.4.1, in 1/256), and the time. Output: `distance`, 0...2.
///
/// Why these steps: with independent losses at rate p a packet is lost for good only if it and the
/// `distance` packets after it are all lost, p^(distance+1): at 1 % one repeat leaves 0.01 %; at
/// 3 % it leaves 0.09 % on independent loss, but 4G loss comes in bursts of a few packets, which a
/// single repeat cannot bridge, so two repeats from 3 %. Each repeat costs one more Opus payload
/// on the receiver's downlink (the allocator counts it), so redundancy goes up at the first report
/// that asks for it and comes down only after `holdDown` of reports below the lower threshold.
public struct AudioRedundancyPolicy: Sendable, Equatable {
    /// Loss (1/256) at or above which one, and two, repeats are sent.
    public static let oneAbove: UInt8 = 3  // 1.2 %
    public static let twoAbove: UInt8 = 8  // 3.1 %
    /// Below these (a margin under the step up), for `holdDown`, the distance steps down.
    public static let oneBelow: UInt8 = 1  // 0.4 %
    public static let twoBelow: UInt8 = 5  // 2.0 %
    public static let holdDown: Duration = .seconds(10)

    public private(set) var distance = 0
    /// Since when every report has been below the threshold for stepping down.
    private var quietSince: ContinuousClock.Instant?

    public init() {}

    /// A receiver report's fraction lost (1/256) at `now`.
    public mutating func reportedLoss(_ fraction: UInt8, now: ContinuousClock.Instant) {
        let wanted = fraction >= Self.twoAbove ? 2 : fraction >= Self.oneAbove ? 1 : 0
        if wanted >= distance {
            distance = wanted
            quietSince = nil
            return
        }
        let below = distance == 2 ? Self.twoBelow : Self.oneBelow
        guard fraction < below else {
            quietSince = nil
            return
        }
        guard let since = quietSince else {
            quietSince = now
            return
        }
        if now - since >= Self.holdDown {
            distance -= 1
            quietSince = now
        }
    }
}
