import Benchmark
import MediaCore

/// Encodes into a fresh array with an `OutputRawSpan` (benchmark setup only).
private func rtcpBenchEncode(capacity: Int, _ body: (inout OutputRawSpan) -> Void) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let n = buffer.withUnsafeMutableBytes { raw in
        var out = OutputRawSpan(buffer: raw, initializedCount: 0)
        body(&out)
        return out.finalize(for: raw)
    }
    return Array(buffer.prefix(n))
}

/// 100 arrivals, 5 ms apart with jitter, one loss in 20 (benchmark input).
private func rtcpBenchArrivals() -> [RTCPTransportFeedbackArrival] {
    var arrivals: [RTCPTransportFeedbackArrival] = []
    for i in 0..<100 {
        let time: Int64 = 10_000_000 + Int64(i) * 5_000 + Int64(i % 3) * 700
        arrivals.append(
            RTCPTransportFeedbackArrival(
                sequenceNumber: UInt16(truncatingIfNeeded: 65_500 + i),
                arrivalTimeUs: i % 20 == 7 ? nil : time
            )
        )
    }
    return arrivals
}

func rtcpBenchmarks() {
    Benchmark(
        "RTCP walk compound (SR+SDES+NACK+REMB)",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let blocks = [
            RTCPReportBlock(
                ssrc: 2,
                fractionLost: 3,
                cumulativeLost: 4,
                extendedHighestSequence: 5,
                jitter: 6,
                lastSR: 7,
                delaySinceLastSR: 8
            )
        ]
        let cname = Array("visitrelay-cname".utf8)
        let lost: [UInt16] = [100, 101, 105, 140, 65_535, 3]
        let ssrcs: [UInt32] = [0x1234_5678]
        let datagram = rtcpBenchEncode(capacity: 512) { out in
            RTCPSenderReport(
                ssrc: 1,
                ntpTimestamp: 0xE68B_2C80_4000_0000,
                rtpTimestamp: 9,
                packetCount: 10,
                octetCount: 11,
                reportBlocks: blocks.span
            ).encode(into: &out)
            RTCPSourceDescription(ssrc: 1, cname: cname.span).encode(into: &out)
            RTCPGenericNack(senderSSRC: 1, mediaSSRC: 2, lost: lost.span).encode(into: &out)
            RTCPReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrateBps: 1_500_000, ssrcs: ssrcs.span).encode(into: &out)
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var sum: UInt64 = 0
            var it = RTCPCompoundIterator(datagram.span.bytes)
            while let packet = try? it.next() {
                switch packet.header.packetType {
                case RTCPPacketType.senderReport:
                    if let sr = try? RTCPSenderReportView(packet) {
                        sum &+= sr.ntpTimestamp
                        var b = sr.reportBlocks
                        while let block = b.next() { sum &+= UInt64(block.jitter) }
                    }
                case RTCPPacketType.sourceDescription:
                    if let sdes = try? RTCPSourceDescriptionView(validating: packet.bytes) {
                        var items = sdes.items
                        while let item = items.next() { sum &+= UInt64(item.value.byteCount) }
                    }
                case RTCPPacketType.transportFeedback:
                    if let nack = try? RTCPGenericNackView(validating: packet.bytes) {
                        var seqs = nack.lostSequenceNumbers
                        while let s = seqs.next() { sum &+= UInt64(s) }
                    }
                case RTCPPacketType.payloadFeedback:
                    if let remb = try? RTCPReceiverEstimatedMaxBitrateView(validating: packet.bytes) {
                        sum &+= remb.bitrateBps
                    }
                default:
                    break
                }
            }
            blackHole(sum)
        }
    }

    Benchmark(
        "TWCC build feedback for 100 packets",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let arrivals = rtcpBenchArrivals()
        var buffer = [UInt8](repeating: 0, count: 2048)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let written = buffer.withUnsafeMutableBytes { raw in
                var out = OutputRawSpan(buffer: raw, initializedCount: 0)
                RTCPTransportFeedback(senderSSRC: 1, mediaSSRC: 2, feedbackPacketCount: 0, arrivals: arrivals.span)
                    .encode(into: &out)
                return out.finalize(for: raw)
            }
            blackHole(written)
        }
    }

    Benchmark(
        "TWCC parse feedback for 100 packets",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let arrivals = rtcpBenchArrivals()
        let packet = rtcpBenchEncode(capacity: 2048) { out in
            RTCPTransportFeedback(senderSSRC: 1, mediaSSRC: 2, feedbackPacketCount: 0, arrivals: arrivals.span)
                .encode(into: &out)
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var sum: Int64 = 0
            var it = RTCPCompoundIterator(packet.span.bytes)
            while let p = try? it.next() {
                if let fb = try? RTCPTransportFeedbackView(validating: p.bytes) {
                    var entries = fb.packets
                    while let e = entries.next() { sum &+= e.arrivalTimeUs ?? 0 }
                }
            }
            blackHole(sum)
        }
    }
}
