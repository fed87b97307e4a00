/// Loss detection and NACK scheduling for one inbound RTP stream (RFC 4585 §6.2.1 generic NACK),
/// sans-I/O: packets and ticks come in with the time, sequence numbers to request go out.
///
/// A power-of-two ring indexed by the low bits of the extended sequence number holds each packet's
/// state, so an insert is O(1) and allocates nothing. Reordering on 4G is not loss: the generator
/// learns how late out-of-order packets arrive (a histogram of how many sequence numbers late) and
/// waits that long, in packets, before the first request; a tail loss is requested after
/// `minimumWait`. Requests repeat at most once per RTT, at most `maxRetries` times, and are given up
/// after `maxAge`; a hole given up on, or a jump too large to track, asks for a keyframe instead.
/// A packet recovered by retransmission counts as received.
///
/// Audio is played out on time or not at all: an audio generator (`inTimeHorizon`) requests a hole
/// only while the retransmission can still arrive, one RTT later, within that horizon of the hole's
/// detection, and gives the hole up after it; it never asks for a keyframe.
public struct NackGenerator: Sendable {
    // Tunables (after libwebrtc's NackRequester and mediasoup's NackGenerator).
    public static let capacity = 2048
    public static let maxRetries: UInt8 = 10
    public static let maxAge: Duration = .milliseconds(1000)
    public static let minimumWait: Duration = .milliseconds(10)
    /// A hole still within the reordering allowance is requested after this long anyway.
    public static let tailWait: Duration = .milliseconds(50)
    /// A forward jump larger than this is a stream reset: forget the past, ask for a keyframe.
    public static let maxJump: UInt32 = 1000
    /// Percentile of the reordering histogram used as the allowance.
    public static let reorderPercentile = 0.95

    private enum SlotState: UInt8 { case empty, received, missing }

    private struct Slot {
        var sequence: UInt32 = 0
        var state: SlotState = .empty
        var retries: UInt8 = 0
        var detectedAt: ContinuousClock.Instant
        var lastRequest: ContinuousClock.Instant?
    }

    private var slots: [Slot]
    private var highest: UInt32?
    private var oldestMissing: UInt32 = 0
    private var missingCount = 0
    /// reorderHistogram[d] = out-of-order packets that arrived d sequence numbers late (capped).
    private var reorderHistogram = [UInt32](repeating: 0, count: 64)
    private var reorderSamples: UInt32 = 0
    public private(set) var keyframeNeeded = false
    public private(set) var recovered = 0
    public private(set) var givenUp = 0
    public private(set) var requested = 0

    /// How long a hole is requested before it is given up (`maxAge`, or the in-time horizon).
    public let giveUpAfter: Duration
    /// Nil for video; for audio, the latest a retransmission is still worth having.
    public let inTimeHorizon: Duration?

    /// `inTimeHorizon` nil: video rules (up to `maxAge`, keyframe on give-up); set: audio rules.
    public init(now: ContinuousClock.Instant, inTimeHorizon: Duration? = nil) {
        self.inTimeHorizon = inTimeHorizon
        self.giveUpAfter = inTimeHorizon ?? Self.maxAge
        slots = [Slot](repeating: Slot(detectedAt: now), count: Self.capacity)
    }

