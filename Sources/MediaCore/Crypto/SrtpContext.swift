internal import CSrtp

/// Why SRTP or SRTCP protection or unprotection failed. The relay drops such packets and counts
/// them under the matching drop reason.
public enum SrtpError: Error, Equatable, Sendable {
    /// The packet index was seen before or is older than the replay window (RFC 3711 §3.3.2).
    case replayed
    /// The authentication tag did not verify: tampered, truncated or under another key.
    case authenticationFailed
    /// The buffer cannot hold the packet plus its trailer.
    case bufferTooSmall(needed: Int, available: Int)
    /// libsrtp could not parse the packet header.
    case malformedPacket(length: Int)
    /// The key is not `profile.keyLength + profile.saltLength` bytes.
    case badKeyLength(expected: Int, actual: Int)
    /// Any other libsrtp status code.
    case library(status: Int32)
}

/// One direction of SRTP/SRTCP (RFC 3711) for one participant: RTP with AEAD_AES_128_GCM on our own
/// OpenSSL-based transform (`SrtpAesGcmRTP`, allocation-free per packet), everything else over libsrtp2.
///
/// An inbound context unprotects everything one peer sends (any SSRC); an outbound context protects
/// everything sent to it. Protection happens in place: the buffer must have room for the trailer
/// (`SrtpContext.maxTrailerLength` bytes past the plaintext). An outbound context may protect the same
/// packet index again, which retransmission with the original SSRC needs.
///
/// Owned by one media worker; the libsrtp session is freed exactly once in `deinit`.
public struct SrtpContext: ~Copyable {
    /// The most bytes protection adds: a 16-byte tag plus the 4-byte SRTCP index (no MKI).
    public static let maxTrailerLength = 20

    /// Default replay window in packets; libsrtp's default of 128 is short for a bursty 4G uplink.
    public static let defaultReplayWindow = 1024

    public enum Direction: Sendable { case inbound, outbound }

    /// Which code protects RTP: ours where we have it (AEAD_AES_128_GCM), or libsrtp for everything
    /// (for cross-checks and benchmarks comparing the two).
    public enum RTPImplementation: Sendable { case preferOwn, libsrtp }

    public let profile: SrtpProfile
    public let direction: Direction
    private let session: srtp_t
    private let ownRTP: SrtpAesGcmRTP?

    /// Creates a context from a master key followed by its salt, as DTLS-SRTP exports them.
    public init(
        profile: SrtpProfile,
        keyAndSalt: [UInt8],
        direction: Direction,
        replayWindow: Int = SrtpContext.defaultReplayWindow,
        rtp implementation: RTPImplementation = .preferOwn
    ) throws(SrtpError) {
        let expected = profile.keyLength + profile.saltLength
        guard keyAndSalt.count == expected else {
            throw .badKeyLength(expected: expected, actual: keyAndSalt.count)
        }
        var created: srtp_t? = nil
        let status = keyAndSalt.withUnsafeBytes { key in
            csrtp_session_create(
                &created,
                Int32(profile.rawValue),
                key.baseAddress,
                key.count,
                direction == .inbound ? 1 : 0,
                UInt(replayWindow)
            )
        }
        guard status == csrtp_status_ok, let created else { throw .library(status: status) }
        var own: SrtpAesGcmRTP?
        if profile == .aeadAes128Gcm, implementation == .preferOwn {
            do {
                own = try SrtpAesGcmRTP(
                    masterKey: Array(keyAndSalt[0..<profile.keyLength]),
                    masterSalt: Array(keyAndSalt[profile.keyLength...]),
                    inbound: direction == .inbound
                )
            } catch {
                csrtp_session_dealloc(created)
                throw error
            }
        }
        self.ownRTP = own
        self.session = created
        self.profile = profile
        self.direction = direction
    }

    deinit {
        csrtp_session_dealloc(session)
    }

    /// Encrypts and authenticates the RTP packet in the first `length` bytes of `buffer`, in place.
    /// Returns the protected length.
    public mutating func protectRTP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        if ownRTP != nil { return try protectOwnRTP(&buffer, length: length) }
        return try run(&buffer, length: length, grows: true) { session, pointer, length in
            csrtp_protect_rtp(session, pointer, length)
        }
    }

    /// Verifies and decrypts the SRTP packet in the first `length` bytes of `buffer`, in place.
    /// Returns the plaintext length.
    public mutating func unprotectRTP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        if ownRTP != nil { return try unprotectOwnRTP(&buffer, length: length) }
        return try run(&buffer, length: length, grows: false) { session, pointer, length in
            csrtp_unprotect_rtp(session, pointer, length)
        }
    }

    /// Protects a (compound) RTCP packet in place as SRTCP (RFC 3711 §3.4). Returns the new length.
    public mutating func protectRTCP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        try run(&buffer, length: length, grows: true) { session, pointer, length in
            csrtp_protect_rtcp(session, pointer, length)
        }
    }

    /// Verifies and decrypts an SRTCP packet in place. Returns the plaintext length.
    public mutating func unprotectRTCP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        try run(&buffer, length: length, grows: false) { session, pointer, length in
            csrtp_unprotect_rtcp(session, pointer, length)
        }
    }

    // Borrowing, so the transform's reference is used in place (a `mutating` caller would retain
    // and release it around every packet).
    private borrowing func protectOwnRTP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        try Self.check(buffer, length: length, grows: true)
        let own = ownRTP.unsafelyUnwrapped
        return try buffer.withUnsafeMutableBytes { bytes throws(SrtpError) in try own.protect(bytes, length: length) }
    }

    private borrowing func unprotectOwnRTP(_ buffer: inout MutableRawSpan, length: Int) throws(SrtpError) -> Int {
        try Self.check(buffer, length: length, grows: false)
        let own = ownRTP.unsafelyUnwrapped
        return try buffer.withUnsafeMutableBytes { bytes throws(SrtpError) in try own.unprotect(bytes, length: length) }
    }

    private func run(
        _ buffer: inout MutableRawSpan,
        length: Int,
        grows: Bool,
        _ call: (srtp_t, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
    ) throws(SrtpError) -> Int {
        try Self.check(buffer, length: length, grows: grows)
        var inOut = Int32(length)
        let session = self.session
        let status = buffer.withUnsafeMutableBytes { bytes in
            call(session, bytes.baseAddress!, &inOut)
        }
        guard status == csrtp_status_ok else { throw Self.error(status: status, length: length) }
        return Int(inOut)
    }

    /// The contract of every call: a non-empty packet in a buffer with room for the trailer.
    private static func check(_ buffer: borrowing MutableRawSpan, length: Int, grows: Bool) throws(SrtpError) {
        let needed = grows ? length + Self.maxTrailerLength : length
        guard length > 0 else { throw .malformedPacket(length: length) }
        guard buffer.byteCount >= needed else {
            throw .bufferTooSmall(needed: needed, available: buffer.byteCount)
        }
    }

    private static func error(status: Int32, length: Int) -> SrtpError {
        switch status {
        case csrtp_status_replay_fail, csrtp_status_replay_old: .replayed
        case csrtp_status_auth_fail, csrtp_status_cipher_fail: .authenticationFailed
        case csrtp_status_parse_err, csrtp_status_bad_param: .malformedPacket(length: length)
        default: .library(status: status)
        }
    }
}
