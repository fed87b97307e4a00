/// The status of one packet in TWCC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.1).
public enum RTCPTransportFeedbackStatus: UInt8, Sendable {
    /// Not received (symbol 0, no delta).
    case notReceived = 0
    /// Received, 1-byte delta 0...255 × 250 µs (symbol 1).
    case receivedSmallDelta = 1
    /// Received, 2-byte signed delta (symbol 2).
    case receivedLargeDelta = 2
}

/// One decoded TWCC entry.
public struct RTCPTransportFeedbackPacket: Equatable, Sendable {
    /// Transport-wide sequence number (wraps mod 2^16).
    public var sequenceNumber: UInt16
    /// Whether and how it was received.
    public var status: RTCPTransportFeedbackStatus
    /// Receive delta in µs from the previous received packet (or the reference time); 0 if not received.
    public var deltaUs: Int64
    /// Arrival time in µs in the feedback sender's time base (reference time + deltas); nil if not received.
    public var arrivalTimeUs: Int64?

    /// An entry.
    public init(sequenceNumber: UInt16, status: RTCPTransportFeedbackStatus, deltaUs: Int64, arrivalTimeUs: Int64?) {
        self.sequenceNumber = sequenceNumber
        self.status = status
        self.deltaUs = deltaUs
        self.arrivalTimeUs = arrivalTimeUs
    }
}

/// Yields every status of a validated TWCC packet in sequence order.
public struct RTCPTransportFeedbackIterator: ~Escapable {
    let bytes: RawSpan
    var chunkOffset = RTCPTransportFeedbackView.fixedSize
    var positionInChunk = 0
    var remaining: Int
    var deltaOffset: Int
    var sequenceNumber: UInt16
    /// Running arrival time in 250 µs ticks.
    var ticks: Int64

    @_lifetime(copy bytes)
    init(_ bytes: RawSpan, deltasStart: Int, statusCount: Int, baseSequenceNumber: UInt16, referenceTicks: Int64) {
        self.bytes = bytes
        self.deltaOffset = deltasStart
        self.remaining = statusCount
        self.sequenceNumber = baseSequenceNumber
        self.ticks = referenceTicks
    }

    /// The next entry, nil after the last status.
    public mutating func next() -> RTCPTransportFeedbackPacket? {
        while remaining > 0 {
            let chunk = bytes.rtcpU16(chunkOffset)
            guard positionInChunk < RTCPTransportFeedbackChunk.statusCount(chunk) else {
                chunkOffset += 2
                positionInChunk = 0
                continue
            }
            let symbol = RTCPTransportFeedbackChunk.symbol(chunk, at: positionInChunk)
            positionInChunk += 1
            remaining -= 1
            let seq = sequenceNumber
            sequenceNumber &+= 1
            var delta: Int64
            switch symbol {
            case 1:
                delta = Int64(bytes.rtcpU8(deltaOffset))
                deltaOffset += 1
            case 2:
                delta = Int64(Int16(bitPattern: bytes.rtcpU16(deltaOffset)))
                deltaOffset += 2
            default:
                return RTCPTransportFeedbackPacket(
                    sequenceNumber: seq,
                    status: .notReceived,
                    deltaUs: 0,
                    arrivalTimeUs: nil
                )
            }
            ticks += delta
            delta *= RTCPTransportFeedbackView.deltaUnitUs
            return RTCPTransportFeedbackPacket(
                sequenceNumber: seq,
                status: symbol == 1 ? .receivedSmallDelta : .receivedLargeDelta,
                deltaUs: delta,
                arrivalTimeUs: ticks * RTCPTransportFeedbackView.deltaUnitUs
            )
        }
        return nil
    }
}
