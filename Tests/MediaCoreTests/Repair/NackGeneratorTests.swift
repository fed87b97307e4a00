import MediaCore
import Testing

@Suite("NACK generator")
struct NackGeneratorTests {
    static let rtt: Duration = .milliseconds(100)

    @Test(
        "a hole across the 16-bit wrap is requested after the minimum wait",
        arguments: [0xFFFD, 0xFFFE, 0xFFFF, 0, 0x7FFF]
    )
    func holeAcrossWrap(start: Int) {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        let s = UInt16(start)
        generator.insert(sequence: s, now: t0)
        generator.insert(sequence: s &+ 1, now: t0)
        generator.insert(sequence: s &+ 3, now: t0)  // s+2 lost
        #expect(generator.missing == 1)
        let r1 = generator.due(now: t0, rtt: Self.rtt, into: &out)
        #expect(r1 == 0, "not before the minimum wait")
        let r2 = generator.due(now: t0 + .milliseconds(10), rtt: Self.rtt, into: &out)
        #expect(r2 == 1)
        #expect(out == [s &+ 2])
    }

    @Test("learned reordering is not mistaken for loss")
    func reordering() {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        var now = t0
        // Every 10th packet arrives 2 late: 0 1 3 4 2 5 ... (a 4G scheduler's reordering).
        var sequence: UInt16 = 100
        for _ in 0..<100 {
            generator.insert(sequence: sequence, now: now)
            generator.insert(sequence: sequence &+ 1, now: now)
            generator.insert(sequence: sequence &+ 3, now: now)
            generator.insert(sequence: sequence &+ 4, now: now)
            _ = generator.due(now: now, rtt: Self.rtt, into: &out)
            #expect(out.isEmpty || generator.reorderAllowance == 0, "no request while within the allowance")
            generator.insert(sequence: sequence &+ 2, now: now + .milliseconds(2))
            sequence &+= 5
            now += .milliseconds(20)
        }
        #expect(generator.reorderAllowance >= 1, "reordering by one or two packets was learned")
        #expect(generator.missing == 0)
        #expect(generator.recovered <= 1, "reordered packets are not counted as recovered")
    }

    @Test("retries are spaced by the RTT, capped, and a hole is given up after max age with a keyframe request")
    func retriesCapAndAge() {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        generator.insert(sequence: 10, now: t0)
        generator.insert(sequence: 12, now: t0)
        var requests: [Duration] = []
        var now = t0
        while now - t0 < .milliseconds(1500) {
            if generator.due(now: now, rtt: Self.rtt, into: &out) > 0 { requests.append(now - t0) }
            now += .milliseconds(5)
        }
        #expect(requests.count == NackGenerator.maxRetries || requests.count == 10)
        #expect(zip(requests, requests.dropFirst()).allSatisfy { $1 - $0 >= Self.rtt })
        #expect(generator.keyframeNeeded)
        #expect(generator.givenUp == 1 && generator.missing == 0)
        generator.keyframeRequested()
        #expect(!generator.keyframeNeeded)
    }

    @Test("a retransmitted packet counts as received and stops the requests")
    func recoveredByRetransmission() {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        generator.insert(sequence: 1, now: t0)
        generator.insert(sequence: 3, now: t0)
        _ = generator.due(now: t0 + .milliseconds(20), rtt: Self.rtt, into: &out)
        #expect(out == [2])
        let r3 = generator.insert(sequence: 2, now: t0 + .milliseconds(60), retransmission: true)
        #expect(r3)
        #expect(generator.recovered == 1 && generator.missing == 0)
        let r4 = generator.due(now: t0 + .milliseconds(500), rtt: Self.rtt, into: &out)
        #expect(r4 == 0)
        let r5 = generator.insert(sequence: 2, now: t0 + .milliseconds(70))
        #expect(!r5, "a duplicate is not new")
    }

    @Test("a jump beyond what can be tracked resets the stream and asks for a keyframe")
    func streamReset() {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        generator.insert(sequence: 5, now: t0)
        generator.insert(sequence: 30_000, now: t0)
        #expect(generator.keyframeNeeded && generator.missing == 0)
        let r6 = generator.due(now: t0 + .seconds(1), rtt: Self.rtt, into: &out)
        #expect(r6 == 0)
    }
}

@Suite("RTX cache")
struct RtxCacheTests {
    @Test("a stored packet is served once per RTT, and not after the retention time", arguments: [0, 0xFFFF])
    func servedOncePerRTT(sequence: Int) {
        let cache = RtxCache()
        let t0 = ContinuousClock.now
        let rtt: Duration = .milliseconds(80)
        let packet: [UInt8] = [0x80, 96, 0, 1, 9, 9, 9]
        packet.withUnsafeBytes { cache.store($0, sequence: UInt16(sequence), now: t0) }
        let first = cache.retransmission(of: UInt16(sequence), now: t0 + .milliseconds(10), rtt: rtt)
        #expect(first.map(Array.init) == packet)
        #expect(cache.retransmission(of: UInt16(sequence), now: t0 + .milliseconds(50), rtt: rtt) == nil)
        #expect(cache.suppressed == 1)
        #expect(cache.retransmission(of: UInt16(sequence), now: t0 + .milliseconds(95), rtt: rtt) != nil)
        #expect(
            cache.retransmission(of: UInt16(sequence), now: t0 + .milliseconds(1100), rtt: rtt) == nil,
            "older than max(3×RTT, 1 s)"
        )
        #expect(cache.retransmission(of: UInt16(sequence) &+ 1, now: t0, rtt: rtt) == nil)
        #expect(cache.unavailable == 2 && cache.served == 2)
    }

    @Test("a slot reused by a newer packet does not serve the old sequence number")
    func overwritten() {
        let cache = RtxCache()
        let t0 = ContinuousClock.now
        [UInt8](repeating: 1, count: 20).withUnsafeBytes { cache.store($0, sequence: 5, now: t0) }
        [UInt8](repeating: 2, count: 20).withUnsafeBytes {
            cache.store($0, sequence: 5 + UInt16(RtxCache.videoCapacity), now: t0)
        }
        #expect(cache.retransmission(of: 5, now: t0, rtt: .milliseconds(50)) == nil)
        #expect(
            cache.retransmission(of: 5 + UInt16(RtxCache.videoCapacity), now: t0, rtt: .milliseconds(50)).map(
                Array.init
            ) == [UInt8](repeating: 2, count: 20)
        )
    }
}

@Suite("NACK generator with an audio horizon")
struct AudioNackGeneratorTests {
    @Test("a hole is requested only while age plus RTT fits the horizon, then given up without a keyframe")
    func inTimeOnly() {
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0, inTimeHorizon: .milliseconds(250))
        var out: [UInt16] = []
        generator.insert(sequence: 1, now: t0)
        generator.insert(sequence: 3, now: t0)
        #expect(generator.due(now: t0 + .milliseconds(60), rtt: .milliseconds(100), into: &out) == 1 && out == [2])
        // Asked again after an RTT: 160 ms old + 100 ms RTT no longer fits 250 ms.
        #expect(generator.due(now: t0 + .milliseconds(160), rtt: .milliseconds(100), into: &out) == 0)
        // With an RTT longer than the horizon nothing is ever requested.
        generator.insert(sequence: 5, now: t0 + .milliseconds(170))
        #expect(generator.due(now: t0 + .milliseconds(200), rtt: .milliseconds(300), into: &out) == 0)
        _ = generator.due(now: t0 + .milliseconds(600), rtt: .milliseconds(100), into: &out)
        #expect(generator.missing == 0 && generator.givenUp == 2 && !generator.keyframeNeeded)
    }
}
