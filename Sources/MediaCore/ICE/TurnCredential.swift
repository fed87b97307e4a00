/// Time-limited TURN credentials in the shared-secret scheme coturn calls `use-auth-secret`
/// (the "TURN REST API" of draft-uberti-behave-turn-rest-00 §2.2):
///
/// - username: `<expiry as Unix seconds>:<label>`;
/// - password: base64(HMAC-SHA1(shared secret, username)).
///
/// The TURN server recomputes the password from the username with the same secret and refuses the
/// allocation once the expiry has passed, so the relay hands these out per join and never talks to
/// the TURN server. Sans-I/O: the caller passes the current Unix time.
public struct TurnCredential: Equatable, Sendable {
    public let username: String
    public let password: String
    /// Unix seconds after which the TURN server refuses the credential.
    public let expiresAt: UInt64

    /// Issues a credential valid for `lifetimeSeconds` from `nowUnixSeconds`. `label` names the
    /// holder for the TURN server's logs (it must not contain ':'; it is replaced by '-').
    public init(secret: String, label: String, nowUnixSeconds: UInt64, lifetimeSeconds: UInt64) {
        let expiresAt = nowUnixSeconds + lifetimeSeconds
        let safeLabel = String(label.map { $0 == ":" ? "-" : $0 })
        let username = "\(expiresAt):\(safeLabel)"
        var mac = [UInt8](repeating: 0, count: 20)
        var secretBytes = Array(secret.utf8)
        var message = Array(username.utf8)
        secretBytes.withUnsafeMutableBytes { key in
            var hmac = HmacSha1(key: UnsafeRawBufferPointer(key))
            message.withUnsafeMutableBytes { hmac.update(UnsafeRawBufferPointer($0)) }
            mac.withUnsafeMutableBytes { hmac.finalize(into: $0) }
        }
        self.username = username
        self.password = Self.base64(mac)
        self.expiresAt = expiresAt
    }

    /// Base64 with padding (RFC 4648 §4), as coturn compares it.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(remaining > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
