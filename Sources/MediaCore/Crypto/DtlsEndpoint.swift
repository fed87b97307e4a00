internal import CSrtp

/// Why a DTLS association could not be set up or went away.
public enum DtlsError: Error, Equatable, Sendable {
    /// Key or certificate generation failed (OpenSSL's reason attached).
    case identityCreationFailed(reason: String)
    /// The SSL object could not be created.
    case endpointCreationFailed(reason: String)
    /// The peer's certificate does not match the fingerprint it announced in SDP (RFC 8122 §5).
    case fingerprintMismatch(expected: DtlsFingerprint, actual: DtlsFingerprint?)
    /// OpenSSL aborted the handshake (an alert sent or received); its reason attached.
    case handshakeFailed(reason: String)
    /// The peer did not offer a profile we accept in `use_srtp` (RFC 5764 §4.1.1).
    case noCommonSrtpProfile
    /// Keying material export failed.
    case keyExportFailed
    /// The flight was retransmitted `attempts` times without an answer.
    case retransmissionLimitReached(attempts: Int)
}

/// Our long-lived DTLS identity: an ECDSA P-256 key, its self-signed certificate and the DTLS context
/// built on them (RFC 8827 §6.5: WebRTC endpoints authenticate certificates by SDP fingerprint).
///
/// Shared by all participants of a process: it is immutable after `init`, and OpenSSL allows many
/// threads to create connections from one `SSL_CTX`. That is why it is a class and `@unchecked Sendable`.
public final class DtlsIdentity: @unchecked Sendable {
    /// The SHA-256 fingerprint to put in `a=fingerprint`.
    public let fingerprint: DtlsFingerprint
    fileprivate let context: OpaquePointer
    private let key: OpaquePointer
    private let certificate: OpaquePointer

    /// The SRTP profiles offered or accepted in `use_srtp`, most preferred first.
    public let srtpProfiles: [SrtpProfile]

    /// Generates a fresh key and certificate. `srtpProfiles` lists what `use_srtp` offers or accepts,
    /// most preferred first (as a server, our order decides).
    public init(
        commonName: String = "visit-relay",
        validDays: Int = 30,
        srtpProfiles: [SrtpProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]
    ) throws(DtlsError) {
        guard !srtpProfiles.isEmpty else { throw .identityCreationFailed(reason: "no SRTP profile") }
        var key: OpaquePointer? = nil
        var certificate: OpaquePointer? = nil
        guard csrtp_generate_certificate(&key, &certificate, commonName, Int32(validDays)) == 1,
            let key, let certificate
        else { throw .identityCreationFailed(reason: Self.lastError()) }
        var digest = [UInt8](repeating: 0, count: 32)
        let digestOK = digest.withUnsafeMutableBytes { csrtp_certificate_sha256(certificate, $0.baseAddress) == 1 }
        guard digestOK, let fingerprint = DtlsFingerprint(bytes: digest),
            let context = csrtp_dtls_context_new(key, certificate, Self.openSSLProfileList(srtpProfiles))
        else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw .identityCreationFailed(reason: Self.lastError())
        }
        self.key = key
        self.certificate = certificate
        self.context = context
        self.fingerprint = fingerprint
        self.srtpProfiles = srtpProfiles
    }

    private static func openSSLProfileList(_ profiles: [SrtpProfile]) -> String {
        profiles.map { profile in
            switch profile {
            case .aeadAes128Gcm: "SRTP_AEAD_AES_128_GCM"
            case .aes128CmHmacSha1_80: "SRTP_AES128_CM_SHA1_80"
            }
        }.joined(separator: ":")
    }

    deinit {
        SSL_CTX_free(context)
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    fileprivate static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        csrtp_last_error(&buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "unknown OpenSSL error" : String(decoding: bytes, as: UTF8.self)
    }
}

/// What a DTLS endpoint reports after a datagram or a timer.
public enum DtlsEvent: Equatable, Sendable {
    /// The handshake completed and the SRTP keys are ready.
    case connected(SrtpKeyingMaterial)
    /// The association failed; the endpoint is dead.
    case failed(DtlsError)
    /// The peer sent close_notify.
    case closed
}

