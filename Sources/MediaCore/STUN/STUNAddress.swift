/// A transport address as STUN carries it (RFC 8489 §14.1/§14.2): IPv4 or IPv6 and a port. Kept in
/// integers so reading and writing one allocates nothing.
public enum STUNAddress: Equatable, Hashable, Sendable {
    case ipv4(UInt32, port: UInt16)
    /// The 128-bit address as two big-endian halves.
    case ipv6(high: UInt64, low: UInt64, port: UInt16)

    public var port: UInt16 {
        switch self {
        case .ipv4(_, let port), .ipv6(_, _, let port): port
        }
    }

    /// Value length of an (XOR-)MAPPED-ADDRESS attribute carrying it.
    var valueLength: Int {
        if case .ipv4 = self { 8 } else { 20 }
    }

    static let familyIPv4: UInt8 = 0x01
    static let familyIPv6: UInt8 = 0x02
}
