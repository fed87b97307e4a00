public import MediaCore

/// The client side of one WebRTC transport, sans I/O, as a browser runs it against the relay: ICE
/// connectivity checks as the controlling agent (RFC 8445 §7.2.2, aggressive nomination with
/// USE-CANDIDATE), DTLS in the role `a=setup` gave it (RFC 8842 §5.1), then SRTP and SRTCP with the
/// keys DTLS exported (RFC 5764 §4.2). The in-process test client (`RelayTestClient`), the load
/// harness (`relay-load`'s `LoadConnection`) and the fuzz targets drive their peers through it, so
/// a change in how a client keys or checks is made once.
///
/// Datagrams go in through `receive(_:now:)` (decrypted in place) and out through the caller, which
/// owns the socket or the in-process relay. Nothing here allocates per media packet.
public struct ClientTransport: ~Copyable {
    public let ice: IceCredentials
    public let identity: DtlsIdentity
    /// The remote side's ICE credentials, from its description.
    public private(set) var remoteUfrag = ""
    public private(set) var remotePassword = ""
    public private(set) var dtls: DtlsEndpoint?
    public private(set) var srtpOut: SrtpContext?
    public private(set) var srtpIn: SrtpContext?
    /// ICE-CONTROLLING's tie-breaker (RFC 8445 §7.1.1).
    public var tieBreaker: UInt64 = 0x0102_0304_0506_0708

    public init(ice: IceCredentials, identity: DtlsIdentity) {
        self.ice = ice
        self.identity = identity
    }

    /// Keys exported and both SRTP contexts made.
    public var isKeyed: Bool { srtpOut != nil && srtpIn != nil }

    /// Takes the remote side's credentials and certificate and makes the DTLS endpoint (`role`:
    /// `.client` when the answer says `a=setup:passive`, as the relay's does).
    public mutating func connect(
        ufrag: String,
        password: String,
        fingerprint: DtlsFingerprint,
        role: DtlsEndpoint.Role = .client
    ) throws(DtlsError) {
        remoteUfrag = ufrag
        remotePassword = password
        dtls = try DtlsEndpoint(role: role, identity: identity, remoteFingerprint: fingerprint)
    }

    /// Replaces the remote credentials after an ICE restart (RFC 8839 §4.4.1.1.1); DTLS stays.
    public mutating func restartIce(ufrag: String, password: String) {
        remoteUfrag = ufrag
        remotePassword = password
    }

    // MARK: ICE

    /// A Binding request on the selected pair, integrity under the remote password. `username` and
    /// `password` override them (to test what the relay refuses). Chromium sends FINGERPRINT; the
    /// relay must not need it, so it is off unless asked for.
    public func bindingRequest(
        transactionID: STUNTransactionID,
        useCandidate: Bool = true,
        priority: UInt32 = 0x6e00_01ff,
        username: String? = nil,
        password: String? = nil,
        fingerprint: Bool = false
    ) -> STUNMessage {
        var request = STUNMessage(type: .bindingRequest, transactionID: transactionID)
        request.username = username ?? "\(remoteUfrag):\(ice.ufrag)"
        request.priority = priority
        request.iceControlling = tieBreaker
        request.useCandidate = useCandidate
        request.integrityPassword = password ?? remotePassword
        request.fingerprint = fingerprint
        return request
    }

    /// The success response to the remote side's own check (an ICE-lite peer sends none, RFC 8445
    /// §2.5; libnice in lite mode, Janus's, sends a triggered check on the nominated pair), or nil
    /// when it does not verify under our password.
    public func bindingResponse(to request: borrowing STUNMessageView, mapped: STUNAddress) -> STUNMessage? {
        guard request.messageType == .bindingRequest, request.verifyIntegrity(password: ice.pwd) else { return nil }
        var response = STUNMessage(type: .bindingSuccess, transactionID: request.transactionID)
        response.xorMappedAddress = mapped
        response.integrityPassword = ice.pwd
        return response
    }

    // MARK: DTLS

    /// Starts the handshake (the client sends its ClientHello; a server only waits for one).
    public mutating func startDtls(now: ContinuousClock.Instant) {
        _ = dtls?.start(now: now)
    }

    /// The next DTLS datagram to send, if any.
    public mutating func takeDtlsOutgoing() -> [UInt8]? {
        dtls?.takeOutgoing()
    }

    /// When the DTLS endpoint next needs `handleDtlsTimeout` (a flight to retransmit), if ever.
    public var dtlsTimeout: ContinuousClock.Instant? {
        switch dtls {
        case .some(let endpoint): endpoint.nextTimeout
        case .none: nil
        }
    }

    public mutating func handleDtlsTimeout(now: ContinuousClock.Instant) {
        _ = dtls?.handleTimeout(now: now)
    }

    /// Sends close_notify (RFC 5246 §7.2.1), as a browser does when its PeerConnection closes.
    public mutating func closeDtls() {
        dtls?.close()
    }

    // MARK: Receiving

