import ClientPeer
import MediaCore
import Testing

/// The client peer the tests, `relay-load` and the fuzzers share, against another of itself in the
/// server role: checks verify only under the right password, DTLS keys both sides, SRTP goes
/// through once and a replay or a flipped bit does not.
@Suite("ClientTransport: the shared client peer")
struct ClientTransportTests {
    static let now = ContinuousClock.now

    static func client() throws -> ClientTransport {
        ClientTransport(
            ice: IceCredentials(ufrag: "cli1", pwd: "client-password-24-chars"),
            identity: try DtlsIdentity(commonName: "client")
        )
    }

    static func server() throws -> ClientTransport {
        ClientTransport(
            ice: IceCredentials(ufrag: "srv1", pwd: "server-password-24-chars"),
            identity: try DtlsIdentity(commonName: "server")
        )
    }

    /// Each side takes the other's credentials and certificate; the server answers DTLS.
    static func connect(_ client: inout ClientTransport, _ server: inout ClientTransport) throws {
        try client.connect(
            ufrag: "srv1",
            password: "server-password-24-chars",
            fingerprint: server.identity.fingerprint
        )
        try server.connect(
            ufrag: "cli1",
            password: "client-password-24-chars",
            fingerprint: client.identity.fingerprint,
            role: .server
        )
    }

    static func deliver(_ bytes: [UInt8], to transport: inout ClientTransport) -> ([UInt8], ClientTransport.Received) {
        var packet = bytes
        let received = packet.withUnsafeMutableBytes { transport.receive($0, now: now) }
        return (packet, received)
    }

    @Test("a Binding request verifies under the answering side's password; its response only under the same")
    func bindingCheck() throws {
        var client = try Self.client()
        var server = try Self.server()
        try Self.connect(&client, &server)
        var generator = SystemRandomNumberGenerator()
        let request = ClientTransport.encoded(client.bindingRequest(transactionID: .random(using: &generator)))
        #expect(Self.deliver(request, to: &server).1 == .bindingRequest)
        let view = try STUNMessageView(validating: request.span.bytes)
        let answered = server.bindingResponse(to: view, mapped: .ipv4(0x7F00_0001, port: 5000))
        let response = try #require(answered)
        let (_, received) = Self.deliver(ClientTransport.encoded(response), to: &client)
        #expect(received == .bindingSuccess(mapped: .ipv4(0x7F00_0001, port: 5000), fingerprinted: true))

        // A request under another password gets no response; a response under one is refused.
        let forged = ClientTransport.encoded(
            client.bindingRequest(transactionID: .random(using: &generator), password: "wrong")
        )
        let forgedView = try STUNMessageView(validating: forged.span.bytes)
        let refused = server.bindingResponse(to: forgedView, mapped: .ipv4(1, port: 1)) == nil
        #expect(refused)
        var wrong = response
        wrong.integrityPassword = "not-the-server-password"
        #expect(Self.deliver(ClientTransport.encoded(wrong), to: &client).1 == .badStun)
        #expect(Self.deliver([0x00, 0x01, 0x00], to: &client).1 == .badStun)
    }

    @Test("DTLS keys both sides; SRTP and SRTCP arrive once, a replay and a flipped bit are refused")
    func keyingAndSrtp() throws {
        var client = try Self.client()
        var server = try Self.server()
        try Self.connect(&client, &server)
        do {
            _ = try client.protected([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
            Issue.record("protected before DTLS keyed")
        } catch {
            #expect(error == .notKeyed)
        }
        client.startDtls(now: Self.now)
        server.startDtls(now: Self.now)
        var flights = 0
        while !(client.isKeyed && server.isKeyed), flights < 20 {
            flights += 1
            while let datagram = client.takeDtlsOutgoing() { _ = Self.deliver(datagram, to: &server) }
            while let datagram = server.takeDtlsOutgoing() { _ = Self.deliver(datagram, to: &client) }
        }
        #expect(client.isKeyed && server.isKeyed)

        let rtp: [UInt8] =
            [0x80, 96, 0x12, 0x34, 0, 0, 0x10, 0, 0xCA, 0xFE, 0xBA, 0xBE] + Array(repeating: 0xAB, count: 100)
        let protected = try client.protected(rtp)
        #expect(protected != rtp && protected.count > rtp.count)
        let (plain, received) = Self.deliver(protected, to: &server)
        #expect(received == .rtp(length: rtp.count))
        #expect(Array(plain[0..<rtp.count]) == rtp)
        #expect(Self.deliver(protected, to: &server).1 == .replayed)
        var tampered = try client.protected(Array(rtp[0..<2]) + [0x12, 0x35] + Array(rtp[4...]))
        tampered[20] ^= 0x01
        #expect(Self.deliver(tampered, to: &server).1 == .undecryptable)

        // A receiver report (RFC 3550 §6.4.2) with no blocks, as SRTCP.
        let rtcp: [UInt8] = [0x80, 201, 0, 1, 0xCA, 0xFE, 0xBA, 0xBE]
        let (rtcpPlain, rtcpReceived) = Self.deliver(try server.protected(rtcp, rtcp: true), to: &client)
        #expect(rtcpReceived == .rtcp(length: rtcp.count))
        #expect(Array(rtcpPlain[0..<rtcp.count]) == rtcp)
    }

    @Test("the offer carries the transport's credentials and certificate, one receive pair per slot")
    func offerShape() throws {
        let client = try Self.client()
        var offer = ChromiumOffer(
            ice: client.ice,
            fingerprint: client.identity.fingerprint,
            audioSSRC: 11,
            videoSSRC: 12,
            slots: 2
        )
        let sdp = try SDPParser().parse(offer.text)
        #expect(sdp.media.map(\.kind) == ["audio", "video", "audio", "video", "audio", "video"])
        #expect(sdp.resolvedValue(of: "ice-ufrag", media: 0) == "cli1")
        #expect(offer.text.contains("a=fingerprint:\(client.identity.fingerprint.sdpValue)"))
        offer.bundleOnly = true
        let bundled = try SDPParser().parse(offer.text)
        #expect(bundled.media.dropFirst().allSatisfy { $0.port == 0 })
        #expect(
            bundled.resolvedValue(of: "ice-ufrag", media: 3) == "cli1",
            "session-level credentials apply to every section"
        )
    }
}
