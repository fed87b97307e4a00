import MediaCore
import Testing

@Suite("Codec round trips")
struct CodecRoundTripTests {
    @Test("Opus: 20 ms frames of the test tone decode to 960 samples with signal")
    func opusRoundTrip() throws {
        var encoder = try OpusEncoder(sampleRate: 48_000, channels: 1, bitrateBps: 32_000)
        var decoder = try OpusDecoder(sampleRate: 48_000, channels: 1)
        var tone = TestTone()
        var energy = 0.0
        for _ in 0..<50 {
            let packet = try encoder.encode(tone.nextFrame(samples: 960))
            #expect(packet.count > 2 && packet.count <= OpusEncoder.maxPacketBytes)
            // TOC byte (RFC 6716 §3.1): config ≥ 12 is hybrid or CELT at 20 ms; code 0 = one frame.
            #expect(packet[0] & 0x03 == 0)
            let pcm = try decoder.decode(packet)
            #expect(pcm.count == 960)
            energy += pcm.reduce(0.0) { $0 + Double($1) * Double($1) } / 960
        }
        #expect(energy / 50 > 1_000_000, "decoded audio carries the tone, not silence")
        // Loss concealment: an empty packet yields a full frame too.
        let concealed = try decoder.decode([])
        #expect(concealed.count == 960)
    }

    @Test("Opus: bad PCM shape is a typed error")
    func opusBadInput() throws {
        var encoder = try OpusEncoder(channels: 2)
        #expect(throws: CodecError.self) { _ = try encoder.encode([1, 2, 3]) }
        #expect(throws: CodecError.self) { _ = try OpusEncoder(sampleRate: 44_100) }
    }

    @Test("VP8: the moving pattern encodes at about the target rate and decodes at full size")
    func vp8RoundTrip() throws {
        let width = 320
        let height = 180
        var encoder = try Vp8Encoder(width: width, height: height, bitrateBps: 300_000, framesPerSecond: 30)
        var decoder = try Vp8Decoder()
        var pattern = TestPattern(width: width, height: height)
        var totalBytes = 0
        var decoded = 0
        var keyframes = 0
        let frames = 60
        for index in 0..<frames {
            let image = pattern.nextFrame()
            for frame in try encoder.encode(image, forceKeyframe: index == 30) {
                totalBytes += frame.data.count
                if frame.isKeyframe { keyframes += 1 }
                // VP8 frame tag (RFC 6386 §9.1): bit 0 clear marks a keyframe.
                #expect((frame.data[0] & 0x01 == 0) == frame.isKeyframe)
                let out = try #require(try decoder.decode(frame.data))
                #expect(out.width == width && out.height == height)
                #expect(abs(out.meanLuma - image.meanLuma) < 8, "decoded frame resembles the source")
                decoded += 1
            }
        }
        #expect(decoded >= frames - 2)
        #expect(keyframes == 2, "the first frame and the forced one")
        let bitrate = Double(totalBytes * 8) * 30 / Double(frames)
        #expect(bitrate > 100_000 && bitrate < 900_000, "bitrate \(bitrate) is near the 300 kbit/s target")
    }

    @Test("VP8: garbage is a typed decode error and a size mismatch a typed encode error")
    func vp8Errors() throws {
        var decoder = try Vp8Decoder()
        #expect(throws: CodecError.self) { _ = try decoder.decode([0x00, 0x01, 0x02, 0x03, 0x04]) }
        var encoder = try Vp8Encoder(width: 64, height: 64, bitrateBps: 100_000)
        var pattern = TestPattern(width: 32, height: 32)
        #expect(throws: CodecError.badInput("image is 32x32, encoder is 64x64")) {
            _ = try encoder.encode(pattern.nextFrame())
        }
    }
}
