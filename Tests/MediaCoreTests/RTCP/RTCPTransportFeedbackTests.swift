import MediaCore
import Testing

@Suite struct RTCPTransportFeedbackTests {
    /// Decodes every entry of a TWCC packet.
    func decode(_ bytes: [UInt8]) throws -> [RTCPTransportFeedbackPacket] {
        var it = RTCPCompoundIterator(bytes.span.bytes)
        var result: [RTCPTransportFeedbackPacket] = []
        while let packet = try it.next() {
            var entries = try RTCPTransportFeedbackView(validating: packet.bytes).packets
            while let e = entries.next() { result.append(e) }
        }
        return result
    }

    /// Builds feedback (possibly several packets) and returns the datagram and the packet count.
    func build(_ arrivals: [RTCPTransportFeedbackArrival], maxSize: Int = 1200) -> ([UInt8], Int) {
        var packets = 0
        let bytes = rtcpEncode(capacity: 1 << 16) { out in
            var rest = arrivals.span
            while !rest.isEmpty {
                let fb = RTCPTransportFeedback(
                    senderSSRC: 1,
                    mediaSSRC: 2,
                    feedbackPacketCount: UInt8(truncatingIfNeeded: packets),
                    arrivals: rest,
                    maxSize: maxSize
                )
                #expect(fb.encodedSize <= maxSize && fb.encodedSize % 4 == 0)
                fb.encode(into: &out)
                packets += 1
                rest = rest.extracting(droppingFirst: fb.consumedCount)
            }
        }
        return (bytes, packets)
    }

    /// Expected decode: every sequence number from the first to the last, times rounded down to 250 µs.
    func expectRoundTrip(_ arrivals: [RTCPTransportFeedbackArrival], maxSize: Int = 1200) throws -> Int {
        let (bytes, packets) = build(arrivals, maxSize: maxSize)
        let decoded = try decode(bytes)
        var expected: [(UInt16, Int64?)] = []
        for (i, a) in arrivals.enumerated() {
            if i > 0 {
                var s = arrivals[i - 1].sequenceNumber &+ 1
                while s != a.sequenceNumber {
                    expected.append((s, nil))
                    s &+= 1
                }
            }
            expected.append((a.sequenceNumber, a.isReceived ? a.arrivalTimeUs / 250 * 250 : nil))
        }
        #expect(decoded.map(\.sequenceNumber) == expected.map(\.0))
        #expect(decoded.map(\.arrivalTimeUs) == expected.map(\.1))
        return packets
    }

    /// libwebrtc-style feedback, built by hand from draft §3.1 (values as Chrome sends them):
    /// base seq 0xFFFE, 4 statuses via a 2-bit vector: small, lost, large, small; wraps to 0x0001.
    static let twoBitFixture: [UInt8] = [
        0xAF, 0xCD, 0x00, 0x06,  // V=2 P=1 FMT=15, PT=205, length 6 (28 bytes)
        0x00, 0x00, 0x00, 0x01,  // sender SSRC
        0x00, 0x00, 0x00, 0x02,  // media SSRC
        0xFF, 0xFE, 0x00, 0x04,  // base seq 0xFFFE, status count 4
        0x00, 0x00, 0x10, 0x07,  // reference time 16 (1.024 s), fb pkt count 7
        0xD2, 0x40,  // 2-bit vector: 01 00 10 01 (00 00 00)
        0x04,  // small delta 4 × 250 µs
        0xFF, 0xF8,  // large delta -8 × 250 µs
        0x01,  // small delta 1 × 250 µs
        0x00, 0x02,  // padding, last octet = 2
    ]

    @Test func parsesTwoBitFixtureWithNegativeDeltaAndWrap() throws {
        let e = try decode(Self.twoBitFixture)
        #expect(e.map(\.sequenceNumber) == [0xFFFE, 0xFFFF, 0, 1])
        #expect(e.map(\.status) == [.receivedSmallDelta, .notReceived, .receivedLargeDelta, .receivedSmallDelta])
        #expect(e.map(\.arrivalTimeUs) == [1_025_000, nil, 1_023_000, 1_023_250])
        #expect(e[2].deltaUs == -2000)
    }

