@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let span = raw.bytes
    var it = RTCPCompoundIterator(span)
    var scratch = [UInt8](repeating: 0, count: 1 << 17)
    while true {
        let next: RTCPPacketView?
        do { next = try it.next() } catch { break }
        guard let packet = next else { break }
        let h = packet.header
        switch (h.packetType, h.count) {
        case (RTCPPacketType.senderReport, _):
            guard let sr = try? RTCPSenderReportView(packet) else { break }
            var blocks = sr.reportBlocks
            var n = 0
            while let b = blocks.next() { n &+= Int(b.ssrc & 1) &+ Int(b.cumulativeLost & 1) }
            _ = (sr.ssrc, sr.ntpTimestamp, sr.rtpTimestamp, sr.packetCount, sr.octetCount, n)
        case (RTCPPacketType.receiverReport, _):
            guard let rr = try? RTCPReceiverReportView(packet) else { break }
            var blocks = rr.reportBlocks
            while let b = blocks.next() {
                precondition(b.cumulativeLost >= -0x80_0000 && b.cumulativeLost <= 0x7F_FFFF)
            }
        case (RTCPPacketType.sourceDescription, _):
            guard let sdes = try? RTCPSourceDescriptionView(validating: packet.bytes) else { break }
            var items = sdes.items
            while let item = items.next() { precondition(item.value.byteCount <= 255 && item.type != 0) }
        case (RTCPPacketType.bye, _):
            guard let bye = try? RTCPByeView(validating: packet.bytes) else { break }
            for i in 0..<bye.ssrcCount { _ = bye.ssrc(i) }
            _ = bye.reason.byteCount
        case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.nack):
            guard let nack = try? RTCPGenericNackView(validating: packet.bytes) else { break }
            // Re-encode the lost list: packing is canonical, so the pairs must come back equal
            // when each pair's PID is outside the previous pair's reach.
            var lost = [UInt16]()
            var seqs = nack.lostSequenceNumbers
            while let s = seqs.next() { lost.append(s) }
            precondition(lost.count >= nack.pairCount)
        case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.transportCC):
            guard let fb = try? RTCPTransportFeedbackView(validating: packet.bytes) else { break }
            var entries = fb.packets
            var count = 0
            while entries.next() != nil { count += 1 }
            precondition(count == fb.packetStatusCount)
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.pli):
            guard let pli = try? RTCPPictureLossIndication(parsing: packet.bytes) else { break }
            let n = scratch.withUnsafeMutableBytes { out in
                var o = OutputRawSpan(buffer: out, initializedCount: 0)
                pli.encode(into: &o)
                return o.finalize(for: out)
            }
            let again = scratch.withUnsafeBytes { try? RTCPPictureLossIndication(parsing: $0.bytes.extracting(0..<n)) }
            precondition(again == pli)
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.fir):
            guard let fir = try? RTCPFullIntraRequestView(validating: packet.bytes) else { break }
            for i in 0..<fir.entryCount { _ = fir.entry(i) }
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.applicationLayer):
            guard let remb = try? RTCPReceiverEstimatedMaxBitrateView(validating: packet.bytes) else { break }
            var ssrcs = [UInt32]()
            for i in 0..<remb.ssrcCount { ssrcs.append(remb.ssrc(i)) }
            // Canonical when the mantissa uses the smallest exponent: then re-encoding is byte-exact.
            let (e, m) = RTCPReceiverEstimatedMaxBitrate.exponentAndMantissa(remb.bitrateBps)
            if !h.padding, remb.bitrateBps != .max, e == remb.exponent, m == remb.mantissa,
                remb.bytes.byteCount == 20 + 4 * ssrcs.count,
                packet.bytes.rtcpU32(8) == 0
            {
                let n = scratch.withUnsafeMutableBytes { out in
                    var o = OutputRawSpan(buffer: out, initializedCount: 0)
                    RTCPReceiverEstimatedMaxBitrate(
                        senderSSRC: remb.senderSSRC,
                        bitrateBps: remb.bitrateBps,
                        ssrcs: ssrcs.span
                    )
                    .encode(into: &o)
                    return o.finalize(for: out)
                }
                let original = packet.bytes.withUnsafeBytes { Array($0) }
                precondition(Array(scratch.prefix(n)) == original)
            }
        default:
            break
        }
    }
    return 0
}
