/// The transport a datagram travelled on. ICE-TCP (RFC 6544) carries the same datagrams as UDP,
/// framed at the socket edge (RFC 4571), so MediaCore only needs to know where an answer must go back.
public enum TransportProtocol: UInt8, Hashable, Sendable, CustomStringConvertible {
    case udp
    /// One TCP connection, identified by the remote address and port of that connection.
    case tcp

    public var description: String { self == .udp ? "udp" : "tcp" }
}

/// An IPv4 or IPv6 address with a UDP/TCP port: the key a media worker finds participants by.
///
/// Cheap to hash and compare (two words, a port and the transport), no Foundation.
public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2).
    public let high: UInt64
    public let low: UInt64
    public let port: UInt16
    public let transport: TransportProtocol

    /// An IPv4 address in host byte order (127.0.0.1 is 0x7F00_0001).
    public init(ipv4: UInt32, port: UInt16, transport: TransportProtocol = .udp) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(ipv4)
        self.port = port
        self.transport = transport
    }

    /// An IPv6 address as its two 64-bit halves in host order (no allocation, for the data path).
    public init(ipv6High high: UInt64, low: UInt64, port: UInt16, transport: TransportProtocol = .udp) {
        self.high = high
        self.low = low
        self.port = port
        self.transport = transport
    }

    /// The same address and port on another transport.
    public func on(_ transport: TransportProtocol) -> TransportAddress {
        TransportAddress(ipv6High: high, low: low, port: port, transport: transport)
    }

    /// An IPv6 address as 16 bytes in network order.
    public init(ipv6 bytes: [UInt8], port: UInt16) {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        self.high = high
        self.low = low
        self.port = port
        self.transport = .udp
    }

    public var isIPv4: Bool { high == 0 && (low >> 32) == 0xFFFF }

    /// The IPv4 address in host byte order, if this is one.
    public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The 16 address bytes in network order (IPv4-mapped for IPv4).
    public var ipv6Bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        return out
    }

    /// As STUN carries it: IPv4 for IPv4-mapped addresses, IPv6 otherwise.
    public var stunAddress: STUNAddress {
        if let v4 = ipv4 { return .ipv4(v4, port: port) }
        return .ipv6(high: high, low: low, port: port)
    }

    /// A STUN address on a transport.
    public init(_ address: STUNAddress, transport: TransportProtocol = .udp) {
        switch address {
        case .ipv4(let v4, let port): self.init(ipv4: v4, port: port, transport: transport)
        case .ipv6(let high, let low, let port): self.init(ipv6High: high, low: low, port: port, transport: transport)
        }
    }

    /// The address without the port, as text ("127.0.0.1" or "::1"-style full form).
    public var host: String {
        if let v4 = ipv4 {
            return "\(v4 >> 24).\((v4 >> 16) & 0xFF).\((v4 >> 8) & 0xFF).\(v4 & 0xFF)"
        }
        let bytes = ipv6Bytes
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    public var description: String {
        let address = isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
        return transport == .udp ? address : "tcp/" + address
    }

    /// Parses "a.b.c.d:port" (IPv4 only for now; IPv6 text arrives with the STUN work).
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        let value = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        self.init(ipv4: value, port: port)
    }
}
