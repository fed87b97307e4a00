import Testing

@testable import MediaCore

func vp8Fields(_ payload: [UInt8]) throws(VP8ParseError) -> (UInt16?, UInt8?, UInt8?, Bool, Int) {
    let d = try VP8PayloadDescriptorView(validating: payload.span.bytes)
    return (d.pictureID, d.tl0PicIdx, d.temporalLayerID, d.isKeyframe, d.descriptorLength)
}

@Test func vp8DescriptorFieldsAndRewrite() throws {
    var payload: [UInt8] = [
        0x90,  // X=1 N=0 S=1 PID=0
        0xE0,  // I=1 L=1 T=1 K=0
        0x81, 0x23,  // M=1, 15-bit picture id 0x0123
        0x42,  // TL0PICIDX 0x42
        0x60,  // TID=1 Y=1 KEYIDX=0
        0x10,  // VP8 payload header: P=0 -> keyframe
    ]
    let (pid, tl0, tid, key, len) = try vp8Fields(payload)
    #expect(pid == 0x0123 && tl0 == 0x42 && tid == 1 && key && len == 6)
    let copy = payload
    let d = try VP8PayloadDescriptorView(validating: copy.span.bytes)
    payload.withUnsafeMutableBytes { raw in
        var m = MutableRawSpan(_unsafeBytes: raw)
        d.setPictureID(0x7FFF, in: &m)
        d.setTL0PicIdx(0x00, in: &m)
    }
    #expect(payload[2] == 0xFF && payload[3] == 0xFF && payload[4] == 0x00)
    #expect(throws: VP8ParseError.truncated(needed: 3, available: 2)) { _ = try vp8Fields([0x80, 0x80]) }
}

@Test func opusTOC() {
    let toc = OpusTOC(0xFC)  // config 31 (CELT FB 20 ms), stereo, code 0
    #expect(toc.mode == .celt && toc.bandwidth == .fullband && toc.frameSamples48k == 960 && toc.isStereo)
    #expect(OpusTOC(0x08).mode == .silk && OpusTOC(0x08).frameSamples48k == 960)  // config 1: SILK NB 20 ms
    #expect(OpusTOC(0x78).mode == .hybrid && OpusTOC(0x78).bandwidth == .fullband)  // config 15
    let packet: [UInt8] = [0xFB, 0x03]  // code 3, three 20 ms frames
    let samples = OpusTOC.durationSamples48k(packet: packet.span.bytes)
    #expect(samples == 3 * 960)
}

func h264Summary(_ payload: [UInt8]) throws(H264ParseError) -> (key: Bool, nals: Int, fuType: UInt8?, start: Bool) {
    let v = try H264PayloadView(validating: payload.span.bytes)
    var n = 0
    v.forEachNAL { _, _ in n += 1 }
    return (v.isKeyframe, n, v.fuOriginalType, v.startsFrame)
}

@Test func h264Packetizations() throws {
    let stap = try h264Summary([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68])  // STAP-A: SPS(2), PPS(1)
    #expect(stap.key && stap.nals == 2 && stap.start)
    let fu = try h264Summary([0x7C, 0x85, 0xAA])  // FU-A, S=1, type 5 (IDR)
    #expect(fu.key && fu.fuType == 5 && fu.start)
    let fuMid = try h264Summary([0x7C, 0x05, 0xAA])  // FU-A continuation
    #expect(!fuMid.key && !fuMid.start)
    #expect(throws: H264ParseError.truncated(needed: 6, available: 4)) {
        _ = try h264Summary([0x78, 0x00, 0x03, 0x67])
    }
}
