/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1): RTPFB (PT 205) FMT 15, borrowed:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|  FMT=15 |    PT=205     |           length              |
/// |                     SSRC of packet sender                     |
/// |                      SSRC of media source                     |
/// |      base sequence number     |      packet status count      |
/// |                 reference time                | fb pkt. count |
/// |          packet chunk         |         packet chunk          |
/// :                              ...                              :
/// |         packet chunk          |  recv delta   |  recv delta   |
/// :                              ...                              :
/// ```
/// Chunks: run length `0|SS|run length(13)`, status vector `1|0|14 × 1-bit` or `1|1|7 × 2-bit`.
/// Symbols: 0 not received, 1 received with a 1-byte delta (0...63.75 ms), 2 received with a 2-byte
/// signed delta; deltas in 250 µs units. Reference time in 64 ms units, 24 bits unsigned.
public struct RTCPTransportFeedbackView: ~Escapable {
    /// Header + base sequence, status count, reference time and feedback count, in bytes.
    public static let fixedSize = 20
    /// Receive delta unit in microseconds.
    public static let deltaUnitUs: Int64 = 250
    /// Reference time unit in microseconds.
    public static let referenceUnitUs: Int64 = 64_000
    let bytes: RawSpan
    /// Offset where the receive deltas start.
    let deltasStart: Int

    /// Validates a TWCC packet (without padding): every chunk the status count needs is present, no
    /// reserved symbols, and all receive deltas the statuses announce are present.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        _ = try RTCPFeedbackHeader.parse(
            bytes,
            packetType: RTCPPacketType.transportFeedback,
            format: RTCPFeedbackFormat.transportCC
        )
        guard bytes.byteCount >= Self.fixedSize else {
            throw .truncated(needed: Self.fixedSize, available: bytes.byteCount)
        }
        let statusCount = Int(bytes.rtcpU16(14))
        var offset = Self.fixedSize
        var decoded = 0
        var deltaBytes = 0
        while decoded < statusCount {
            guard offset + 2 <= bytes.byteCount else {
                throw .missingChunks(statusCount: statusCount, decoded: decoded)
            }
            let chunk = bytes.rtcpU16(offset)
            offset += 2
            let n = min(RTCPTransportFeedbackChunk.statusCount(chunk), statusCount - decoded)
            if chunk & 0x8000 == 0 {
                let symbol = Int(chunk >> 13 & 3)
                guard symbol != 3 else { throw .reservedStatusSymbol(index: decoded) }
                deltaBytes += n * symbol
            } else {
                for k in 0..<n {
                    let symbol = Int(RTCPTransportFeedbackChunk.symbol(chunk, at: k))
                    guard symbol != 3 else { throw .reservedStatusSymbol(index: decoded + k) }
                    deltaBytes += symbol
                }
            }
            decoded += n
        }
        guard offset + deltaBytes <= bytes.byteCount else {
            throw .missingDeltas(needed: deltaBytes, available: bytes.byteCount - offset)
        }
        self.bytes = bytes
        self.deltasStart = offset
    }

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32 { bytes.rtcpU32(4) }
    /// SSRC of the media source (libwebrtc sends the first media SSRC; unused by transport-cc).
    public var mediaSSRC: UInt32 { bytes.rtcpU32(8) }
    /// Transport-wide sequence number of the first status.
    public var baseSequenceNumber: UInt16 { bytes.rtcpU16(12) }
    /// Number of statuses.
    public var packetStatusCount: Int { Int(bytes.rtcpU16(14)) }
    /// Reference time in 64 ms units (24 bits).
    public var referenceTime: UInt32 { bytes.rtcpU24(16) }
    /// Reference time in microseconds.
    public var referenceTimeUs: Int64 { Int64(referenceTime) * Self.referenceUnitUs }
    /// Feedback packet count (mod 256), to detect lost feedback.
    public var feedbackPacketCount: UInt8 { bytes.rtcpU8(19) }

    /// Iterates (sequence number, status, delta, arrival time) for every status, without allocating.
    public var packets: RTCPTransportFeedbackIterator {
        @_lifetime(copy self)
        get {
            RTCPTransportFeedbackIterator(
                bytes,
                deltasStart: deltasStart,
                statusCount: packetStatusCount,
                baseSequenceNumber: baseSequenceNumber,
                referenceTicks: Int64(referenceTime) * 256
            )
        }
    }
}

/// Decoding of one 16-bit TWCC packet chunk (draft-holmer §3.1.3–3.1.4).
enum RTCPTransportFeedbackChunk {
    /// Longest run a run-length chunk can carry.
    static let maxRunLength = 0x1FFF
    /// Symbols in a 1-bit status vector chunk.
    static let oneBitCapacity = 14
    /// Symbols in a 2-bit status vector chunk.
    static let twoBitCapacity = 7

    /// Number of statuses the chunk describes.
    static func statusCount(_ chunk: UInt16) -> Int {
        if chunk & 0x8000 == 0 { return Int(chunk & 0x1FFF) }
        return chunk & 0x4000 == 0 ? oneBitCapacity : twoBitCapacity
    }

    /// Symbol `k` of the chunk (k below `statusCount`).
    static func symbol(_ chunk: UInt16, at k: Int) -> UInt8 {
        if chunk & 0x8000 == 0 { return UInt8(chunk >> 13 & 3) }
        if chunk & 0x4000 == 0 { return UInt8(chunk >> (13 - k) & 1) }
        return UInt8(chunk >> (12 - 2 * k) & 3)
    }
}
