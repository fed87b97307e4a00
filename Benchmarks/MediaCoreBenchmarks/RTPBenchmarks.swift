import Benchmark
import MediaCore

/// RTP hot-path benchmarks: parse, forward rewrite, VP8 descriptor parse. Must allocate nothing.
func rtpBenchmarks() {
    let packet = RTPHeader(
        payloadType: 96,
        sequenceNumber: 0x1A2B,
        timestamp: 90000,
        ssrc: 0xCAFE_BABE,
        extensions: [
            (id: 2, value: [0x12, 0x34, 0x56]), (id: 3, value: [0x00, 0x07]), (id: 4, value: [0x30]),
            (id: 10, value: [0x68]),
        ]
    ).encoded(payload: [0x90, 0x80, 0x05, 0x10, 0x02, 0x00] + [UInt8](repeating: 0xAB, count: 1000))

    Benchmark(
        "RTP parse with extensions",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        packet.withUnsafeBytes { raw in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard let v = try? RTPPacketView(validating: RawSpan(_unsafeBytes: raw)) else { continue }
                blackHole(v.sequenceNumber &+ UInt16(truncatingIfNeeded: v.timestamp ^ v.ssrc))
                blackHole(v.transportWideSequenceNumber(id: 3))
                blackHole(v.extensionRange(id: 4))
            }
        }
    }

    Benchmark(
        "RTP rewrite for forwarding",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        var buffer = packet
        buffer.withUnsafeMutableBytes { raw in
            let twcc =
                (try? RTPPacketView(validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(raw))))?.extensionRange(
                    id: 3
                ) ?? 0..<0
            var seq: UInt16 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var m = MutableRawSpan(_unsafeBytes: raw)
                seq &+= 1
                RTPPacketRewriter.setSSRC(0x0102_0304, in: &m)
                RTPPacketRewriter.setSequenceNumber(seq, in: &m)
                RTPPacketRewriter.setTimestamp(UInt32(seq) &* 3000, in: &m)
                RTPPacketRewriter.setPayloadType(100, in: &m)
                RTPPacketRewriter.setTransportWideSequenceNumber(seq, valueRange: twcc, in: &m)
            }
            blackHole(raw[2])
        }
    }

    Benchmark(
        "VP8 descriptor parse",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let vp8: [UInt8] = [0x90, 0xE0, 0x81, 0x23, 0x42, 0x60, 0x10, 0x02, 0x00]
        vp8.withUnsafeBytes { raw in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard let d = try? VP8PayloadDescriptorView(validating: RawSpan(_unsafeBytes: raw)) else { continue }
                blackHole(d.pictureID)
                blackHole(d.isKeyframe)
            }
        }
    }
}
