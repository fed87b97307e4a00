import Testing

@testable import MediaCore

/// Chromium-shaped VP8 packet: one-byte extensions abs-send-time (id 2), transport-cc (id 3),
/// mid (id 4), rid (id 10).
let chromeVP8: [UInt8] = [
    0x90, 0x60, 0x1A, 0x2B,  // V=2 X=1 CC=0, M=0 PT=96, seq 0x1A2B
    0x00, 0x01, 0x5F, 0x90,  // timestamp 90000
    0xCA, 0xFE, 0xBA, 0xBE,  // SSRC
    0xBE, 0xDE, 0x00, 0x04,  // one-byte profile, 4 words
    0x22, 0x12, 0x34, 0x56,  // id 2 len 3: abs-send-time 0x123456
    0x31, 0x00, 0x07,  // id 3 len 2: transport-cc seq 7
    0x40, 0x30,  // id 4 len 1: mid "0"
    0xA0, 0x68,  // id 10 len 1: rid "h"
    0x00, 0x00, 0x00, 0x00, 0x00,  // padding to the 4-word boundary
    0x90, 0x80, 0x05,  // VP8 descriptor X=1 S=1, I=1, picture id 5
    0x10, 0x02, 0x00,  // VP8 payload header (keyframe)
]

/// Chromium-shaped Opus packet: audio level (id 1), marker set, padding 2 bytes.
let chromeOpus: [UInt8] = [
    0xA0, 0xEF, 0xFF, 0xFF,  // V=2 P=1 X=0 CC=0, M=1 PT=111, seq 65535
    0x00, 0x00, 0x03, 0xC0,  // timestamp 960
    0x11, 0x22, 0x33, 0x44,  // SSRC
    0xFC, 0xFF, 0xFE,  // Opus payload (TOC 0xFC)
    0x00, 0x02,  // padding, count 2
]

func withView<R>(_ bytes: [UInt8], _ body: (borrowing RTPPacketView) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw in
        let view = try RTPPacketView(validating: RawSpan(_unsafeBytes: raw))
        return try body(view)
    }
}

@Test func parsesChromeVP8() throws {
    try withView(chromeVP8) { v in
        #expect(v.version == 2 && v.hasExtension && !v.marker && v.payloadType == 96)
        #expect(v.sequenceNumber == 0x1A2B && v.timestamp == 90000 && v.ssrc == 0xCAFE_BABE)
        #expect(v.extensionProfile == 0xBEDE)
        let r1 = v.absSendTime(id: 2)
        #expect(r1 == 0x123456)
        let r2 = v.transportWideSequenceNumber(id: 3)
        #expect(r2 == 7)
        let mid: [UInt8] = [0x30]
        let midMatches = mid.withUnsafeBytes { v.extensionValue(id: 4, equals: $0) }
        let ridMismatch = mid.withUnsafeBytes { v.extensionValue(id: 10, equals: $0) }
        #expect(midMatches && !ridMismatch)
        let r3 = v.extensionRange(id: 10)
        #expect(r3 == 26..<27)
        let r4 = v.extensionRange(id: 5)
        #expect(r4 == nil)
        #expect(v.payloadRange == 32..<38)
    }
}

@Test func parsesChromeOpusWithPadding() throws {
    try withView(chromeOpus) { v in
        #expect(v.marker && v.payloadType == 111 && v.sequenceNumber == 0xFFFF && v.timestamp == 960)
        #expect(v.paddingLength == 2 && v.payloadRange == 12..<15 && v.extensionOffset == nil)
    }
}

@Test func exactErrors() throws {
    #expect(throws: RTPParseError.truncated(needed: 12, available: 7)) {
        try withView(Array(chromeOpus.prefix(7))) { _ in }
    }
    #expect(throws: RTPParseError.unsupportedVersion(1)) {
        try withView([0x40] + Array(chromeOpus.dropFirst())) { _ in }
    }
    var badPad = chromeOpus
    badPad[badPad.count - 1] = 9
    #expect(throws: RTPParseError.invalidPadding(count: 9, available: 5)) { try withView(badPad) { _ in } }
    #expect(throws: RTPParseError.truncated(needed: 32, available: 20)) {
        try withView(Array(chromeVP8.prefix(20))) { _ in }
    }
    var badExt = chromeVP8
    badExt[25] = 0xAF  // id 10 len 16: overruns the block
    #expect(throws: RTPParseError.invalidExtensionElement(offset: 25)) { try withView(badExt) { _ in } }
}

@Test(arguments: [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF])
func rewriteRoundTrip(seq: Int) throws {
    var packet = chromeVP8
    let twcc = try withView(packet) { $0.extensionRange(id: 3)! }
    packet.withUnsafeMutableBytes { raw in
        var m = MutableRawSpan(_unsafeBytes: raw)
        RTPPacketRewriter.setSSRC(0x0102_0304, in: &m)
        RTPPacketRewriter.setSequenceNumber(UInt16(seq), in: &m)
        RTPPacketRewriter.setTimestamp(UInt32(seq) &* 3000, in: &m)
        RTPPacketRewriter.setPayloadType(100, in: &m)
        RTPPacketRewriter.setMarker(true, in: &m)
        RTPPacketRewriter.setTransportWideSequenceNumber(UInt16(seq) &+ 1, valueRange: twcc, in: &m)
    }
    try withView(packet) { v in
        #expect(v.ssrc == 0x0102_0304 && v.sequenceNumber == UInt16(seq) && v.timestamp == UInt32(seq) &* 3000)
        #expect(v.payloadType == 100 && v.marker)
        let r5 = v.transportWideSequenceNumber(id: 3)
        #expect(r5 == UInt16(seq) &+ 1)
    }
}

@Test func remapAndStripExtensions() throws {
    var packet = chromeVP8
    var table = InlineArray<15, UInt8>(repeating: 0)
    table[1] = 5  // abs-send-time 2 -> 5
    table[2] = 3  // transport-cc stays 3; mid (4) and rid (10) stripped
    packet.withUnsafeMutableBytes { raw in
        var m = MutableRawSpan(_unsafeBytes: raw)
        RTPPacketRewriter.remapExtensionIDs(table, blockOffset: 12, in: &m)
    }
    try withView(packet) { v in
        let r6 = v.absSendTime(id: 5)
        let r7 = v.absSendTime(id: 2)
        #expect(r6 == 0x123456 && r7 == nil)
        let r8 = v.transportWideSequenceNumber(id: 3)
        #expect(r8 == 7)
        let r9 = v.extensionRange(id: 4)
        let r10 = v.extensionRange(id: 10)
        #expect(r9 == nil && r10 == nil)
        #expect(v.payloadRange == 32..<38)
    }
}

@Test func playoutDelayAndAudioLevelEncoding() {
    let (a, b, c) = RTPExtensionValue.playoutDelay(min: 0x123, max: 0x456)
    #expect([a, b, c] == [0x12, 0x34, 0x56])
    #expect(RTPExtensionValue.audioLevel(voiceActivity: true, level: 30) == 0x9E)
}
