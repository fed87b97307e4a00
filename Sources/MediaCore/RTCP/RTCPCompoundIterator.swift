/// Walks a compound RTCP datagram (RFC 3550 §6.1) packet by packet without allocating.
///
/// ```
/// var it = RTCPCompoundIterator(bytes)
/// while let packet = try it.next() { switch packet.header.packetType { ... } }
/// ```
/// Each packet is validated by `RTCPPacketView(validating:)`; the first bad packet throws and the
/// iterator then stops (`next()` returns nil).
public struct RTCPCompoundIterator: ~Escapable {
    let bytes: RawSpan
    /// Offset of the next packet in the datagram, in bytes.
    public private(set) var offset: Int

    /// An iterator over `bytes`, the whole (decrypted) RTCP datagram.
    @_lifetime(copy bytes)
    public init(_ bytes: RawSpan) {
        self.bytes = bytes
        self.offset = 0
    }

    /// The next packet, nil at the end of the datagram.
    @_lifetime(copy self)
    public mutating func next() throws(RTCPParseError) -> RTCPPacketView? {
        guard offset < bytes.byteCount else { return nil }
        let rest = bytes.extracting(offset..<bytes.byteCount)
        do {
            let packet = try RTCPPacketView(validating: rest)
            offset += packet.header.packetSize
            return packet
        } catch {
            offset = bytes.byteCount
            throw error
        }
    }

    /// Validates the whole datagram and returns the number of packets in it.
    public static func validate(_ bytes: RawSpan) throws(RTCPParseError) -> Int {
        var it = RTCPCompoundIterator(bytes)
        var n = 0
        while try it.next() != nil { n += 1 }
        return n
    }
}
