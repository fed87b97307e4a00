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

    /// The address without the port, as text: dotted IPv4, or IPv6 in RFC 5952 form (lower-case
    /// hex, the longest run of two or more zero groups as `::`), as SDP candidates carry it.
    public var host: String {
        if let v4 = ipv4 {
            return "\(v4 >> 24).\((v4 >> 16) & 0xFF).\((v4 >> 8) & 0xFF).\(v4 & 0xFF)"
        }
        let bytes = ipv6Bytes
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: 0, count: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > best.count { best = (index, end - index) }
            index = end
        }
        func text(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.count >= 2 else { return text(groups[...]) }
        return text(groups[..<best.start]) + "::" + text(groups[(best.start + best.count)...])
    }

    public var description: String {
        let address = isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
        return transport == .udp ? address : "tcp/" + address
    }

    /// Parses `a.b.c.d:port` or `[IPv6]:port` (brackets as in RFC 3986 §3.2.2; the IPv6 text of
    /// RFC 4291 §2.2 with at most one `::` and an optional dotted IPv4 tail). Names are not addresses.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.first == ":", let port = UInt16(rest.dropFirst()),
                let (high, low) = Self.parseIPv6(text[text.index(after: text.startIndex)..<close])
            else { return nil }
            self.init(ipv6High: high, low: low, port: port)
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = UInt16(parts[1]), let value = Self.parseIPv4(parts[0]) else { return nil }
        self.init(ipv4: value, port: port)
    }

    /// Dotted-quad IPv4 text in host byte order; nil for short forms, leading zeros or values over 255.
    static func parseIPv4(_ text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                octet.count == 1 || octet.first != "0", let byte = UInt8(octet)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// IPv6 text as its two 64-bit halves: up to eight groups of 1-4 hex digits, one `::` standing
    /// for one or more zero groups, and a dotted IPv4 address as the last 32 bits.
    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        let utf8 = Array(text.utf8)
        var gap: Int?
        var i = 0
        while i + 1 < utf8.count {
            if utf8[i] == UInt8(ascii: ":") && utf8[i + 1] == UInt8(ascii: ":") {
                guard gap == nil else { return nil }  // a second "::" (or ":::")
                gap = i
                i += 2
            } else {
                i += 1
            }
        }
        func groups(_ part: Substring, endsAddress: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (index, piece) in pieces.enumerated() {
                if endsAddress && index == pieces.count - 1 && piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                        let group = UInt16(piece, radix: 16)
                    else {
                        return nil
                    }
                    out.append(group)
                }
            }
            return out
        }
        var all: [UInt16]
        if let gap {
            let start = text.startIndex
            let head = text[start..<text.utf8.index(start, offsetBy: gap)]
            let tail = text[text.utf8.index(start, offsetBy: gap + 2)...]
            guard let before = groups(head, endsAddress: false), let after = groups(tail, endsAddress: true),
                before.count + after.count <= 7
            else { return nil }
            all = before + [UInt16](repeating: 0, count: 8 - before.count - after.count) + after
        } else {
            guard let parsed = groups(text, endsAddress: true), parsed.count == 8 else { return nil }
            all = parsed
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for group in all[0..<4] { high = high << 16 | UInt64(group) }
        for group in all[4..<8] { low = low << 16 | UInt64(group) }
        return (high, low)
    }
}
