import MediaCore
import Testing

@Suite("ICE-lite agent")
struct IceLiteAgentTests {
    static let a = TransportAddress(ipv4: 0x7F00_0001, port: 50_000)
    static let b = TransportAddress(ipv4: 0x7F00_0001, port: 50_001)
    static let c = TransportAddress(ipv4: 0x7F00_0001, port: 50_002)

    static func agent() -> IceLiteAgent {
        IceLiteAgent(local: IceCredentials(ufrag: "lcl1", pwd: "0123456789012345678901"), remoteUfrag: "rmt1")
    }

    @Test func firstCheckSelectsAndOnlyCheckedAddressesAreValid() {
        var agent = Self.agent()
        let t0 = ContinuousClock.now
        #expect(agent.expectedUsername == "lcl1:rmt1")
        #expect(!agent.isValid(Self.a))
        let r1 = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: false, now: t0) == .selected(Self.a)
        #expect(r1)
        #expect(agent.isValid(Self.a) && !agent.isValid(Self.b))
        #expect(agent.selectedAddress == Self.a)
        // Unchecked address: a packet from it changes nothing.
        let r2 = agent.noteAuthenticatedPacket(from: Self.b, now: t0 + .seconds(5))
        #expect(r2 == .none)
        #expect(agent.selectedAddress == Self.a)
    }

    @Test func nominationMovesMediaAtOnce() {
        var agent = Self.agent()
        let t0 = ContinuousClock.now
        _ = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: false, now: t0)
        let r3 = agent.handleAuthenticatedRequest(from: Self.b, useCandidate: false, now: t0)
        #expect(r3 == .none)
        let r4 = agent.handleAuthenticatedRequest(from: Self.b, useCandidate: true, now: t0) == .selected(Self.b)
        #expect(r4)
        #expect(agent.addressChanges == 1)
    }

    @Test("a rebinding without nomination moves media once the old address fell silent")
    func rebinding() {
        var agent = Self.agent()
        let t0 = ContinuousClock.now
        _ = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: true, now: t0)
        _ = agent.noteAuthenticatedPacket(from: Self.a, now: t0 + .milliseconds(900))
        // Handover: checks come from c while a was active 100 ms ago — not yet.
        let r5 = agent.handleAuthenticatedRequest(from: Self.c, useCandidate: false, now: t0 + .seconds(1))
        #expect(r5 == .none)
        // Media from c latches once a has been silent for the rebinding silence.
        let r6 = agent.noteAuthenticatedPacket(from: Self.c, now: t0 + .milliseconds(1950)) == .selected(Self.c)
        #expect(r6)
        #expect(agent.selectedAddress == Self.c)
    }

    @Test("consent expires 30 s after the last check on the selected address")
    func consent() {
        var agent = Self.agent()
        let t0 = ContinuousClock.now
        _ = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: true, now: t0)
        _ = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: false, now: t0 + .seconds(10))
        let r7 = agent.checkConsent(now: t0 + .seconds(39))
        #expect(!r7)
        let r8 = agent.checkConsent(now: t0 + .seconds(40))
        #expect(r8)
        #expect(agent.state == .expired)
        #expect(agent.selectedAddress == nil)
        let r9 = agent.handleAuthenticatedRequest(from: Self.a, useCandidate: true, now: t0 + .seconds(41))
        #expect(r9 == .none)
        // An ICE restart revives it.
        agent.restart(
            local: IceCredentials(ufrag: "lcl2", pwd: "abcdefghijklmnopqrstuv"),
            remoteUfrag: "rmt2",
            now: t0 + .seconds(42)
        )
        #expect(agent.expectedUsername == "lcl2:rmt2")
        let r10 =
            agent.handleAuthenticatedRequest(from: Self.b, useCandidate: true, now: t0 + .seconds(43))
            == .selected(Self.b)
        #expect(r10)
    }

    @Test func randomCredentialsHaveRFCLengthsAndCharacters() {
        var generator = SystemRandomNumberGenerator()
        let credentials = IceCredentials.random(using: &generator)
        #expect(credentials.ufrag.count >= 4 && credentials.pwd.count >= 22)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        #expect((credentials.ufrag + credentials.pwd).allSatisfy { allowed.contains($0) })
    }
}

@Suite("Transport address")
struct TransportAddressTests {
    @Test func ipv4AndIPv6FormsAgree() {
        let v4 = TransportAddress(ipv4: 0x7F00_0001, port: 40_000)
        #expect(v4.description == "127.0.0.1:40000" && v4.isIPv4 && v4.ipv4 == 0x7F00_0001)
        #expect(TransportAddress("127.0.0.1:40000") == v4)
        #expect(TransportAddress("127.0.0.1") == nil && TransportAddress("1.2.3:4") == nil)
        let bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        let fromBytes = TransportAddress(ipv6: bytes, port: 5)
        let fromHalves = TransportAddress(ipv6High: 0x2001_0db8_0000_0000, low: 1, port: 5)
        #expect(fromBytes == fromHalves && fromBytes.ipv6Bytes == bytes && !fromBytes.isIPv4)
        #expect(fromBytes.description == "[2001:db8::1]:5", "RFC 5952 text")
    }
}
