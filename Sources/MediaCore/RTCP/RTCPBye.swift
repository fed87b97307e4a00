/// Goodbye (RFC 3550 §6.6), PT 203, borrowed:
///
/// ```
/// |V=2|P|    SC   |   PT=BYE=203  |             length            |
/// |                           SSRC/CSRC                           |
/// :                              ...                              :
/// |     length    |               reason for leaving            ... (opt)
/// ```
public struct RTCPByeView: ~Escapable {
    let bytes: RawSpan

    /// Validates a BYE packet (without padding): SC SSRCs and the optional reason fit the length.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        let header = try RTCPHeader(parsing: bytes)
        guard header.packetType == RTCPPacketType.bye else {
            throw .unexpectedType(packetType: header.packetType, format: header.count)
        }
        let end = RTCPHeader.size + Int(header.count) * 4
        guard end <= bytes.byteCount else { throw .countMismatch(count: Int(header.count), length: bytes.byteCount) }
        if end < bytes.byteCount {
            let needed = end + 1 + Int(bytes.rtcpU8(end))
            guard needed <= bytes.byteCount else { throw .truncated(needed: needed, available: bytes.byteCount) }
        }
        self.bytes = bytes
    }

    /// Number of SSRCs (SC).
    public var ssrcCount: Int { Int(bytes.rtcpU8(0) & 0x1F) }
    /// SSRC `index` (0..<ssrcCount; precondition).
    public func ssrc(_ index: Int) -> UInt32 {
        precondition(index >= 0 && index < ssrcCount)
        return bytes.rtcpU32(RTCPHeader.size + index * 4)
    }
    /// The reason for leaving (UTF-8), empty when absent.
    public var reason: RawSpan {
        @_lifetime(copy self)
        get {
            let end = RTCPHeader.size + ssrcCount * 4
            guard end < bytes.byteCount else { return bytes.extracting(0..<0) }
            return bytes.extracting((end + 1)..<(end + 1 + Int(bytes.rtcpU8(end))))
        }
    }
}

/// Writes a BYE (RFC 3550 §6.6) for SSRCs and an optional reason borrowed from the caller.
public struct RTCPBye: ~Escapable {
    /// At most 31 SSRCs (precondition).
    public var ssrcs: Span<UInt32>
    /// Reason, at most 255 bytes (precondition); empty for none.
    public var reason: Span<UInt8>

    /// A BYE.
    @_lifetime(copy ssrcs, copy reason)
    public init(ssrcs: Span<UInt32>, reason: Span<UInt8>) {
        precondition(ssrcs.count < 32 && reason.count <= 255)
        self.ssrcs = ssrcs
        self.reason = reason
    }

    /// Bytes `encode(into:)` writes (the reason is padded with nulls to a 32-bit boundary).
    public var encodedSize: Int {
        RTCPHeader.size + ssrcs.count * 4 + (reason.isEmpty ? 0 : (1 + reason.count + 3) & ~3)
    }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        let size = encodedSize
        precondition(out.freeCapacity >= size, "RTCP output too small")
        RTCPHeader(count: UInt8(ssrcs.count), packetType: RTCPPacketType.bye, packetSize: size).encode(into: &out)
        for i in ssrcs.indices { out.rtcpAppend(ssrcs[i]) }
        guard !reason.isEmpty else { return }
        out.rtcpAppend(UInt8(reason.count))
        for i in reason.indices { out.rtcpAppend(reason[i]) }
        for _ in 0..<(size - RTCPHeader.size - ssrcs.count * 4 - 1 - reason.count) { out.rtcpAppend(UInt8(0)) }
    }
}