    @Test func runLengthAndOneBitChunks() throws {
        let bytes = rtcpBytes([
            0x8F, 0xCD, 0x00, 0x07,  // FMT=15, PT=205, length 7 (32 bytes)
            0, 0, 0, 1, 0, 0, 0, 2,  // SSRCs
            0x00, 0x0A, 0x00, 0x11,  // base seq 10, status count 17
            0x00, 0x00, 0x00, 0x00,  // reference 0, fb count 0
            0x20, 0x03,  // run length: symbol 1 × 3
            0xA0, 0x00,  // 1-bit vector: 1 0 0 ... (14 statuses, first received)
            0x01, 0x02, 0x03, 0x04,  // four small deltas
            0x00, 0x00, 0x00, 0x00,  // trailing zeros (no P bit; tolerated)
        ])
        let e = try decode(bytes)
        #expect(e.count == 17)
        #expect(e.compactMap(\.arrivalTimeUs) == [250, 750, 1500, 2500])
    }

    @Test(arguments: [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF])
    func buildRoundTripAtWrap(start: Int) throws {
        var arrivals: [RTCPTransportFeedbackArrival] = []
        var t: Int64 = 5_000_123
        for i in 0..<100 {
            let seq = UInt16(truncatingIfNeeded: start + i + (i > 50 ? 3 : 0))
            t += Int64((i * 7919) % 9000) - (i % 10 == 0 ? 20_000 : 0)
            arrivals.append(.init(sequenceNumber: seq, arrivalTimeUs: i % 13 == 5 ? nil : t))
        }
        #expect(try expectRoundTrip(arrivals) == 1)
    }

    @Test func longRunsUseRunLength() throws {
        var arrivals: [RTCPTransportFeedbackArrival] = []
        for i in 0..<500 { arrivals.append(.init(sequenceNumber: UInt16(i), arrivalTimeUs: Int64(i) * 1000)) }
        let (bytes, _) = build(arrivals)
        #expect(bytes.count < 20 + 2 * 2 + 500 + 4)
        _ = try expectRoundTrip(arrivals)
    }

    @Test func largeJumpSplitsFeedback() throws {
        let arrivals: [RTCPTransportFeedbackArrival] = [
            .init(sequenceNumber: 1, arrivalTimeUs: 1_000_000),
            .init(sequenceNumber: 2, arrivalTimeUs: 1_000_000 + 8_191_750),  // largest positive delta
            .init(sequenceNumber: 3, arrivalTimeUs: 1_000_000 + 8_191_750 + 8_192_000),  // too far: new packet
        ]
        #expect(try expectRoundTrip(arrivals) == 2)
    }

    @Test func byteBudgetSplitsFeedback() throws {
        var arrivals: [RTCPTransportFeedbackArrival] = []
        for i in 0..<300 { arrivals.append(.init(sequenceNumber: UInt16(i), arrivalTimeUs: Int64(i) * 30_000)) }
        #expect(try expectRoundTrip(arrivals, maxSize: 200) >= 2)
    }

    @Test func errors() {
        // status count 20 but one run-length chunk of 3 and nothing else
        #expect(throws: RTCPParseError.missingChunks(statusCount: 20, decoded: 3)) {
            _ = try RTCPTransportFeedbackView(
                validating: rtcpBytes([
                    0x8F, 0xCD, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 20, 0, 0, 0, 0, 0x20, 0x03,
                ]).span.bytes
            )
        }
        // 3 small deltas needed, 2 present
        #expect(throws: RTCPParseError.missingDeltas(needed: 3, available: 2)) {
            _ = try RTCPTransportFeedbackView(
                validating: rtcpBytes([
                    0x8F, 0xCD, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0x20, 0x03, 1, 2,
                ]).span.bytes
            )
        }
        #expect(throws: RTCPParseError.reservedStatusSymbol(index: 0)) {
            _ = try RTCPTransportFeedbackView(
                validating: rtcpBytes([
                    0x8F, 0xCD, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x01,
                ]).span.bytes
            )
        }
    }
}
