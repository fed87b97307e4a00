/// A keyframe owed by one encoding of one source (RFC 4585 §6.3.1 PLI on that encoding's SSRC).
struct KeyframeRequest: Hashable, Sendable {
    var source: ParticipantID
    var encoding: Int
}

/// Why the relay asks a source for a keyframe. Counted per reason, so an operator can tell a
/// receiver's decoder asking from the relay's own switches and repairs.
public enum KeyframeReason: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// A receiver can receive for the first time, or a new receiver was given a slot.
    case newReceiver
    /// A receiver's PLI or FIR for the stream it is shown.
    case receiverAsked
    /// A receiver's path moved (handover, ICE restart after an outage): what was in flight is lost.
    case pathMoved
    /// The allocator moved a receiver to another simulcast encoding, or still waits for its keyframe.
    case layerSwitch
    /// Video towards a receiver resumes after a pause.
    case resume
    /// The relay gave up repairing a hole in what the source sent (NACK could not bring it).
    case repairGaveUp
    /// A receiver's feedback came back after an outage in which the relay dropped its video.
    case outageEnded

    public var description: String {
        switch self {
        case .newReceiver: "new_receiver"
        case .receiverAsked: "receiver_asked"
        case .pathMoved: "path_moved"
        case .layerSwitch: "layer_switch"
        case .resume: "resume"
        case .repairGaveUp: "repair_gave_up"
        case .outageEnded: "outage_ended"
        }
    }
}

/// Keyframe requests decided in one place: which encoding of which source owes a keyframe, why,
/// and when the PLI for it may go (RFC 4585 §3.4: a sender asked too often restarts its encoder
/// for nothing, so one PLI per encoding per `interval`, unless a new receiver is waiting).
///
/// Every part of the relay that needs a keyframe (signaling, RTCP from receivers, the allocator,
/// repair) calls `request`; once per tick `RelayCore.sendKeyframeRequests` walks what is
/// `pending`, sends a PLI for each it can reach and that `mayGo`, and reports it `sent`. A request
/// for an encoding that cannot be reached yet stays pending. Sans-I/O: no clock, the time comes in.
struct KeyframeRequestScheduler: Sendable {
    /// At most one PLI per encoding in this interval.
    static let interval: Duration = .milliseconds(300)

    /// What is owed, with the first reason given for it (the one the PLI is counted under).
    private(set) var pending: [KeyframeRequest: KeyframeReason] = [:]
    private var lastSent: [KeyframeRequest: ContinuousClock.Instant] = [:]

    var isEmpty: Bool { pending.isEmpty }

    /// `request` owes a keyframe for `reason`; `urgent` lifts the interval (a receiver is waiting
    /// for its first picture).
    mutating func request(_ request: KeyframeRequest, reason: KeyframeReason, urgent: Bool = false) {
        if urgent { lastSent[request] = nil }
        if pending[request] == nil { pending[request] = reason }
    }

    /// Whether the PLI for a pending `request` may go at `now`.
    func mayGo(_ request: KeyframeRequest, now: ContinuousClock.Instant) -> Bool {
        guard let last = lastSent[request] else { return true }
        return now - last >= Self.interval
    }

    /// The PLI for `request` went at `now`; returns the reason it was asked for (nil if it was not
    /// pending).
    @discardableResult
    mutating func sent(_ request: KeyframeRequest, now: ContinuousClock.Instant) -> KeyframeReason? {
        lastSent[request] = now
        return pending.removeValue(forKey: request)
    }

    /// `request` can never be served (its source or encoding is gone).
    mutating func cancel(_ request: KeyframeRequest) {
        pending[request] = nil
        lastSent[request] = nil
    }

    /// `source` left: nothing of it is owed or remembered.
    mutating func forget(source: ParticipantID) {
        pending = pending.filter { $0.key.source != source }
        lastSent = lastSent.filter { $0.key.source != source }
    }
}
