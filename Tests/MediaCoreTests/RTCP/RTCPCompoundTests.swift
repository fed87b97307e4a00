import MediaCore
import Testing

@Suite struct RTCPCompoundTests {
    /// SR + SDES compound, constructed from RFC 3550 §6.4.1/§6.5 (field values like a Chrome sender).
    static let srSdes: [UInt8] = [
        0x81, 0xC8, 0x00, 0x0C,  // V=2 P=0 RC=1, PT=200, length 12 (52 bytes)
        0x11, 0x22, 0x33, 0x44,  // SSRC of sender
        0xE6, 0x8B, 0x2C, 0x80,  // NTP MSW
        0x40, 0x00, 0x00, 0x00,  // NTP LSW
        0x00, 0x01, 0xE2, 0x40,  // RTP timestamp 123456
        0x00, 0x00, 0x03, 0xE8,  // packet count 1000
        0x00, 0x0F, 0x42, 0x40,  // octet count 1000000
        0xAA, 0xBB, 0xCC, 0xDD,  // block: SSRC
        0x19, 0xFF, 0xFF, 0xFE,  //   fraction lost 25, cumulative lost -2
        0x00, 0x01, 0x00, 0x05,  //   extended highest seq (1 cycle, seq 5)
        0x00, 0x00, 0x00, 0x20,  //   jitter 32
        0x2C, 0x80, 0x40, 0x00,  //   LSR
        0x00, 0x00, 0x80, 0x00,  //   DLSR 0.5 s
        0x81, 0xCA, 0x00, 0x04,  // SDES, SC=1, length 4 (20 bytes)
        0x11, 0x22, 0x33, 0x44,  // chunk SSRC
        0x01, 0x06, 0x61, 0x62,  // CNAME, length 6, "ab
        0x63, 0x64, 0x65, 0x66,  //   cdef"
        0x00, 0x00, 0x00, 0x00,  // END + null padding
    ]

    /// RR + REMB compound as Chromium sends it from a receive-only peer (RFC 3550 §6.4.2 + REMB draft).
    static let rrRemb: [UInt8] = [
        0x80, 0xC9, 0x00, 0x01,  // V=2 RC=0, PT=201, length 1
        0x00, 0x00, 0x00, 0x01,  // SSRC of reporter (Chromium uses 1 when it sends nothing)
        0x8F, 0xCE, 0x00, 0x05,  // V=2 FMT=15, PT=206, length 5 (24 bytes)
        0x00, 0x00, 0x00, 0x01,  // sender SSRC
        0x00, 0x00, 0x00, 0x00,  // media SSRC 0
        0x52, 0x45, 0x4D, 0x42,  // "REMB"
        0x01, 0x0A, 0x62, 0x5A,  // num SSRC 1, exp 2, mantissa 0x2625A (156250) -> 625000 bps
        0x5E, 0x3A, 0x9C, 0x01,  // SSRC feedback
    ]

    @Test func walksSRPlusSDES() throws {
        let bytes = Self.srSdes
        var types: [UInt8] = []
        var it = RTCPCompoundIterator(bytes.span.bytes)
        while let packet = try it.next() {
            types.append(packet.header.packetType)
            if packet.header.packetType == RTCPPacketType.senderReport {
                let sr = try RTCPSenderReportView(packet)
                #expect(sr.ssrc == 0x1122_3344)
                #expect(sr.ntpTimestamp == 0xE68B_2C80_4000_0000)
                #expect(sr.rtpTimestamp == 123_456 && sr.packetCount == 1000 && sr.octetCount == 1_000_000)
                var blocks = sr.reportBlocks
                let block = blocks.next()
                #expect(block?.cumulativeLost == -2 && block?.fractionLost == 25)
                #expect(block?.extendedHighestSequence == 0x1_0005 && block?.delaySinceLastSR == 0x8000)
                #expect(blocks.next() == nil)
            } else {
                let sdes = try RTCPSourceDescriptionView(validating: packet.bytes)
                var items = sdes.items
                var count = 0
                while let item = items.next() {
                    count += 1
                    #expect(item.ssrc == 0x1122_3344 && item.type == 1)
                    #expect(rtcpBytes(item.value) == Array("abcdef".utf8))
                }
                #expect(count == 1)
            }
        }
        #expect(types == [200, 202])
    }

    @Test func reencodesSRPlusSDES() {
        let block = RTCPReportBlock(
            ssrc: 0xAABB_CCDD,
            fractionLost: 25,
            cumulativeLost: -2,
            extendedHighestSequence: 0x1_0005,
            jitter: 32,
            lastSR: 0x2C80_4000,
            delaySinceLastSR: 0x8000
        )
        let blocks = [block]
        let cname = Array("abcdef".utf8)
        let bytes = rtcpEncode(capacity: 128) { out in
            let sr = RTCPSenderReport(
                ssrc: 0x1122_3344,
                ntpTimestamp: 0xE68B_2C80_4000_0000,
                rtpTimestamp: 123_456,
                packetCount: 1000,
                octetCount: 1_000_000,
                reportBlocks: blocks.span
            )
            sr.encode(into: &out)
            RTCPSourceDescription(ssrc: 0x1122_3344, cname: cname.span).encode(into: &out)
        }
        #expect(bytes == Self.srSdes)
    }

