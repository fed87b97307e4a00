/// Source description (RFC 3550 §6.5), PT 202, borrowed. SC chunks, each an SSRC/CSRC and items
/// ended by a null octet and padded to a 32-bit boundary:
///
/// ```
/// |V=2|P|    SC   |  PT=SDES=202  |             length            |
/// |                          SSRC/CSRC_1                          |
/// |    CNAME=1    |     length    | user and domain name        ...
/// |     END=0     |  padding to a 32-bit boundary                 |
/// ```
public struct RTCPSourceDescriptionView: ~Escapable {
    /// SDES item type CNAME (RFC 3550 §6.5.1).
    public static let cname: UInt8 = 1
    let bytes: RawSpan

    /// Validates an SDES packet (without padding): SC chunks, every item within its chunk.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        let header = try RTCPHeader(parsing: bytes)
        guard header.packetType == RTCPPacketType.sourceDescription else {
            throw .unexpectedType(packetType: header.packetType, format: header.count)
        }
        var offset = RTCPHeader.size
        for _ in 0..<Int(header.count) {
            guard offset + 4 <= bytes.byteCount else {
                throw .countMismatch(count: Int(header.count), length: bytes.byteCount)
            }
            offset = try Self.skipChunk(bytes, at: offset)
        }
        self.bytes = bytes
    }

    /// Validates the chunk at `offset` and returns the offset after it (its padding included).
    static func skipChunk(_ bytes: RawSpan, at start: Int) throws(RTCPParseError) -> Int {
        var offset = start + 4
        while true {
            guard offset < bytes.byteCount else { throw .badSDESChunk(offset: start) }
            if bytes.rtcpU8(offset) == 0 { break }
            guard offset + 2 <= bytes.byteCount else { throw .badSDESChunk(offset: start) }
            offset += 2 + Int(bytes.rtcpU8(offset + 1))
        }
        let end = (offset + 4) & ~3
        guard end <= bytes.byteCount else { throw .badSDESChunk(offset: start) }
        return end
    }

    /// Number of chunks (SC).
    public var chunkCount: Int { Int(bytes.rtcpU8(0) & 0x1F) }

    /// Iterates every item of every chunk without allocating.
    public var items: RTCPSourceDescriptionItemIterator {
        @_lifetime(copy self)
        get { RTCPSourceDescriptionItemIterator(bytes, chunks: chunkCount) }
    }
}

/// One SDES item (RFC 3550 §6.5): the chunk's SSRC, the item type and its UTF-8 value, borrowed.
public struct RTCPSourceDescriptionItem: ~Escapable {
    /// SSRC/CSRC of the chunk.
    public let ssrc: UInt32
    /// Item type (1 CNAME, 2 NAME, ...).
    public let type: UInt8
    /// The item's text, 0...255 bytes.
    public let value: RawSpan

    @_lifetime(copy value)
    init(ssrc: UInt32, type: UInt8, value: RawSpan) {
        self.ssrc = ssrc
        self.type = type
        self.value = value
    }
}

/// Yields the items of a validated SDES packet in order.
public struct RTCPSourceDescriptionItemIterator: ~Escapable {
    let bytes: RawSpan
    var chunksLeft: Int
    var chunkStart = RTCPHeader.size
    /// Offset of the next item; 0 when a new chunk must be entered.
    var offset = 0

    @_lifetime(copy bytes)
    init(_ bytes: RawSpan, chunks: Int) {
        self.bytes = bytes
        self.chunksLeft = chunks
    }

    /// The next item, nil after the last chunk.
    @_lifetime(copy self)
    public mutating func next() -> RTCPSourceDescriptionItem? {
        while chunksLeft > 0 {
            if offset == 0 { offset = chunkStart + 4 }
            let type = bytes.rtcpU8(offset)
            if type == 0 {
                chunkStart = (offset + 4) & ~3
                offset = 0
                chunksLeft -= 1
                continue
            }
            let length = Int(bytes.rtcpU8(offset + 1))
            let ssrc = bytes.rtcpU32(chunkStart)
            let value = bytes.extracting((offset + 2)..<(offset + 2 + length))
            offset += 2 + length
            return RTCPSourceDescriptionItem(ssrc: ssrc, type: type, value: value)
        }
        return nil
    }
}

/// Writes an SDES packet with one chunk holding one CNAME item (RFC 3550 §6.5.1), the form an SFU
/// sends in every compound packet.
public struct RTCPSourceDescription: ~Escapable {
    /// SSRC of the chunk.
    public var ssrc: UInt32
    /// CNAME bytes, at most 255 (precondition).
    public var cname: Span<UInt8>

    /// An SDES with one CNAME chunk.
    @_lifetime(copy cname)
    public init(ssrc: UInt32, cname: Span<UInt8>) {
        precondition(cname.count <= 255, "SDES items hold at most 255 bytes")
        self.ssrc = ssrc
        self.cname = cname
    }

    /// Bytes `encode(into:)` writes: header, SSRC, item, then 1...4 null octets to a 32-bit boundary.
    public var encodedSize: Int { RTCPHeader.size + ((4 + 2 + cname.count + 4) & ~3) }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        let size = encodedSize
        precondition(out.freeCapacity >= size, "RTCP output too small")
        RTCPHeader(count: 1, packetType: RTCPPacketType.sourceDescription, packetSize: size).encode(into: &out)
        out.rtcpAppend(ssrc)
        out.rtcpAppend(RTCPSourceDescriptionView.cname)
        out.rtcpAppend(UInt8(cname.count))
        for i in cname.indices { out.rtcpAppend(cname[i]) }
        let nulls = size - RTCPHeader.size - 4 - 2 - cname.count
        for _ in 0..<nulls { out.rtcpAppend(UInt8(0)) }
    }
}
