/// Why an RTCP datagram or packet was rejected (RFC 3550 §6.4.1, RFC 4585 §6.1).
/// Values carry the offending numbers in bytes unless stated otherwise.
public enum RTCPParseError: Error, Equatable, Sendable {
    /// Fewer bytes than the structure needs.
    case truncated(needed: Int, available: Int)
    /// The version field is not 2.
    case badVersion(UInt8)
    /// The header's length (in bytes, derived from 32-bit words minus one) runs past the datagram.
    case lengthPastEnd(declared: Int, available: Int)
    /// The count field (report blocks, SSRCs, FCI entries) does not fit the packet length.
    case countMismatch(count: Int, length: Int)
    /// The P bit is set but the last octet is zero or larger than the packet.
    case badPadding(Int)
    /// The packet type (or feedback message type) is not the one this view parses.
    case unexpectedType(packetType: UInt8, format: UInt8)
    /// A REMB packet without the ASCII "REMB" identifier.
    case badIdentifier(UInt32)
    /// An SDES chunk whose items run past the chunk or are not null-terminated.
    case badSDESChunk(offset: Int)
    /// TWCC: the packet status count needs more chunks than the packet holds.
    case missingChunks(statusCount: Int, decoded: Int)
    /// TWCC: the receive deltas are shorter than the statuses require.
    case missingDeltas(needed: Int, available: Int)
    /// TWCC: a 2-bit status symbol with the reserved value 3, at status `index`.
    case reservedStatusSymbol(index: Int)
}