/// One DTLS 1.2 association (RFC 6347) carrying DTLS-SRTP key agreement (RFC 5764), sans-I/O.
///
/// Datagrams come in through `receive(_:now:)`; what OpenSSL wants to send collects in a queue the
/// caller drains with `takeOutgoing()`. Time is a parameter: OpenSSL's own retransmission clock is
/// parked, and `handleTimeout(now:)` retransmits the last flight on this endpoint's schedule
/// (`RetransmitPolicy`, doubling up to a maximum), so tests drive lossy handshakes with a fake clock.
///
/// Owned by one media worker; the SSL object is freed exactly once in `deinit`.
public struct DtlsEndpoint: ~Copyable {
    /// Which side speaks first. WebRTC derives it from `a=setup` (RFC 8842 §5.1): the relay answers
    /// `a=setup:passive` and is the server.
    public enum Role: Sendable { case client, server }

    public enum State: Equatable, Sendable {
        case idle, handshaking, connected
        case failed(DtlsError)
        case closed
    }

    /// Flight retransmission schedule (RFC 6347 §4.2.4.1, with a shorter first timeout suited to
    /// WebRTC, where ICE has already shown the path works).
    public struct RetransmitPolicy: Sendable {
        public var initialTimeout: Duration
        public var maximumTimeout: Duration
        public var maximumRetransmissions: Int

        public init(
            initialTimeout: Duration = .milliseconds(400),
            maximumTimeout: Duration = .seconds(6),
            maximumRetransmissions: Int = 10
        ) {
            self.initialTimeout = initialTimeout
            self.maximumTimeout = maximumTimeout
            self.maximumRetransmissions = maximumRetransmissions
        }
    }

    /// Default path MTU for DTLS records: 1200 bytes keeps flights clear of tunnels and 4G overheads.
    public static let defaultMTU = 1200

    public let role: Role
    public let remoteFingerprint: DtlsFingerprint
    public private(set) var state: State = .idle
    /// The keys once connected.
    public private(set) var keyingMaterial: SrtpKeyingMaterial?
    /// When `handleTimeout(now:)` should next be called, if a flight awaits an answer.
    public private(set) var nextTimeout: ContinuousClock.Instant?

    private let identity: DtlsIdentity
    private let ssl: OpaquePointer
    private let policy: RetransmitPolicy
    private var currentTimeout: Duration
    private var retransmissions = 0
    private var mtu: Int

    public init(
        role: Role,
        identity: DtlsIdentity,
        remoteFingerprint: DtlsFingerprint,
        mtu: Int = DtlsEndpoint.defaultMTU,
        retransmit: RetransmitPolicy = RetransmitPolicy()
    ) throws(DtlsError) {
        let created = remoteFingerprint.bytes.withUnsafeBytes { expected in
            csrtp_dtls_new(identity.context, role == .client ? 1 : 0, mtu, expected.baseAddress)
        }
        guard let created else { throw .endpointCreationFailed(reason: DtlsIdentity.lastError()) }
        self.ssl = created
        self.role = role
        self.identity = identity
        self.remoteFingerprint = remoteFingerprint
        self.policy = retransmit
        self.currentTimeout = retransmit.initialTimeout
        self.mtu = mtu
    }

    deinit {
        csrtp_dtls_free(ssl)
    }

    /// Our own certificate's fingerprint.
    public var localFingerprint: DtlsFingerprint { identity.fingerprint }

    /// The negotiated protocol version once connected (0xFEFD is DTLS 1.2).
    public var protocolVersion: Int { Int(csrtp_dtls_version(ssl)) }

    /// Starts the handshake. A client sends its ClientHello; a server waits for one.
    public mutating func start(now: ContinuousClock.Instant) -> DtlsEvent? {
        guard state == .idle else { return nil }
        state = .handshaking
        guard role == .client else { return nil }
        return advanceHandshake(now: now, receivedFlight: true)
    }

    /// Feeds one received DTLS datagram (first byte 20–63, RFC 7983).
    public mutating func receive(_ datagram: RawSpan, now: ContinuousClock.Instant) -> DtlsEvent? {
        switch state {
        case .failed, .closed:
            return nil
        case .idle:
            guard role == .server else { return nil }
            state = .handshaking
        case .handshaking, .connected:
            break
        }
        let ssl = self.ssl
        return datagram.withUnsafeBytes { bytes -> DtlsEvent? in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
            csrtp_dtls_set_input(ssl, base, bytes.count)
            defer { csrtp_dtls_set_input(ssl, nil, 0) }
            if state == .connected {
                return readApplicationData()
            }
            return advanceHandshake(now: now, receivedFlight: true)
        }
    }

