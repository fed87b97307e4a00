import Testing

@testable import MediaCore

/// What the browser scenario `hostile_traffic` cannot send: forgeries from a participant's own
/// address, where the relay gets as far as SRTP. None may be forwarded, none may disturb the visit.
@Suite("Hostile datagrams from a participant's own address")
struct HostileDatagramTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    @Test("a flipped tag byte and a replay are dropped and counted; the next real packet still flows")
    func forgedAndReplayed() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "forge", ports: (54_001, 54_002))
        let genuine = try citizen.rtp(video: true, payload: [9, 9, 9])
        try harness.send(genuine, from: citizen)
        let forwarded = harness.core.counters.rtpForwarded
        try harness.send(genuine, from: citizen)  // replayed
        var forged = try citizen.rtp(video: true, payload: [6, 6, 6])
        forged[forged.count - 1] ^= 0x01  // tag
        try harness.send(forged, from: citizen)
        let counters = harness.core.counters
        #expect(counters.dropped(.srtpReplay) == 1 && counters.dropped(.srtpAuthentication) == 1)
        #expect(counters.rtpForwarded == forwarded)
        staff.received.removeAll()
        try harness.send(citizen.rtp(video: true, payload: [7]), from: citizen)
        #expect(staff.received.last?.payload == [7])
    }

    @Test("20,000 mutations of real datagrams from the participant's address forward nothing and crash nothing")
    func mutations() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "mutate", ports: (54_011, 54_012))
        let seeds = [
            try citizen.rtp(video: true, payload: [UInt8](repeating: 1, count: 300)),
            try citizen.rtp(video: false, payload: [2, 2, 2]),
            try citizen.nack(mediaSSRC: 12_345, sequences: [1, 2, 5]),
            citizen.bindingRequest(useCandidate: false),
        ]
        // Sent once for real first, so that a mutation that happens to change nothing is a replay.
        for seed in seeds { try harness.send(seed, from: citizen) }
        var random = SplitMix64(seed: 2026)
        let forwardedBefore = harness.core.counters.rtpForwarded
        staff.received.removeAll()
        for round in 0..<20_000 {
            var datagram = seeds[round % seeds.count]
            switch random.next() % 4 {
            case 0:  // flip up to 4 bytes
                for _ in 0..<(1 + random.next() % 4) {
                    datagram[Int(random.next() % UInt64(datagram.count))] ^= UInt8(
                        truncatingIfNeeded: random.next() | 1
                    )
                }
            case 1:  // truncate
                datagram.removeLast(Int(random.next() % UInt64(datagram.count)))
            case 2:  // extend with junk
                datagram += (0..<(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default:  // overwrite a length or count field near the front
                if datagram.count > 4 {
                    datagram[2 + Int(random.next() % 2)] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            guard !datagram.isEmpty else { continue }
            var buffer = datagram + [UInt8](repeating: 0, count: 64)
            let length = datagram.count
            buffer.withUnsafeMutableBytes {
                harness.core.receive($0, length: length, from: citizen.address, now: harness.now, into: &harness.output)
            }
            harness.output.removeAll()
            if round % 1000 == 0 { harness.now += .milliseconds(10) }
        }
        #expect(harness.core.counters.rtpForwarded == forwardedBefore, "no mutation authenticated")
        #expect(staff.received.isEmpty)
        // The visit is intact: the next genuine packet is forwarded.
        try harness.send(citizen.rtp(video: true, payload: [42]), from: citizen)
        #expect(staff.received.last?.payload == [42])
    }
}

@Suite("Per-source limit in the relay")
struct UnknownSourceLimitTests {
    @Test("a STUN flood from one unknown address is cut to its budget and counted; the visit goes on")
    func stunFloodLimited() throws {
        var harness = RelayHarness(identity: HostileDatagramTests.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "flood", ports: (54_021, 54_022))
        let attacker = TransportAddress(ipv4: 0x7F00_0001, port: 61_000)
        let probe = citizen.bindingRequest(useCandidate: false, password: "not-the-relay-password-00")
        let before = harness.core.counters
        for _ in 0..<1000 { harness.receive(probe, from: attacker) }
        let after = harness.core.counters
        let burst = harness.core.configuration.unknownSourceBurst
        #expect(after.dropped(.stunBadIntegrity) - before.dropped(.stunBadIntegrity) == burst)
        #expect(after.dropped(.rateLimited) - before.dropped(.rateLimited) == 1000 - burst)
        // The participant's own address is never limited.
        staff.received.removeAll()
        for i in 0..<200 { try harness.send(citizen.rtp(video: false, payload: [UInt8(i & 0xFF)]), from: citizen) }
        #expect(staff.received.count == 200)
        #expect(harness.core.counters.dropped(.rateLimited) == after.dropped(.rateLimited))
    }
}
