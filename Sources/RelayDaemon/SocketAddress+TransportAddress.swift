import MediaCore
import NIOCore

/// Conversions between NIO's socket addresses and MediaCore's `TransportAddress`, in one place.
extension TransportAddress {
    /// Reads the raw `sockaddr_in`/`sockaddr_in6` (RFC 3493 layout): no string formatting per datagram.
    init?(_ address: SocketAddress) {
        switch address {
        case .v4:
            let parsed: TransportAddress? = address.withSockAddr { pointer, size in
                guard size >= 8 else { return nil }
                let raw = UnsafeRawPointer(pointer)
                let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                let host = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                return TransportAddress(ipv4: host, port: port)
            }
            guard let parsed else { return nil }
            self = parsed
        case .v6:
            let parsed: TransportAddress? = address.withSockAddr { pointer, size in
                guard size >= 24 else { return nil }
                let raw = UnsafeRawPointer(pointer)
                let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                let high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                let low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                return TransportAddress(ipv6High: high, low: low, port: port)
            }
            guard let parsed else { return nil }
            self = parsed
        default:
            return nil
        }
    }

    /// The NIO socket address to send to (made once per destination: it formats and parses a string).
    func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: host, port: Int(port))
    }
}
