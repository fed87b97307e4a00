/// One RTCP packet inside a compound datagram (RFC 3550 §6.1), borrowed: the parsed header and
/// the packet's bytes from its header up to (not including) its padding. The caller dispatches on
/// `header.packetType` (and `header.count` as FMT for feedback) to the typed views.
public struct RTCPPacketView: ~Escapable {
    /// The parsed common header.
    public let header: RTCPHeader
    /// Header + body, without padding.
    public let bytes: RawSpan
    /// Number of padding bytes removed (0 when P is clear).
    public let paddingSize: Int

    /// Validates one packet at the start of `bytes`: version, length within `bytes`, padding.
    /// Trailing bytes after the packet are ignored (see `RTCPCompoundIterator`).
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        let header = try RTCPHeader(parsing: bytes)
        let size = header.packetSize
        guard size <= bytes.byteCount else {
            throw .lengthPastEnd(declared: size, available: bytes.byteCount)
        }
        var padding = 0
        if header.padding {
            padding = Int(bytes.rtcpU8(size - 1))
            guard padding > 0, padding <= size - RTCPHeader.size else { throw .badPadding(padding) }
        }
        self.header = header
        self.paddingSize = padding
        self.bytes = bytes.extracting(0..<(size - padding))
    }

    /// Body bytes after the four-byte header, without padding.
    public var body: RawSpan {
        @_lifetime(copy self)
        get { bytes.extracting(RTCPHeader.size..<bytes.byteCount) }
    }
}
