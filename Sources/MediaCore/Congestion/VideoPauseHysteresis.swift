/// When the allocator pauses one video stream towards one receiver, and when it lets it resume
/// (DESIGN.md "Bandwidth estimation": below a floor video pauses and audio continues). Pause at
/// once when the stream's video share falls under the floor; resume only after the share has stayed
/// at or above a higher threshold for a hold time, so a share hovering near the floor does not make
/// video flap. The caller acts on the change (stop forwarding, ask for a keyframe); the relay's
/// allocator and `bwe-sim` share this rule.
public struct VideoPauseHysteresis: Sendable, Equatable {
    public struct Thresholds: Sendable, Equatable {
        public var floorBps: Double
        public var resumeBps: Double
        public var hold: Duration

        public init(floorBps: Double, resumeBps: Double, hold: Duration) {
            self.floorBps = floorBps
            self.resumeBps = resumeBps
            self.hold = hold
        }
    }

    public enum Change: Sendable, Equatable {
        case pause
        case resume
    }

    public private(set) var isPaused = false
    /// Since when the share has stayed at or above the resume threshold while paused.
    private var resumeCandidateSince: ContinuousClock.Instant?

    public init() {}

    /// Takes the stream's video share at `now`; returns the change to act on, if any.
    public mutating func update(videoShareBps: Double, thresholds: Thresholds, now: ContinuousClock.Instant) -> Change?
    {
        guard isPaused else {
            guard videoShareBps < thresholds.floorBps else { return nil }
            isPaused = true
            resumeCandidateSince = nil
            return .pause
        }
        guard videoShareBps >= thresholds.resumeBps else {
            resumeCandidateSince = nil
            return nil
        }
        let since = resumeCandidateSince ?? now
        resumeCandidateSince = since
        guard now - since >= thresholds.hold else { return nil }
        isPaused = false
        return .resume
    }
}