    /// Retransmits the last flight if its timer has expired at `now`.
    public mutating func handleTimeout(now: ContinuousClock.Instant) -> DtlsEvent? {
        guard state == .handshaking, let deadline = nextTimeout, now >= deadline else { return nil }
        guard retransmissions < policy.maximumRetransmissions else {
            return fail(.retransmissionLimitReached(attempts: retransmissions), now: now)
        }
        retransmissions += 1
        currentTimeout = min(currentTimeout * 2, policy.maximumTimeout)
        let result = csrtp_dtls_force_timeout(ssl)
        if result < 0 {
            return fail(.handshakeFailed(reason: DtlsIdentity.lastError()), now: now)
        }
        nextTimeout = csrtp_dtls_timer_running(ssl) == 1 ? now + currentTimeout : nil
        return nil
    }

    /// Removes and returns the oldest datagram waiting to be sent, or `nil`.
    public mutating func takeOutgoing() -> [UInt8]? {
        guard csrtp_dtls_output_count(ssl) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: max(mtu, 1500) + 512)
        let length = buffer.withUnsafeMutableBytes { csrtp_dtls_pop_output(ssl, $0.baseAddress, $0.count) }
        guard length > 0 else { return nil }
        buffer.removeSubrange(Int(length)...)
        return buffer
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and closes the association.
    public mutating func close() {
        guard state == .connected || state == .handshaking else { return }
        _ = SSL_shutdown(ssl)
        state = .closed
        nextTimeout = nil
    }

    // MARK: - Handshake

    private mutating func advanceHandshake(now: ContinuousClock.Instant, receivedFlight: Bool) -> DtlsEvent? {
        let before = csrtp_dtls_output_count(ssl)
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            nextTimeout = nil
            return finishHandshake(now: now)
        }
        let code = SSL_get_error(ssl, result)
        guard code == csrtp_ssl_error_want_read || code == csrtp_ssl_error_want_write else {
            if csrtp_dtls_fingerprint_mismatch(ssl) == 1 {
                return fail(.fingerprintMismatch(expected: remoteFingerprint, actual: peerFingerprint()), now: now)
            }
            return fail(.handshakeFailed(reason: DtlsIdentity.lastError()), now: now)
        }
        // A new flight went out: its timer starts afresh at the initial timeout.
        if csrtp_dtls_output_count(ssl) > before && receivedFlight {
            currentTimeout = policy.initialTimeout
            retransmissions = 0
        }
        if csrtp_dtls_timer_running(ssl) == 1 {
            if nextTimeout == nil || csrtp_dtls_output_count(ssl) > before {
                nextTimeout = now + currentTimeout
            }
        } else {
            nextTimeout = nil
        }
        return nil
    }

    private mutating func finishHandshake(now: ContinuousClock.Instant) -> DtlsEvent? {
        guard let actual = peerFingerprint(), actual == remoteFingerprint else {
            return fail(.fingerprintMismatch(expected: remoteFingerprint, actual: peerFingerprint()), now: now)
        }
        guard let profile = SrtpProfile(rawValue: UInt16(csrtp_dtls_selected_srtp_profile(ssl))) else {
            return fail(.noCommonSrtpProfile, now: now)
        }
        var exported = [UInt8](repeating: 0, count: 2 * (profile.keyLength + profile.saltLength))
        let ok = exported.withUnsafeMutableBytes { csrtp_dtls_export_srtp_keys(ssl, $0.baseAddress, $0.count) == 1 }
        guard ok else { return fail(.keyExportFailed, now: now) }
        let keys = SrtpKeyingMaterial(profile: profile, exported: exported, isClient: role == .client)
        keyingMaterial = keys
        state = .connected
        return .connected(keys)
    }

    /// After the handshake, records are alerts, retransmitted final flights (OpenSSL answers them
    /// itself) or application data we do not use yet (data channels come later).
    private mutating func readApplicationData() -> DtlsEvent? {
        var scratch = [UInt8](repeating: 0, count: 2048)
        let result = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if result > 0 { return nil }
        let code = SSL_get_error(ssl, result)
        if code == csrtp_ssl_error_zero_return {
            state = .closed
            return .closed
        }
        if code == csrtp_ssl_error_want_read || code == csrtp_ssl_error_want_write { return nil }
        state = .failed(.handshakeFailed(reason: DtlsIdentity.lastError()))
        return .closed
    }

    private mutating func fail(_ error: DtlsError, now: ContinuousClock.Instant) -> DtlsEvent {
        state = .failed(error)
        nextTimeout = nil
        return .failed(error)
    }

    private func peerFingerprint() -> DtlsFingerprint? {
        var digest = [UInt8](repeating: 0, count: 32)
        let ok = digest.withUnsafeMutableBytes { csrtp_dtls_peer_sha256(ssl, $0.baseAddress) == 1 }
        return ok ? DtlsFingerprint(bytes: digest) : nil
    }
}
