/// Operator limits for one participant, in bits per second: `up` caps what the participant sends,
/// `down` what the relay sends it. Nil means no limit. The daemon resolves them from the global
/// ceiling, the role's limits, the room's override and the participant's own, and hands the result
/// to the core, which enforces them with REMB towards senders.
public struct BitrateLimits: Equatable, Sendable {
    public var upBps: UInt64?
    public var downBps: UInt64?

    public init(upBps: UInt64? = nil, downBps: UInt64? = nil) {
        self.upBps = upBps
        self.downBps = downBps
    }
}
