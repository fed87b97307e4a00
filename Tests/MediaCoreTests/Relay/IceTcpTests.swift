import Testing

@testable import MediaCore

/// ICE-TCP (RFC 6544) as MediaCore sees it: the same datagrams as UDP, tagged with the TCP
/// connection they came on, answered on that connection.
@Suite("ICE-TCP candidates and datagrams")
struct IceTcpTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    @Test("the answer offers a passive TCP candidate below the UDP candidate")
    func answerCandidates() throws {
        var harness = RelayHarness(identity: Self.relayIdentity, iceTCP: true)
        let client = try RelayTestClient(port: 51_001, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        let result = try harness.core.join(room: "tcp", role: .citizen, offer: client.offer(slots: 1), now: harness.now)
        let candidates = result.answerSDP.split(separator: "\r\n").filter { $0.hasPrefix("a=candidate:") }
        // Every answered section repeats both candidates (no bundle-only on the answer side).
        #expect(candidates.count >= 2)
        let udp = try #require(candidates.first { $0.contains(" udp ") })
        let tcp = try #require(candidates.first { $0.contains(" tcp ") })
        #expect(udp == "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host")
        #expect(tcp == "a=candidate:2 1 tcp 1516240895 127.0.0.1 40100 typ host tcptype passive")
        let priority = { (line: Substring) in UInt32(line.split(separator: " ")[3])! }
        #expect(priority(tcp) < priority(udp))
    }

    @Test("without ICE-TCP the answer has only the UDP candidate")
    func udpOnly() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let client = try RelayTestClient(port: 51_002, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        let result = try harness.core.join(room: "udp", role: .citizen, offer: client.offer(slots: 1), now: harness.now)
        #expect(!result.answerSDP.contains(" tcp "))
    }

    @Test("a participant on TCP and one on UDP complete ICE and DTLS and exchange media")
    func mixedTransports() throws {
        var harness = RelayHarness(identity: Self.relayIdentity, iceTCP: true)
        let fingerprint = harness.core.identity.fingerprint
        let staff = try RelayTestClient(port: 51_010, relayFingerprint: fingerprint, seed: 1, transport: .tcp)
        let citizen = try RelayTestClient(port: 51_011, relayFingerprint: fingerprint, seed: 2)
        _ = try harness.connect(staff, room: "mixed", role: .staff)
        _ = try harness.connect(citizen, room: "mixed", role: .citizen)
        #expect(staff.relayAddress == RelayHarness.relayTCPAddress)
        let bothKeyed = staff.isKeyed && citizen.isKeyed
        #expect(staff.stunResponses >= 1, "STUN answered on the TCP connection")
        #expect(bothKeyed, "DTLS completed over TCP and over UDP")

        try harness.send(staff.rtp(video: true, payload: [UInt8](repeating: 7, count: 800)), from: staff)
        try harness.send(citizen.rtp(video: false, payload: [1, 2, 3]), from: citizen)
        #expect(citizen.received.contains { $0.payload == [UInt8](repeating: 7, count: 800) })
        #expect(staff.received.contains { $0.payload == [1, 2, 3] })
    }

    @Test("the same address and port on UDP is a different source than on TCP")
    func transportIsPartOfTheAddress() throws {
        var harness = RelayHarness(identity: Self.relayIdentity, iceTCP: true)
        let fingerprint = harness.core.identity.fingerprint
        let onTCP = try RelayTestClient(port: 51_020, relayFingerprint: fingerprint, seed: 1, transport: .tcp)
        _ = try harness.connect(onTCP, room: "spoof", role: .staff)
        let forwardedBefore = harness.core.counters.rtpForwarded
        let droppedBefore = harness.core.counters.dropped(.unknownAddress)
        // A packet from the same IP and port, but over UDP, is from an address ICE never validated.
        let datagram = try onTCP.rtp(video: true, payload: [9, 9, 9])
        var copy = datagram + [UInt8](repeating: 0, count: 64)
        let udpTwin = onTCP.address.on(.udp)
        copy.withUnsafeMutableBytes {
            harness.core.receive($0, length: datagram.count, from: udpTwin, now: harness.now, into: &harness.output)
        }
        #expect(harness.core.counters.rtpForwarded == forwardedBefore)
        #expect(harness.core.counters.dropped(.unknownAddress) == droppedBefore + 1)
    }

    @Test("TURN credentials follow coturn's use-auth-secret scheme")
    func turnCredential() {
        let credential = TurnCredential(
            secret: "north-sea-secret",
            label: "citizen-42",
            nowUnixSeconds: 1_700_000_000,
            lifetimeSeconds: 3600
        )
        #expect(credential.username == "1700003600:citizen-42")
        // Computed independently with Python: base64(hmac.new(secret, username, sha1).digest()).
        #expect(credential.password == "rNUOxtThns871eSYqH0kPFDHNtQ=")
        #expect(credential.expiresAt == 1_700_003_600)
        let colon = TurnCredential(secret: "s", label: "a:b", nowUnixSeconds: 0, lifetimeSeconds: 1)
        #expect(colon.username == "1:a-b")
    }

    @Test("base64 matches RFC 4648 §10 test vectors")
    func base64() {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (input, expected) in vectors {
            #expect(TurnCredential.base64(Array(input.utf8)) == expected)
        }
    }
}
