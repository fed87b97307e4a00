/// An SRTP protection profile negotiated through DTLS `use_srtp`.
///
/// Raw values are the DTLS-SRTP profile identifiers (RFC 5764 §4.1.2 and RFC 7714 §14.2).
/// AEAD_AES_128_GCM is preferred: on this platform it costs about half of AES-CM + HMAC-SHA1 per packet.
public enum SrtpProfile: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 3711): 16-byte key, 14-byte salt, 10-byte tag.
    case aes128CmHmacSha1_80 = 0x0001
    /// SRTP_AEAD_AES_128_GCM (RFC 7714): 16-byte key, 12-byte salt, 16-byte tag.
    case aeadAes128Gcm = 0x0007

    /// Master key length in bytes.
    public var keyLength: Int { 16 }

    /// Master salt length in bytes.
    public var saltLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: 14
        case .aeadAes128Gcm: 12
        }
    }

    /// Authentication tag length added to each SRTP packet, in bytes.
    public var rtpTagLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: 10
        case .aeadAes128Gcm: 16
        }
    }

    public var description: String {
        switch self {
        case .aes128CmHmacSha1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aeadAes128Gcm: "AEAD_AES_128_GCM"
        }
    }
}

/// The SRTP master keys of one DTLS association, already split by role (RFC 5764 §4.2).
///
/// `local` protects what this endpoint sends; `remote` unprotects what the peer sends.
/// Each is the master key followed by the master salt.
public struct SrtpKeyingMaterial: Sendable, Equatable {
    public let profile: SrtpProfile
    public let local: [UInt8]
    public let remote: [UInt8]

    public init(profile: SrtpProfile, local: [UInt8], remote: [UInt8]) {
        precondition(local.count == profile.keyLength + profile.saltLength, "local key has the wrong length")
        precondition(remote.count == profile.keyLength + profile.saltLength, "remote key has the wrong length")
        self.profile = profile
        self.local = local
        self.remote = remote
    }

    /// Splits the exporter output `client_key | server_key | client_salt | server_salt` (RFC 5764 §4.2).
    public init(profile: SrtpProfile, exported: [UInt8], isClient: Bool) {
        let k = profile.keyLength
        let s = profile.saltLength
        precondition(exported.count == 2 * (k + s), "exporter output has the wrong length")
        let clientKey = exported[0..<k]
        let serverKey = exported[k..<(2 * k)]
        let clientSalt = exported[(2 * k)..<(2 * k + s)]
        let serverSalt = exported[(2 * k + s)..<(2 * k + 2 * s)]
        let client = Array(clientKey) + Array(clientSalt)
        let server = Array(serverKey) + Array(serverSalt)
        self.init(profile: profile, local: isClient ? client : server, remote: isClient ? server : client)
    }
}
