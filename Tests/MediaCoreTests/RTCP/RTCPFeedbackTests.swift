import MediaCore
import Testing

@Suite struct RTCPFeedbackTests {
    func lost(_ bytes: [UInt8]) throws -> [UInt16] {
        let view = try RTCPGenericNackView(validating: bytes.span.bytes)
        var it = view.lostSequenceNumbers
        var result: [UInt16] = []
        while let seq = it.next() { result.append(seq) }
        return result
    }

    @Test func nackWrapsPastFFFF() throws {
        let bytes: [UInt8] = [
            0x81, 0xCD, 0x00, 0x03,  // V=2 FMT=1, PT=205, length 3
            0x00, 0x00, 0x00, 0x01,  // sender SSRC
            0x00, 0x00, 0x00, 0x02,  // media SSRC
            0xFF, 0xFF, 0x00, 0x05,  // PID 0xFFFF, BLP bits 0 and 2 -> 0x0000, 0x0002
        ]
        #expect(try lost(bytes) == [0xFFFF, 0x0000, 0x0002])
    }

    @Test(arguments: [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF])
    func nackBuilderRoundTrip(start: Int) throws {
        let s = UInt16(start)
        let missing: [UInt16] = [s, s &+ 1, s &+ 16, s &+ 17, s &+ 40, s &+ 40, s &+ 41]
        let bytes = rtcpEncode(capacity: 64) {
            RTCPGenericNack(senderSSRC: 1, mediaSSRC: 2, lost: missing.span).encode(into: &$0)
        }
        let view = try RTCPGenericNackView(validating: bytes.span.bytes)
        #expect(view.pairCount == 3)
        #expect(try lost(bytes) == [s, s &+ 1, s &+ 16, s &+ 17, s &+ 40, s &+ 41])
    }

    @Test func nackErrors() {
        #expect(throws: RTCPParseError.countMismatch(count: 0, length: 12)) {
            _ = try RTCPGenericNackView(validating: rtcpBytes([0x81, 0xCD, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]).span.bytes)
        }
        #expect(throws: RTCPParseError.unexpectedType(packetType: 206, format: 1)) {
            _ = try RTCPGenericNackView(validating: rtcpBytes([0x81, 0xCE, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]).span.bytes)
        }
    }

    @Test func pliRoundTrip() throws {
        let pli = RTCPPictureLossIndication(senderSSRC: 5, mediaSSRC: 6)
        let bytes = rtcpEncode(capacity: 16) { pli.encode(into: &$0) }
        #expect(bytes == [0x81, 0xCE, 0x00, 0x02, 0, 0, 0, 5, 0, 0, 0, 6])
        #expect(try RTCPPictureLossIndication(parsing: bytes.span.bytes) == pli)
    }

    @Test func firRoundTrip() throws {
        let entries = [RTCPFullIntraRequestEntry(ssrc: 7, sequenceNumber: 3), .init(ssrc: 8, sequenceNumber: 255)]
        let bytes = rtcpEncode(capacity: 64) {
            RTCPFullIntraRequest(senderSSRC: 1, entries: entries.span).encode(into: &$0)
        }
        #expect(Array(bytes.prefix(4)) == [0x84, 0xCE, 0x00, 0x06])
        let view = try RTCPFullIntraRequestView(validating: bytes.span.bytes)
        #expect(view.entryCount == 2 && view.entry(0) == entries[0] && view.entry(1) == entries[1])
    }

    @Test(arguments: [UInt64(0), 1, 0x3_FFFF, 0x4_0000, 625_000, 2_500_001, 1 << 40, UInt64.max])
    func rembExponentRoundsDown(bitrate: UInt64) throws {
        let ssrcs: [UInt32] = [1, 2]
        let bytes = rtcpEncode(capacity: 64) {
            RTCPReceiverEstimatedMaxBitrate(senderSSRC: 9, bitrateBps: bitrate, ssrcs: ssrcs.span).encode(into: &$0)
        }
        let view = try RTCPReceiverEstimatedMaxBitrateView(validating: bytes.span.bytes)
        #expect(view.bitrateBps <= bitrate)
        #expect(bitrate - view.bitrateBps < (UInt64(1) << view.exponent))
        #expect(view.ssrcCount == 2 && view.ssrc(1) == 2)
    }

    @Test func rembErrors() {
        var bytes: [UInt8] = [0x8F, 0xCE, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0x52, 0x45, 0x4D, 0x41, 0, 0, 0, 0]
        #expect(throws: RTCPParseError.badIdentifier(0x5245_4D41)) {
            _ = try RTCPReceiverEstimatedMaxBitrateView(validating: bytes.span.bytes)
        }
        bytes[15] = 0x42
        bytes[16] = 2  // two SSRCs announced, none present
        #expect(throws: RTCPParseError.countMismatch(count: 2, length: 20)) {
            _ = try RTCPReceiverEstimatedMaxBitrateView(validating: bytes.span.bytes)
        }
    }
}