    @Test func walksAndReencodesRRPlusREMB() throws {
        let bytes = Self.rrRemb
        var it = RTCPCompoundIterator(bytes.span.bytes)
        var count = 0
        while let packet = try it.next() {
            count += 1
            if count == 1 {
                #expect(try RTCPReceiverReportView(packet).ssrc == 1)
            } else {
                let view = try RTCPReceiverEstimatedMaxBitrateView(validating: packet.bytes)
                #expect(view.bitrateBps == 625_000 && view.exponent == 2 && view.mantissa == 156_250)
                #expect(view.ssrcCount == 1 && view.ssrc(0) == 0x5E3A_9C01)
            }
        }
        #expect(count == 2)
        let ssrcs: [UInt32] = [0x5E3A_9C01]
        let noBlocks: [RTCPReportBlock] = []
        let again = rtcpEncode(capacity: 64) { out in
            RTCPReceiverReport(ssrc: 1, reportBlocks: noBlocks.span).encode(into: &out)
            RTCPReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrateBps: 625_000, ssrcs: ssrcs.span).encode(into: &out)
        }
        #expect(again == bytes)
    }

    @Test func paddingIsRemoved() throws {
        let bytes: [UInt8] = [
            0xA0, 0xC9, 0x00, 0x02,  // V=2 P=1 RC=0, RR, length 2 (12 bytes)
            0x00, 0x00, 0x00, 0x07,  // SSRC
            0x00, 0x00, 0x00, 0x04,  // 4 padding bytes
        ]
        var it = RTCPCompoundIterator(bytes.span.bytes)
        var count = 0
        while let packet = try it.next() {
            count += 1
            #expect(packet.paddingSize == 4 && packet.bytes.byteCount == 8)
            #expect(try RTCPReceiverReportView(packet).ssrc == 7)
        }
        #expect(count == 1)
    }

    @Test func errors() {
        #expect(throws: RTCPParseError.truncated(needed: 4, available: 3)) {
            _ = try RTCPCompoundIterator.validate(rtcpBytes([0x80, 0xC9, 0x00]).span.bytes)
        }
        #expect(throws: RTCPParseError.badVersion(1)) {
            _ = try RTCPCompoundIterator.validate(rtcpBytes([0x40, 0xC9, 0x00, 0x00]).span.bytes)
        }
        #expect(throws: RTCPParseError.lengthPastEnd(declared: 8, available: 4)) {
            _ = try RTCPCompoundIterator.validate(rtcpBytes([0x80, 0xC9, 0x00, 0x01]).span.bytes)
        }
        #expect(throws: RTCPParseError.badPadding(0)) {
            _ = try RTCPCompoundIterator.validate(rtcpBytes([0xA0, 0xC9, 0x00, 0x01, 0, 0, 0, 0]).span.bytes)
        }
        #expect(throws: RTCPParseError.countMismatch(count: 1, length: 8)) {
            _ = try RTCPReceiverReportView(validating: rtcpBytes([0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1]).span.bytes)
        }
        #expect(throws: RTCPParseError.truncated(needed: 28, available: 8)) {
            _ = try RTCPSenderReportView(validating: rtcpBytes([0x80, 0xC8, 0x00, 0x01, 0, 0, 0, 1]).span.bytes)
        }
        #expect(throws: RTCPParseError.badSDESChunk(offset: 4)) {
            _ = try RTCPSourceDescriptionView(
                validating: rtcpBytes([0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 1, 9, 0x61, 0]).span.bytes
            )
        }
    }

    @Test func byeRoundTrip() throws {
        let ssrcs: [UInt32] = [1, 2]
        let reason = Array("bye".utf8)
        let bytes = rtcpEncode(capacity: 64) { RTCPBye(ssrcs: ssrcs.span, reason: reason.span).encode(into: &$0) }
        #expect(bytes.count == 16)
        let view = try RTCPByeView(validating: bytes.span.bytes)
        #expect(view.ssrcCount == 2 && view.ssrc(1) == 2 && view.reason.byteCount == 3)
    }

    @Test func reportBlockClampsCumulativeLost() throws {
        let blocks = [
            RTCPReportBlock(
                ssrc: 9,
                fractionLost: 0,
                cumulativeLost: -10_000_000,
                extendedHighestSequence: 0,
                jitter: 0,
                lastSR: 0,
                delaySinceLastSR: 0
            )
        ]
        let bytes = rtcpEncode(capacity: 64) {
            RTCPReceiverReport(ssrc: 3, reportBlocks: blocks.span).encode(into: &$0)
        }
        var it = try RTCPReceiverReportView(validating: bytes.span.bytes).reportBlocks
        #expect(it.next()?.cumulativeLost == -0x80_0000)
    }
}
