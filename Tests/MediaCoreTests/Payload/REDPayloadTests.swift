import Testing

@testable import MediaCore

@Suite("RED payloads (RFC 2198)")
struct REDPayloadTests {
    /// Writes a RED payload with `REDWriter` from (payload type, offset, bytes) blocks and a primary.
    func written(_ blocks: [(UInt8, UInt32, [UInt8])], primaryType: UInt8 = 111, primary: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 1500)
        let storage = blocks.map { $0.2 }
        return storage.withUnsafeBufferPointer { _ in
            var pointers: [UnsafeMutableRawBufferPointer] = []
            defer { for pointer in pointers { pointer.deallocate() } }
            var redundancy: [REDWriter.Redundancy] = []
            for block in blocks {
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: block.2.count, alignment: 1)
                copy.copyBytes(from: block.2)
                pointers.append(copy)
                redundancy.append(
                    .init(payloadType: block.0, timestampOffset: block.1, bytes: UnsafeRawBufferPointer(copy))
                )
            }
            let length = redundancy.withUnsafeBufferPointer { list in
                primary.withUnsafeBytes { primaryBytes in
                    out.withUnsafeMutableBytes {
                        REDWriter.write(
                            redundant: list,
                            primaryPayloadType: primaryType,
                            primary: primaryBytes,
                            into: $0
                        )
                    }
                }
            }
            return length.map { Array(out[0..<$0]) }
        }
    }

    @Test("RFC 2198 §3 layout: block headers oldest first, the primary's one byte, then the data")
    func layout() throws {
        let written = written([(111, 1920, [1, 2, 3]), (111, 960, [4, 5])], primary: [6, 7, 8, 9])
        let bytes = try #require(written)
        #expect(
            bytes == [
                0xEF, 0x1E, 0x00, 0x03,  // F, PT 111, offset 1920 (14 bits), length 3 (10 bits)
                0xEF, 0x0F, 0x00, 0x02,  // offset 960, length 2
                0x6F,  // F = 0, PT 111
                1, 2, 3, 4, 5, 6, 7, 8, 9,
            ]
        )
    }

    @Test("round trip: the view reads back what the writer wrote", arguments: [0, 1, 2, 5])
    func roundTrip(count: Int) throws {
        let blocks = (0..<count).map { i in
            (UInt8(111), UInt32(960 * (count - i)), [UInt8](repeating: UInt8(i), count: 20 + i))
        }
        let written = written(blocks, primary: [0xAA, 0xBB])
        let bytes = try #require(written)
        try bytes.withUnsafeBytes { raw in
            let view = try REDPayloadView(validating: raw.bytes)
            #expect(view.redundantCount == count && view.primaryPayloadType == 111)
            for i in 0..<count {
                let block = view.redundant(i)
                #expect(block.payloadType == 111 && block.timestampOffset == blocks[i].1 && block.distance == count - i)
                #expect(Array(raw[block.range]) == blocks[i].2)
            }
            #expect(Array(raw[view.primaryRange]) == [0xAA, 0xBB])
        }
    }

    @Test("the largest offset and length the fields hold round-trip; one more is refused")
    func fieldLimits() throws {
        let big = [UInt8](repeating: 7, count: REDWriter.maxBlockLength)
        let largest = written([(111, REDWriter.maxTimestampOffset, big)], primary: [1])
        let bytes = try #require(largest)
        try bytes.withUnsafeBytes { raw in
            let block = try REDPayloadView(validating: raw.bytes).redundant(0)
            #expect(
                block.timestampOffset == REDWriter.maxTimestampOffset && block.range.count == REDWriter.maxBlockLength
            )
        }
        let tooOld = written([(111, REDWriter.maxTimestampOffset + 1, [1])], primary: [1])
        let tooLong = written([(111, 960, big + [7])], primary: [1])
        #expect(tooOld == nil && tooLong == nil)
    }

    @Test("a RED payload as Chromium sends it (fmtp 111/111: one repeat of 20 ms of Opus)")
    func chromiumShaped() throws {
        // The RED payload of an Opus packet from Chromium (repeat of the previous 20 ms frame), as
        // libwebrtc's AudioEncoderCopyRed lays it out: TOC 0x78 (CELT FB 20 ms) frames.
        let payload: [UInt8] = [0xEF, 0x0F, 0x00, 0x04, 0x6F, 0x78, 0x01, 0x02, 0x03, 0x78, 0x0A, 0x0B, 0x0C, 0x0D]
        try payload.withUnsafeBytes { raw in
            let view = try REDPayloadView(validating: raw.bytes)
            #expect(view.redundantCount == 1)
            let block = view.redundant(0)
            #expect(block.timestampOffset == 960 && block.distance == 1 && Array(raw[block.range]) == [0x78, 1, 2, 3])
            #expect(Array(raw[view.primaryRange]) == [0x78, 0x0A, 0x0B, 0x0C, 0x0D])
        }
    }

    @Test("bad payloads are refused with the offending sizes")
    func refused() {
        func parse(_ bytes: [UInt8]) -> REDParseError? {
            bytes.withUnsafeBytes { raw in
                do throws(REDParseError) {
                    _ = try REDPayloadView(validating: raw.bytes)
                    return nil
                } catch { return error }
            }
        }
        #expect(parse([]) == .truncated(needed: 1, available: 0))
        #expect(parse([0xEF, 0x0F]) == .truncated(needed: 4, available: 2))
        #expect(parse([0xEF, 0x0F, 0x00, 0x04]) == .truncated(needed: 5, available: 4), "no primary header")
        #expect(parse([0xEF, 0x0F, 0x03, 0xE8, 0x6F, 1, 2]) == .blocksExceedPayload(declared: 1000, available: 2))
        let many = [UInt8](repeating: 0xEF, count: 4 * (REDPayloadView.maxRedundantBlocks + 1)) + [0x6F]
        #expect(parse(many) == .tooManyBlocks(limit: REDPayloadView.maxRedundantBlocks))
        #expect(parse([0x6F]) == nil, "a primary alone, even empty, is valid")
    }
}

