import Testing

@testable import MediaCore

@Test(arguments: [0, 1, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF])
func headerRoundTripAndRTX(seq: Int) throws {
    let header = RTPHeader(
        marker: true,
        payloadType: 96,
        sequenceNumber: UInt16(seq),
        timestamp: 0xFFFF_FFF0,
        ssrc: 0xAABB_CCDD,
        csrcs: [7],
        extensions: [(id: 3, value: [0x00, 0x09]), (id: 4, value: [0x30])]
    )
    let packet = header.encoded(payload: [0x90, 0x10, 0x02])
    #expect(packet.count == header.encodedSize + 3)
    try withView(packet) { v in
        #expect(v.marker && v.payloadType == 96 && v.sequenceNumber == UInt16(seq) && v.ssrc == 0xAABB_CCDD)
        let csrc = v.csrc(at: 0)
        let twcc = v.transportWideSequenceNumber(id: 3)
        #expect(csrc == 7 && twcc == 9 && v.payloadLength == 3)
    }
    let rtxOut = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.count + 2, alignment: 1)
    defer { rtxOut.deallocate() }
    let rtxCount = try withView(packet) { v in
        try RTX.wrap(v, payloadType: 97, ssrc: 0x1111, sequenceNumber: UInt16(seq) &+ 1, into: rtxOut)
    }
    let rtx = Array(rtxOut)
    #expect(rtxCount == packet.count + 2)
    let backOut = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.count, alignment: 1)
    defer { backOut.deallocate() }
    let backCount = try withView(rtx) { v in
        #expect(v.payloadType == 97 && v.ssrc == 0x1111 && v.sequenceNumber == UInt16(seq) &+ 1)
        return try RTX.unwrap(v, originalPayloadType: 96, originalSSRC: 0xAABB_CCDD, into: backOut)
    }
    #expect(backCount == packet.count && Array(backOut) == packet)
}

@Test func rtxErrors() throws {
    let packet = RTPHeader(payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1).encoded(payload: [0x01])
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 13, alignment: 1)
    defer {
        out.deallocate()
        small.deallocate()
    }
    #expect(throws: RTX.Error.payloadTooShort(length: 1)) {
        _ = try withView(packet) { v in
            try RTX.unwrap(v, originalPayloadType: 96, originalSSRC: 2, into: out)
        }
    }
    #expect(throws: RTX.Error.outputTooSmall(needed: 15, available: 13)) {
        _ = try withView(packet) { v in
            try RTX.wrap(v, payloadType: 97, ssrc: 2, sequenceNumber: 3, into: small)
        }
    }
}
