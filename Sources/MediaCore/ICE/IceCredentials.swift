/// ICE username fragment and password (RFC 8445 §5.3, syntax RFC 8839 §5.4).
///
/// ufrag: at least 4 ice-chars (24 bits of randomness); pwd: at least 22 ice-chars (128 bits).
public struct IceCredentials: Sendable, Equatable {
    public let ufrag: String
    public let pwd: String

    public init(ufrag: String, pwd: String) {
        self.ufrag = ufrag
        self.pwd = pwd
    }

    /// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
    static let iceChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Fresh random credentials: 8-character ufrag, 24-character password.
    public static func random(using generator: inout some RandomNumberGenerator) -> IceCredentials {
        func word(_ count: Int) -> String {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            for _ in 0..<count { bytes.append(iceChars[Int(generator.next(upperBound: UInt64(iceChars.count)))]) }
            return String(decoding: bytes, as: UTF8.self)
        }
        return IceCredentials(ufrag: word(8), pwd: word(24))
    }
}
