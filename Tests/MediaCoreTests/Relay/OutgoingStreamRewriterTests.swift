import MediaCore
import Testing

@Suite("Outgoing stream rewriter")
struct OutgoingStreamRewriterTests {
    @Test(
        "one source maps by a fixed offset across the 16-bit wrap",
        arguments: [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
    )
    func fixedOffset(start: Int) {
        let t0 = ContinuousClock.now
        var rewriter = OutgoingStreamRewriter(ssrc: 1, clockRate: 90_000, initialSequence: 1000, initialTimestamp: 5000)
        var expected: UInt16 = 1000
        for i in 0..<5 {
            let sequence = UInt16(start) &+ UInt16(i)
            let m = rewriter.map(
                sourceSSRC: 7,
                sequence: sequence,
                timestamp: 90_000 &* UInt32(i),
                payloadLength: 100,
                now: t0
            )
            #expect(m?.sequence == expected)
            expected &+= 1
        }
        // Reordered packet inside the epoch maps consistently.
        let again = rewriter.map(
            sourceSSRC: 7,
            sequence: UInt16(start) &+ 2,
            timestamp: 180_000,
            payloadLength: 100,
            now: t0
        )
        #expect(again?.sequence == 1002)
        #expect(again?.timestamp == 5001 &+ 180_000)
        // A straggler from before the epoch started is dropped.
        let old = rewriter.map(sourceSSRC: 7, sequence: UInt16(start) &- 1, timestamp: 0, payloadLength: 100, now: t0)
        #expect(old == nil)
    }

    /// A visit's stream runs for hours: found by `make soak`, where every stream stopped after 2^15
    /// packets (video after about 7 minutes, audio after 11) because the epoch check turned negative.
    @Test("a long stream keeps mapping past 2^15 and across many wraps", arguments: [UInt16(0), 0x7FF0, 0xFFF0])
    func longStream(start: UInt16) {
        let t0 = ContinuousClock.now
        var rewriter = OutgoingStreamRewriter(ssrc: 1, clockRate: 48_000, initialSequence: 42, initialTimestamp: 0)
        var expected: UInt16 = 42
        var mapped = 0
        for i in 0..<200_000 {
            let m = rewriter.map(
                sourceSSRC: 9,
                sequence: start &+ UInt16(truncatingIfNeeded: i),
                timestamp: UInt32(i) &* 960,
                payloadLength: 60,
                now: t0
            )
            if m?.sequence == expected { mapped += 1 }
            expected &+= 1
        }
        #expect(mapped == 200_000)
    }

    @Test("a new source continues sequence numbers and advances timestamps by elapsed time")
    func sourceSwitch() {
        let t0 = ContinuousClock.now
        var rewriter = OutgoingStreamRewriter(ssrc: 1, clockRate: 90_000, initialSequence: 0xFFFE, initialTimestamp: 0)
        let a = rewriter.map(sourceSSRC: 7, sequence: 100, timestamp: 1_000, payloadLength: 10, now: t0)
        let b = rewriter.map(
            sourceSSRC: 7,
            sequence: 101,
            timestamp: 4_000,
            payloadLength: 10,
            now: t0 + .milliseconds(33)
        )
        #expect(a?.sequence == 0xFFFE && b?.sequence == 0xFFFF)
        // Half a second later another participant's stream takes over with unrelated numbers.
        let c = rewriter.map(
            sourceSSRC: 9,
            sequence: 40_000,
            timestamp: 123_456_789,
            payloadLength: 10,
            now: t0 + .milliseconds(533)
        )
        #expect(c?.sequence == 0)
        let advanced = (c?.timestamp ?? 0) &- (b?.timestamp ?? 0)
        #expect(advanced == 45_000, "500 ms at 90 kHz")
        #expect(rewriter.packetsSent == 3 && rewriter.octetsSent == 30)
    }
}
