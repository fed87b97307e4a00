/// A certificate fingerprint as signalled in SDP (`a=fingerprint:sha-256 AB:CD:…`, RFC 8122 §5).
///
/// Only SHA-256 is produced and accepted: browsers have used it for years and RFC 8122 ranks it first.
public struct DtlsFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The hash function token used in SDP.
    public static let hashFunction = "sha-256"

    /// Wraps 32 digest bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses the colon-separated upper- or lower-case hex form (`AB:CD:…`, 32 octets).
    public init?(hex: some StringProtocol) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for part in hex.split(separator: ":", omittingEmptySubsequences: false) {
            guard part.utf8.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes: bytes)
    }

    /// The colon-separated upper-case hex form, as browsers write it.
    public var hex: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of an SDP `a=fingerprint:` attribute.
    public var sdpValue: String { "\(Self.hashFunction) \(hex)" }

    public var description: String { sdpValue }
}