    /// What one datagram from the remote side was.
    public enum Received: Equatable, Sendable {
        /// A Binding success response that verified under the remote password.
        case bindingSuccess(mapped: STUNAddress?, fingerprinted: Bool)
        /// A Binding request from the remote side (answer it with `bindingResponse(to:mapped:)`).
        case bindingRequest
        /// STUN that does not parse, or a response that does not verify.
        case badStun
        /// A DTLS record, handled; `keyed` when this one completed the handshake and made the
        /// SRTP contexts. Send what `takeDtlsOutgoing()` has next.
        case dtls(keyed: Bool, failed: DtlsError?)
        /// SRTP decrypted in place: the first `length` bytes are the RTP packet.
        case rtp(length: Int)
        /// SRTCP decrypted in place: the first `length` bytes are the compound RTCP packet.
        case rtcp(length: Int)
        /// SRTP the replay window refused (a browser drops these the same way).
        case replayed
        /// SRTP or SRTCP that did not authenticate, or arrived before keys.
        case undecryptable
        /// Anything else (RFC 7983 §7: not STUN, DTLS, RTP or RTCP).
        case other
    }

    /// Handles a datagram from the remote side; SRTP and SRTCP are decrypted in `datagram`.
    public mutating func receive(_ datagram: UnsafeMutableRawBufferPointer, now: ContinuousClock.Instant) -> Received {
        guard datagram.count >= 2 else { return .other }
        switch DatagramKind(firstByte: datagram[0], secondByte: datagram[1]) {
        case .stun:
            guard let message = try? STUNMessageView(validating: UnsafeRawBufferPointer(datagram).bytes) else {
                return .badStun
            }
            if message.messageType == .bindingRequest { return .bindingRequest }
            guard message.messageType == .bindingSuccess, message.verifyIntegrity(password: remotePassword) else {
                return .badStun
            }
            return .bindingSuccess(mapped: message.xorMappedAddress, fingerprinted: message.fingerprintOffset != nil)
        case .dtls:
            switch dtls?.receive(UnsafeRawBufferPointer(datagram).bytes, now: now) {
            case .connected(let keys):
                do {
                    srtpOut = try SrtpContext(profile: keys.profile, keyAndSalt: keys.local, direction: .outbound)
                    srtpIn = try SrtpContext(profile: keys.profile, keyAndSalt: keys.remote, direction: .inbound)
                } catch {
                    return .dtls(keyed: false, failed: .keyExportFailed)
                }
                return .dtls(keyed: true, failed: nil)
            case .failed(let error): return .dtls(keyed: false, failed: error)
            default: return .dtls(keyed: false, failed: nil)
            }
        case .rtp:
            var span = MutableRawSpan(_unsafeBytes: datagram)
            do {
                guard let length = try srtpIn?.unprotectRTP(&span, length: datagram.count) else {
                    return .undecryptable
                }
                return .rtp(length: length)
            } catch .replayed {
                return .replayed
            } catch {
                return .undecryptable
            }
        case .rtcp:
            var span = MutableRawSpan(_unsafeBytes: datagram)
            guard let length = try? srtpIn?.unprotectRTCP(&span, length: datagram.count) else { return .undecryptable }
            return .rtcp(length: length)
        default:
            return .other
        }
    }

    // MARK: Sending

    /// Protects the `length` bytes of RTP (or, with `rtcp`, RTCP) at the start of `buffer` in place;
    /// the buffer needs `SrtpContext.maxTrailerLength` bytes past them. Returns the protected length.
    public mutating func protect(
        _ buffer: UnsafeMutableRawBufferPointer,
        length: Int,
        rtcp: Bool = false
    ) throws(ClientTransportError) -> Int {
        guard srtpOut != nil else { throw .notKeyed }
        var span = MutableRawSpan(_unsafeBytes: buffer)
        do {
            return rtcp
                ? try srtpOut!.protectRTCP(&span, length: length) : try srtpOut!.protectRTP(&span, length: length)
        } catch {
            throw .srtp(error)
        }
    }

    /// `plain` protected as SRTP or (for `rtcp`) SRTCP, in a new array (tests and fuzzers).
    public mutating func protected(_ plain: [UInt8], rtcp: Bool = false) throws(ClientTransportError) -> [UInt8] {
        var packet = plain + [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        let outcome: Result<Int, ClientTransportError> = packet.withUnsafeMutableBytes { buffer in
            do throws(ClientTransportError) {
                return .success(try protect(buffer, length: plain.count, rtcp: rtcp))
            } catch {
                return .failure(error)
            }
        }
        return Array(packet[0..<(try outcome.get())])
    }

    /// `message` encoded into a new array (tests and fuzzers; `relay-load` encodes into its buffer).
    public static func encoded(_ message: STUNMessage) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: message.encodedSize)
        bytes.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            message.encode(into: &out)
            _ = out.finalize(for: buffer)
        }
        return bytes
    }
}

public enum ClientTransportError: Error, Equatable {
    /// Media was to be sent before DTLS exported keys.
    case notKeyed
    case srtp(SrtpError)
}