    /// The extended (32-bit) form of a 16-bit sequence number, near the highest seen (RFC 3550 A.1).
    public func extend(_ sequence: UInt16) -> UInt32 {
        guard let highest else { return UInt32(sequence) }
        let delta = Int32(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest)))
        return UInt32(bitPattern: Int32(bitPattern: highest) &+ delta)
    }

    /// Packets out of order are tolerated up to this many sequence numbers before a NACK.
    public var reorderAllowance: UInt32 {
        guard reorderSamples > 0 else { return 0 }
        let target = UInt32((Double(reorderSamples) * Self.reorderPercentile).rounded(.up))
        var sum: UInt32 = 0
        for (distance, count) in reorderHistogram.enumerated() {
            sum += count
            if sum >= target { return UInt32(distance) }
        }
        return UInt32(reorderHistogram.count - 1)
    }

    /// Records a packet (original or recovered by retransmission). Returns true if it was new.
    @discardableResult
    public mutating func insert(sequence: UInt16, now: ContinuousClock.Instant, retransmission: Bool = false) -> Bool {
        let extended = extend(sequence)
        guard let top = highest else {
            highest = extended
            slots[Int(extended) & (Self.capacity - 1)] = Slot(sequence: extended, state: .received, detectedAt: now)
            return true
        }
        if extended > top {
            let jump = extended - top
            if jump > Self.maxJump {
                reset(at: extended, now: now)
                keyframeNeeded = true
                return true
            }
            var s = top + 1
            while s < extended {
                markMissing(s, now: now)
                s += 1
            }
            highest = extended
            slots[Int(extended) & (Self.capacity - 1)] = Slot(sequence: extended, state: .received, detectedAt: now)
            return true
        }
        // Late: reordered, retransmitted, duplicate, or too old to know.
        guard top - extended < UInt32(Self.capacity) else { return false }
        let index = Int(extended) & (Self.capacity - 1)
        guard slots[index].sequence == extended, slots[index].state == .missing else { return false }
        slots[index].state = .received
        missingCount -= 1
        if retransmission || slots[index].lastRequest != nil {
            recovered += 1
        } else {
            let distance = Int(min(top - extended, UInt32(reorderHistogram.count - 1)))
            reorderHistogram[distance] += 1
            reorderSamples += 1
        }
        return true
    }

    /// Sequence numbers to request now, written into `out` (returns how many). `rtt` spaces retries.
    public mutating func due(now: ContinuousClock.Instant, rtt: Duration, into out: inout [UInt16]) -> Int {
        out.removeAll(keepingCapacity: true)
        guard missingCount > 0, let top = highest else { return 0 }
        let allowance = reorderAllowance
        let retryInterval = max(rtt, Self.minimumWait)
        var s = max(oldestMissing, top >= UInt32(Self.capacity) ? top - UInt32(Self.capacity) + 1 : 0)
        var firstStillMissing: UInt32?
        while s <= top {
            let index = Int(s) & (Self.capacity - 1)
            if slots[index].sequence == s && slots[index].state == .missing {
                if now - slots[index].detectedAt > giveUpAfter || slots[index].retries >= Self.maxRetries {
                    slots[index].state = .received  // given up
                    missingCount -= 1
                    givenUp += 1
                    if inTimeHorizon == nil { keyframeNeeded = true }
                } else {
                    if firstStillMissing == nil { firstStillMissing = s }
                    let age = now - slots[index].detectedAt
                    let lateEnough = age >= Self.minimumWait && (top - s > allowance || age >= Self.tailWait)
                    let spaced = slots[index].lastRequest.map { now - $0 >= retryInterval } ?? true
                    let inTime = inTimeHorizon.map { age + rtt <= $0 } ?? true
                    if lateEnough && spaced && inTime && out.count < 256 {
                        slots[index].lastRequest = now
                        slots[index].retries += 1
                        out.append(UInt16(truncatingIfNeeded: s))
                        requested += 1
                    }
                }
            }
            s += 1
        }
        oldestMissing = firstStillMissing ?? top
        return out.count
    }

    /// Clears the keyframe flag once a keyframe was requested; old holes are moot after it.
    public mutating func keyframeRequested() {
        keyframeNeeded = false
    }

    public var missing: Int { missingCount }

    private mutating func markMissing(_ s: UInt32, now: ContinuousClock.Instant) {
        let index = Int(s) & (Self.capacity - 1)
        if slots[index].state == .missing && slots[index].sequence != s { missingCount -= 1 }  // overwritten hole
        slots[index] = Slot(sequence: s, state: .missing, detectedAt: now)
        missingCount += 1
    }

    private mutating func reset(at extended: UInt32, now: ContinuousClock.Instant) {
        for i in 0..<slots.count { slots[i].state = .empty }
        missingCount = 0
        highest = extended
        oldestMissing = extended
        slots[Int(extended) & (Self.capacity - 1)] = Slot(sequence: extended, state: .received, detectedAt: now)
    }
}
