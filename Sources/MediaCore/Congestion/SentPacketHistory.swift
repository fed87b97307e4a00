/// What a sender remembers of each packet it numbered with the transport-wide sequence number
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): when it left and how big it was, so a
/// receiver's feedback, which names only sequence numbers and arrival times, can be matched to them.
///
/// A fixed ring indexed by the unwrapped number: recording allocates nothing.
public struct SentPacketHistory: Sendable {
    public struct Entry: Sendable, Equatable {
        public var sendTimeUs: Int64
        public var size: Int
        /// Whether a feedback has already reported it (received or lost).
        public var reported: Bool
    }

    private var entries: [Entry?]
    private let mask: Int64
    /// The next number to hand out, unwrapped.
    public private(set) var nextSequence: Int64 = 1
    /// Bytes sent and not yet reported by any feedback.
    public private(set) var bytesInFlight = 0

    public init(capacity: Int = 4096) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity is a power of two")
        entries = Array(repeating: nil, count: capacity)
        mask = Int64(capacity - 1)
    }

    /// Numbers one packet of `size` bytes leaving at `sendTimeUs`; returns its 16-bit wire number.
    public mutating func record(size: Int, sendTimeUs: Int64) -> UInt16 {
        let sequence = nextSequence
        nextSequence += 1
        let slot = Int(sequence & mask)
        if let old = entries[slot], !old.reported { bytesInFlight -= old.size }  // fell out unreported
        entries[slot] = Entry(sendTimeUs: sendTimeUs, size: size, reported: false)
        bytesInFlight += size
        return UInt16(truncatingIfNeeded: sequence)
    }

    /// The unwrapped number of a 16-bit one from feedback: the closest to what was sent.
    public func unwrap(_ sequence: UInt16) -> Int64 {
        let last = nextSequence - 1
        let delta = Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: last)))
        return last + delta
    }

    /// Everything up to here has been reported or settled.
    private var settledThrough: Int64 = 0

    /// Takes every packet up to `sequence` out of flight, reported or not: a feedback that covers
    /// later numbers means earlier ones are not on the wire any more (their own feedback was lost,
    /// or a receiver started reporting later). Amortised O(1) per packet.
    public mutating func settle(through sequence: Int64) {
        let end = min(sequence, nextSequence - 1)
        var index = max(settledThrough + 1, nextSequence - mask - 1, 1)
        while index <= end {
            let slot = Int(index & mask)
            if var entry = entries[slot], !entry.reported {
                entry.reported = true
                entries[slot] = entry
                bytesInFlight -= entry.size
            }
            index += 1
        }
        settledThrough = max(settledThrough, end)
    }

    /// Marks `sequence` reported and returns what was sent, once; nil if unknown, too old or reported.
    public mutating func report(_ sequence: Int64) -> Entry? {
        guard sequence < nextSequence, sequence >= nextSequence - mask - 1, sequence >= 1 else { return nil }
        let slot = Int(sequence & mask)
        guard var entry = entries[slot], !entry.reported else { return nil }
        entry.reported = true
        entries[slot] = entry
        bytesInFlight -= entry.size
        return entry
    }
}
