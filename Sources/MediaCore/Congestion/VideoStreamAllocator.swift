/// What one receiver gets of one video source (DESIGN.md "Bandwidth estimation"): from a simulcast
/// sender the best encoding the receiver's video share carries, paused below a floor, and how much
/// padding would let its estimate reach the next encoding up.
///
/// The choice: the highest-rate active encoding within the share (moving up needs
/// `upswitchHeadroom` over the encoding's rate), else the lowest active one. Down at once; up only
/// once the higher choice has held for `upswitchHold`, so a share that wobbles does not make the
/// receiver's decoder restart at every keyframe. The caller switches at the new encoding's keyframe
/// (a switch asks for one). Pausing and resuming follow `VideoPauseHysteresis`.
///
/// A state machine for one receive slot, sans-I/O: the share, the source's encoding rates and the
/// time go in, a `Decision` comes out. The relay's allocator (`RelayCore+Allocation`) runs one per
/// slot every tick; `bwe-sim` runs the same type for its one stream.
public struct VideoStreamAllocator: Sendable, Equatable {
    /// The most simulcast encodings a source offers (`RelayCoreConfiguration.maxSimulcastEncodings`
    /// is this), the size of `EncodingRates`.
    public static let maxEncodings = 3
    /// How long a higher encoding must fit before the receiver is moved up to it.
    public static let upswitchHold: Duration = .seconds(1)
    /// Moving up needs the share to exceed the higher encoding's rate by this factor.
    public static let upswitchHeadroom = 1.1

    /// Each encoding's measured rate (bit/s), nil when the source sends nothing on it (or has no
    /// such encoding); at most `maxEncodings`.
    public typealias EncodingRates = InlineArray<3, UInt64?>

    /// What to act on after an update.
    public struct Decision: Sendable, Equatable {
        /// Video towards the receiver paused (stop forwarding) or may resume (ask for a keyframe).
        public var pause: VideoPauseHysteresis.Change?
        /// The encoding to move to at its next keyframe (ask it for one), when the choice changed.
        public var switchTo: Int?
        /// Padding that would let the estimate reach the next encoding up; 0 when none is wanted.
        public var upswitchProbeBps: UInt64

        public init(pause: VideoPauseHysteresis.Change? = nil, switchTo: Int? = nil, upswitchProbeBps: UInt64 = 0) {
            self.pause = pause
            self.switchTo = switchTo
            self.upswitchProbeBps = upswitchProbeBps
        }
    }

    private var pause = VideoPauseHysteresis()
    /// The encoding the receiver should see.
    public private(set) var targetEncoding = 0
    /// Since when a higher encoding has fitted the share.
    private var upswitchCandidateSince: ContinuousClock.Instant?

    public init() {}

    /// Whether video towards the receiver is paused.
    public var isPaused: Bool { pause.isPaused }

    /// A new source (or none) in the slot: start again from its first encoding. A pause stays: the
    /// receiver's link is what it was.
    public mutating func sourceChanged() {
        targetEncoding = 0
        upswitchCandidateSince = nil
    }

    /// Takes the stream's video share and, for a simulcast source, its encodings' rates (nil for a
    /// single stream) at `now`.
    public mutating func update(
        videoShareBps: UInt64,
        encodingRates: EncodingRates?,
        thresholds: VideoPauseHysteresis.Thresholds,
        now: ContinuousClock.Instant
    ) -> Decision {
        var decision = Decision()
        if !pause.isPaused, let rates = encodingRates {
            (decision.switchTo, decision.upswitchProbeBps) = chooseEncoding(
                videoShareBps: videoShareBps,
                rates: rates,
                now: now
            )
        }
        decision.pause = pause.update(videoShareBps: Double(videoShareBps), thresholds: thresholds, now: now)
        return decision
    }

    private mutating func chooseEncoding(
        videoShareBps: UInt64,
        rates: EncodingRates,
        now: ContinuousClock.Instant
    ) -> (switchTo: Int?, probeBps: UInt64) {
        let currentRate = rates[min(targetEncoding, Self.maxEncodings - 1)] ?? 0
        var best: Int?
        var lowest: Int?
        var nextUp: UInt64?  // the rate of the cheapest active encoding above the current one
        for candidate in 0..<Self.maxEncodings {
            guard let bps = rates[candidate] else { continue }
            if lowest.map({ bps < rates[$0]! }) ?? true { lowest = candidate }
            let up = currentRate > 0 && bps > currentRate
            if up { nextUp = min(nextUp ?? bps, bps) }
            let fits = up ? Double(bps) * Self.upswitchHeadroom <= Double(videoShareBps) : bps <= videoShareBps
            if fits, best.map({ bps > rates[$0]! }) ?? true { best = candidate }
        }
        guard let choice = best ?? lowest else { return (nil, 0) }  // nothing measured yet: keep the first
        var probe: UInt64 = 0
        let choiceRate = rates[choice]!
        if let nextUp, choice == targetEncoding || (currentRate > 0 && choiceRate <= currentRate) {
            // Stuck below the next encoding: pad up to the share (what the estimate already allows,
            // so the acknowledged rate lets it climb), at most to the next encoding's need.
            let wanted = min(videoShareBps, UInt64(Double(nextUp) * Self.upswitchHeadroom))
            probe = wanted > currentRate ? wanted - currentRate : 0
        }
        guard choice != targetEncoding else {
            upswitchCandidateSince = nil
            return (nil, probe)
        }
        if currentRate > 0 && choiceRate > currentRate {
            let since = upswitchCandidateSince ?? now
            upswitchCandidateSince = since
            guard now - since >= Self.upswitchHold else { return (nil, 0) }
        }
        upswitchCandidateSince = nil
        targetEncoding = choice
        return (choice, 0)
    }
}
