/// Keeps one outgoing RTP stream continuous while its source changes (RFC 3550 §5.1, §8.2 spirit).
///
/// A receive slot's stream towards one receiver carries, over time, packets from different sources
/// (a participant leaves and another takes the slot, or a sender restarts its stream). The receiver
/// must see one stream: sequence numbers that continue by one and timestamps that advance with the
/// wall time that passed. Within one source epoch the mapping is a fixed offset, so reordering and
/// retransmissions map consistently; packets older than the epoch's first are dropped.
public struct OutgoingStreamRewriter: Sendable {
    /// The outgoing SSRC this stream is signalled with.
    public let ssrc: UInt32
    /// RTP clock rate of the payload, in Hz (48 000 for Opus, 90 000 for video).
    public let clockRate: UInt32

    private var sourceSSRC: UInt32?
    private var sequenceOffset: UInt16 = 0
    private var timestampOffset: UInt32 = 0
    /// First source sequence number of the current epoch, to drop stragglers of older epochs.
    private var epochFirstSequence: UInt16 = 0
    /// True once the epoch is `settledAfter` packets past its first: no more epoch check.
    private var epochSettled = false
    static let settledAfter: Int16 = 4096
    private var lastSequence: UInt16
    private var lastTimestamp: UInt32
    private var lastSentAt: ContinuousClock.Instant?
    /// Packets forwarded in all epochs (for sender reports).
    public private(set) var packetsSent: UInt32 = 0
    /// Payload octets forwarded (for sender reports).
    public private(set) var octetsSent: UInt32 = 0

    /// `initialSequence` and `initialTimestamp` are random per RFC 3550 §5.1.
    public init(ssrc: UInt32, clockRate: UInt32, initialSequence: UInt16, initialTimestamp: UInt32) {
        self.ssrc = ssrc
        self.clockRate = clockRate
        self.lastSequence = initialSequence &- 1
        self.lastTimestamp = initialTimestamp
    }

    /// What to write into a forwarded packet, or nil to drop it.
    public struct Mapping: Equatable, Sendable {
        public let sequence: UInt16
        public let timestamp: UInt32
    }

    /// Maps a source packet's sequence number and timestamp onto this stream.
    public mutating func map(
        sourceSSRC: UInt32,
        sequence: UInt16,
        timestamp: UInt32,
        payloadLength: Int,
        now: ContinuousClock.Instant
    ) -> Mapping? {
        if self.sourceSSRC != sourceSSRC {
            startEpoch(sourceSSRC: sourceSSRC, sequence: sequence, timestamp: timestamp, now: now)
        } else if !epochSettled {
            let ahead = Int16(bitPattern: sequence &- epochFirstSequence)
            if ahead < 0 { return nil }  // older than this epoch
            // Once the epoch is well under way, stragglers from before it cannot arrive any more, and
            // the comparison with its first number would turn negative after 2^15 packets.
            if ahead >= Self.settledAfter { epochSettled = true }
        }
        let outSequence = sequence &+ sequenceOffset
        let outTimestamp = timestamp &+ timestampOffset
        if Int16(bitPattern: outSequence &- lastSequence) > 0 {
            lastSequence = outSequence
            lastTimestamp = outTimestamp
            lastSentAt = now
        }
        packetsSent &+= 1
        octetsSent &+= UInt32(truncatingIfNeeded: payloadLength)
        return Mapping(sequence: outSequence, timestamp: outTimestamp)
    }

    /// The newest (sequence, timestamp) sent, and when: what a sender report extrapolates from.
    public var lastSent: (sequence: UInt16, timestamp: UInt32, at: ContinuousClock.Instant)? {
        guard let lastSentAt else { return nil }
        return (lastSequence, lastTimestamp, lastSentAt)
    }

    /// The next sequence number for a padding-only packet (a bandwidth probe) while no source is
    /// attached, with the last timestamp (RFC 3550 §5.1: padding carries no media time). The next
    /// source epoch continues after it.
    public mutating func nextPadding(now: ContinuousClock.Instant) -> Mapping {
        precondition(sourceSSRC == nil, "padding only while the stream has no source attached")
        lastSequence &+= 1
        lastSentAt = lastSentAt ?? now
        return Mapping(sequence: lastSequence, timestamp: lastTimestamp)
    }

    /// Forgets the current source: the next packet from any source starts a new epoch.
    public mutating func detachSource() {
        sourceSSRC = nil
    }

    private mutating func startEpoch(
        sourceSSRC: UInt32,
        sequence: UInt16,
        timestamp: UInt32,
        now: ContinuousClock.Instant
    ) {
        self.sourceSSRC = sourceSSRC
        epochFirstSequence = sequence
        epochSettled = false
        sequenceOffset = (lastSequence &+ 1) &- sequence
        // Advance the timestamp by the time that passed since the last packet (at least one tick),
        // so the receiver's jitter buffer sees time move on rather than jump back.
        var elapsedTicks: UInt32 = 1
        if let lastSentAt {
            let elapsed = now - lastSentAt
            let (seconds, attoseconds) = elapsed.components
            let ticks = Double(seconds) * Double(clockRate) + Double(attoseconds) / 1e18 * Double(clockRate)
            elapsedTicks = UInt32(max(1, min(ticks, Double(UInt32.max / 2))))
        }
        timestampOffset = (lastTimestamp &+ elapsedTicks) &- timestamp
    }
}