@Suite("Opus in-band FEC flag (RFC 6716 §4.2.3)")
struct OpusInbandFECTests {
    /// What libopus writes: told of 20 % loss with FEC allowed, at 32 kbit/s (Chromium's voice
    /// rate) most of its SILK and hybrid frames carry LBRR; told of no loss, or with FEC off, none
    /// do (nor at 12 kbit/s, below libopus's LBRR threshold).
    @Test("the flag follows what libopus was told", arguments: [12_000, 32_000])
    func followsEncoder(bitrate: Int) throws {
        func flags(loss: Int, fec: Bool) throws -> [Bool?] {
            var encoder = try OpusEncoder(sampleRate: 48_000, channels: 1, bitrateBps: bitrate)
            encoder.expectLoss(percent: loss, inbandFEC: fec)
            var tone = TestTone()
            var result: [Bool?] = []
            for _ in 0..<50 {
                let packet = try encoder.encode(tone.nextFrame(samples: 960))
                result.append(OpusInbandFEC.present(packet: packet.span.bytes))
            }
            return result
        }
        if bitrate >= 32_000 {
            #expect(try flags(loss: 20, fec: true).filter { $0 == true }.count >= 25)
        }
        #expect(try flags(loss: 0, fec: true).allSatisfy { $0 != true })
        #expect(try flags(loss: 20, fec: false).allSatisfy { $0 != true })
    }

    @Test("CELT-only, length-framed and short packets say nothing")
    func notSilk() {
        #expect(OpusInbandFEC.present(packet: ([0xFC, 0xFF] as [UInt8]).span.bytes) == nil)  // config 31: CELT
        #expect(OpusInbandFEC.present(packet: ([0x0A, 0xFF, 0xFF] as [UInt8]).span.bytes) == nil)  // code 2
        #expect(OpusInbandFEC.present(packet: ([0x08] as [UInt8]).span.bytes) == nil)
        // SILK 20 ms: VAD 0, LBRR 1
        #expect(OpusInbandFEC.present(packet: ([0x08, 0x40] as [UInt8]).span.bytes) == true)
        #expect(OpusInbandFEC.present(packet: ([0x08, 0x80] as [UInt8]).span.bytes) == false)  // VAD 1, LBRR 0
        #expect(OpusInbandFEC.present(packet: ([0x18, 0x10] as [UInt8]).span.bytes) == true)  // SILK 60 ms: 3 VAD, LBRR
    }
}
