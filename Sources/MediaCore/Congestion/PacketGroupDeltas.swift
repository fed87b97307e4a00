/// Groups acknowledged packets and yields the delay gradient between consecutive groups
/// (draft-ietf-rmcat-gcc-02 §5.2, libwebrtc InterArrivalDelta): a group is the packets sent within
/// `groupSendSpanMs` of its first, plus packets that arrive in a burst right after it. Bursts matter
/// on 4G, where the radio scheduler releases several packets in one grant.
public struct PacketGroupDeltas: Sendable {
    /// The difference between two consecutive groups: send spacing, arrival spacing, both ms, and the
    /// later group's arrival time (ms, the receiver's clock).
    public struct Delta: Sendable, Equatable {
        public var sendDeltaMs: Double
        public var arrivalDeltaMs: Double
        public var arrivalTimeMs: Double
    }

    private struct Group {
        var firstSendMs: Double
        var lastSendMs: Double
        var firstArrivalMs: Double
        var lastArrivalMs: Double
    }

    private let parameters: SendSideEstimatorParameters
    private var current: Group?
    private var previous: Group?

    public init(parameters: SendSideEstimatorParameters) { self.parameters = parameters }

    /// Forgets all groups (after an outage: the backlog's arrival ramp is not a path trend).
    public mutating func reset() {
        current = nil
        previous = nil
    }

    /// Adds one received packet, in send order; returns a delta when it closes a group.
    public mutating func add(sendMs: Double, arrivalMs: Double) -> Delta? {
        guard var group = current else {
            current = Group(
                firstSendMs: sendMs,
                lastSendMs: sendMs,
                firstArrivalMs: arrivalMs,
                lastArrivalMs: arrivalMs
            )
            return nil
        }
        if sendMs < group.firstSendMs { return nil }  // reordered across groups: ignored
        if sendMs - group.firstSendMs <= parameters.groupSendSpanMs
            || belongsToBurst(group, sendMs: sendMs, arrivalMs: arrivalMs)
        {
            group.lastSendMs = max(group.lastSendMs, sendMs)
            group.lastArrivalMs = max(group.lastArrivalMs, arrivalMs)
            current = group
            return nil
        }
        var delta: Delta?
        if let previous {
            delta = Delta(
                sendDeltaMs: group.lastSendMs - previous.lastSendMs,
                arrivalDeltaMs: group.lastArrivalMs - previous.lastArrivalMs,
                arrivalTimeMs: group.lastArrivalMs
            )
        }
        previous = group
        current = Group(firstSendMs: sendMs, lastSendMs: sendMs, firstArrivalMs: arrivalMs, lastArrivalMs: arrivalMs)
        return delta
    }

    private func belongsToBurst(_ group: Group, sendMs: Double, arrivalMs: Double) -> Bool {
        let arrivalDelta = arrivalMs - group.lastArrivalMs
        let sendDelta = sendMs - group.lastSendMs
        if sendDelta == 0 { return true }
        return arrivalDelta - sendDelta < 0 && arrivalDelta <= parameters.burstWindowMs
            && arrivalMs - group.firstArrivalMs < parameters.maximumBurstMs
    }
}
