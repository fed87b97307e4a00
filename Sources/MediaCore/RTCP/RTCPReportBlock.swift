/// A reception report block (RFC 3550 §6.4.1), 24 bytes:
///
/// ```
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                 SSRC_1 (SSRC of first source)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | fraction lost |       cumulative number of packets lost       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           extended highest sequence number received           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      interarrival jitter                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         last SR (LSR)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   delay since last SR (DLSR)                  |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// ```
public struct RTCPReportBlock: Equatable, Sendable, BitwiseCopyable {
    /// Size on the wire in bytes.
    public static let size = 24

    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction lost since the previous report, fixed point /256.
    public var fractionLost: UInt8
    /// Cumulative packets lost, a 24-bit signed value (-8388608...8388607); clamped when encoding.
    public var cumulativeLost: Int32
    /// Extended highest sequence number received (cycles << 16 | seq).
    public var extendedHighestSequence: UInt32
    /// Interarrival jitter in RTP timestamp units.
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received (0 if none).
    public var lastSR: UInt32
    /// Delay since that SR in units of 1/65536 s.
    public var delaySinceLastSR: UInt32

    /// A report block with every field given.
    public init(
        ssrc: UInt32,
        fractionLost: UInt8,
        cumulativeLost: Int32,
        extendedHighestSequence: UInt32,
        jitter: UInt32,
        lastSR: UInt32,
        delaySinceLastSR: UInt32
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSR = lastSR
        self.delaySinceLastSR = delaySinceLastSR
    }

    /// Decodes the block at `offset`; the caller has checked that 24 bytes are there.
    init(decoding bytes: RawSpan, at offset: Int) {
        ssrc = bytes.rtcpU32(offset)
        fractionLost = bytes.rtcpU8(offset + 4)
        let raw = bytes.rtcpU24(offset + 5)
        cumulativeLost = Int32(bitPattern: raw << 8) >> 8  // sign-extend 24 bits
        extendedHighestSequence = bytes.rtcpU32(offset + 8)
        jitter = bytes.rtcpU32(offset + 12)
        lastSR = bytes.rtcpU32(offset + 16)
        delaySinceLastSR = bytes.rtcpU32(offset + 20)
    }

    /// Writes the 24 bytes. Precondition: room in `out`.
    public func encode(into out: inout OutputRawSpan) {
        out.rtcpAppend(ssrc)
        out.rtcpAppend(fractionLost)
        let lost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        out.rtcpAppend24(UInt32(bitPattern: lost) & 0xFF_FFFF)
        out.rtcpAppend(extendedHighestSequence)
        out.rtcpAppend(jitter)
        out.rtcpAppend(lastSR)
        out.rtcpAppend(delaySinceLastSR)
    }
}

/// Non-allocating iteration over the report blocks of an SR or RR (RFC 3550 §6.4).
public struct RTCPReportBlockIterator: ~Escapable {
    let bytes: RawSpan
    var offset: Int

    @_lifetime(copy bytes)
    init(_ bytes: RawSpan, offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Checks an SR or RR: packet type, fixed part, and RC blocks within the packet (RFC 3550 §6.4).
    static func validateReport(_ bytes: RawSpan, packetType: UInt8, fixedSize: Int) throws(RTCPParseError) {
        let header = try RTCPHeader(parsing: bytes)
        guard header.packetType == packetType else {
            throw .unexpectedType(packetType: header.packetType, format: header.count)
        }
        guard bytes.byteCount >= fixedSize else { throw .truncated(needed: fixedSize, available: bytes.byteCount) }
        guard fixedSize + Int(header.count) * RTCPReportBlock.size <= bytes.byteCount else {
            throw .countMismatch(count: Int(header.count), length: bytes.byteCount)
        }
    }

    /// The next block, nil after the last.
    public mutating func next() -> RTCPReportBlock? {
        guard offset + RTCPReportBlock.size <= bytes.byteCount else { return nil }
        defer { offset += RTCPReportBlock.size }
        return RTCPReportBlock(decoding: bytes, at: offset)
    }
}
