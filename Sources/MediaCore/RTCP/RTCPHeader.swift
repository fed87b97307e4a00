/// The common RTCP header (RFC 3550 §6.4.1), four bytes:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|  count  |      PT       |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// `count` is the report count, source count or feedback message type (FMT, RFC 4585 §6.1).
/// `length` is the packet length in 32-bit words minus one, header and padding included.
public struct RTCPHeader: Equatable, Sendable {
    /// Size of the header in bytes.
    public static let size = 4
    /// The only RTCP version (RFC 3550 §6.4.1).
    public static let version: UInt8 = 2

    /// The P bit: the packet ends with padding whose last octet counts the padding bytes.
    public var padding: Bool
    /// Report count, source count or FMT: 5 bits, 0...31.
    public var count: UInt8
    /// Packet type (200 SR, 201 RR, 202 SDES, 203 BYE, 205 RTPFB, 206 PSFB).
    public var packetType: UInt8
    /// Length in 32-bit words minus one.
    public var lengthWords: UInt16

    /// Total packet length in bytes, header and padding included.
    public var packetSize: Int { (Int(lengthWords) + 1) * 4 }

    /// A header. `count` must be below 32 (precondition).
    public init(padding: Bool = false, count: UInt8, packetType: UInt8, lengthWords: UInt16) {
        precondition(count < 32, "RTCP count is 5 bits")
        self.padding = padding
        self.count = count
        self.packetType = packetType
        self.lengthWords = lengthWords
    }

    /// A header for a packet of `packetSize` bytes (a multiple of 4, at least 4; precondition).
    public init(padding: Bool = false, count: UInt8, packetType: UInt8, packetSize: Int) {
        precondition(packetSize >= 4 && packetSize % 4 == 0 && packetSize <= 0x40000)
        self.init(padding: padding, count: count, packetType: packetType, lengthWords: UInt16(packetSize / 4 - 1))
    }

    /// Parses the first four bytes of `bytes`; checks the version only.
    public init(parsing bytes: RawSpan) throws(RTCPParseError) {
        guard bytes.byteCount >= Self.size else {
            throw .truncated(needed: Self.size, available: bytes.byteCount)
        }
        let first = bytes.rtcpU8(0)
        guard first >> 6 == Self.version else { throw .badVersion(first >> 6) }
        padding = first & 0x20 != 0
        count = first & 0x1F
        packetType = bytes.rtcpU8(1)
        lengthWords = bytes.rtcpU16(2)
    }

    /// Writes the four header bytes. Precondition: `out.freeCapacity >= 4`.
    public func encode(into out: inout OutputRawSpan) {
        out.rtcpAppend(Self.version << 6 | (padding ? 0x20 : 0) | count)
        out.rtcpAppend(packetType)
        out.rtcpAppend(lengthWords)
    }
}

/// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).
public enum RTCPPacketType {
    /// Sender report.
    public static let senderReport: UInt8 = 200
    /// Receiver report.
    public static let receiverReport: UInt8 = 201
    /// Source description.
    public static let sourceDescription: UInt8 = 202
    /// Goodbye.
    public static let bye: UInt8 = 203
    /// Transport layer feedback (NACK, TWCC).
    public static let transportFeedback: UInt8 = 205
    /// Payload-specific feedback (PLI, FIR, REMB).
    public static let payloadFeedback: UInt8 = 206
}
