/// A borrowed, validated view of one RTP packet (RFC 3550 §5.1).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           timestamp                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           synchronization source (SSRC) identifier            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |            contributing source (CSRC) identifiers             |
/// |                             ....                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      defined by profile       |            length             |
/// |                        header extension                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// All lengths are checked once in `init(validating:)`; accessors decode on demand. Offsets are byte
/// offsets into the packet.
public struct RTPPacketView: ~Escapable {
    /// Size of the fixed header in bytes (RFC 3550 §5.1).
    public static let fixedHeaderSize = 12

    /// The whole packet, borrowed.
    public let bytes: RawSpan
    /// Byte offset of the first payload byte (after CSRCs and the extension block).
    public let payloadOffset: Int
    /// Payload length in bytes, excluding padding.
    public let payloadLength: Int
    /// Number of padding bytes at the end (0 when the P bit is clear).
    public let paddingLength: Int

    /// Validates the fixed header, CSRC list, extension block and padding of `bytes`.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTPParseError) {
        let count = bytes.byteCount
        guard count >= Self.fixedHeaderSize else {
            throw .truncated(needed: Self.fixedHeaderSize, available: count)
        }
        let b0 = bytes.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        guard b0 >> 6 == 2 else { throw .unsupportedVersion(b0 >> 6) }
        var offset = Self.fixedHeaderSize + Int(b0 & 0x0F) * 4
        guard count >= offset else { throw .truncated(needed: offset, available: count) }
        if b0 & 0x10 != 0 {
            guard count >= offset + 4 else { throw .truncated(needed: offset + 4, available: count) }
            let words = Int(UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)))
            let blockStart = offset
            offset += 4 + words * 4
            guard count >= offset else { throw .truncated(needed: offset, available: count) }
            try RTPHeaderExtensionElements.validate(bytes, blockOffset: blockStart)
        }
        var padding = 0
        if b0 & 0x20 != 0 {
            padding = Int(bytes.unsafeLoad(fromByteOffset: count - 1, as: UInt8.self))
            guard padding > 0, padding <= count - offset else {
                throw .invalidPadding(count: padding, available: count - offset)
            }
        }
        self.bytes = bytes
        self.payloadOffset = offset
        self.payloadLength = count - offset - padding
        self.paddingLength = padding
    }

    private func byte(_ offset: Int) -> UInt8 { bytes.unsafeLoad(fromByteOffset: offset, as: UInt8.self) }

    /// The version field; always 2 after validation.
    public var version: UInt8 { byte(0) >> 6 }
    /// The P bit: padding follows the payload.
    public var hasPadding: Bool { byte(0) & 0x20 != 0 }
    /// The X bit: a header extension follows the CSRC list.
    public var hasExtension: Bool { byte(0) & 0x10 != 0 }
    /// Number of CSRC identifiers (0...15).
    public var csrcCount: Int { Int(byte(0) & 0x0F) }
    /// The marker bit (for video: last packet of a frame).
    public var marker: Bool { byte(1) & 0x80 != 0 }
    /// The 7-bit payload type.
    public var payloadType: UInt8 { byte(1) & 0x7F }
    /// The 16-bit sequence number.
    public var sequenceNumber: UInt16 {
        UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: 2, as: UInt16.self))
    }
    /// The 32-bit media timestamp, in clock-rate units of the payload format.
    public var timestamp: UInt32 {
        UInt32(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: 4, as: UInt32.self))
    }
    /// The synchronization source identifier.
    public var ssrc: UInt32 {
        UInt32(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: 8, as: UInt32.self))
    }
    /// The CSRC at `index` (precondition: `index < csrcCount`).
    public func csrc(at index: Int) -> UInt32 {
        precondition(index >= 0 && index < csrcCount, "CSRC index out of range")
        return UInt32(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: 12 + index * 4, as: UInt32.self))
    }
    /// Byte offset of the extension block header (the 16-bit profile), or nil when X is clear.
    public var extensionOffset: Int? { hasExtension ? Self.fixedHeaderSize + csrcCount * 4 : nil }
    /// The 16-bit "defined by profile" field (0xBEDE one-byte, 0x100x two-byte), or nil.
    public var extensionProfile: UInt16? {
        guard let offset = extensionOffset else { return nil }
        return UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    /// Byte range of the payload within `bytes` (excluding padding).
    public var payloadRange: Range<Int> { payloadOffset..<(payloadOffset + payloadLength) }
    /// The payload bytes (excluding padding), borrowed from the packet.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.extracting(payloadRange) }
    }
}
