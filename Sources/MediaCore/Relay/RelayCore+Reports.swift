/// RTCP termination (RFC 3550 §6.4): the relay is the RTP endpoint for every participant, so it
/// sends its own sender reports for the streams it sends them and receiver reports for the streams
/// it receives from them, and reads their sender reports for LSR/DLSR.
extension RelayCore {
    /// One report block's worth of data (RFC 3550 §6.4.1).
    struct ReportBlock {
        var ssrc: UInt32
        var fractionLost: UInt8
        var cumulativeLost: Int32
        var extendedHighestSequence: UInt32
        var jitter: UInt32
        var lastSenderReport: UInt32
        var delaySinceLastSenderReport: UInt32
    }

    /// Records an inbound RTP packet in its stream's reception statistics.
    func recordReception(_ header: RtpHeaderSummary, audio: Bool, in sender: Participant, now: ContinuousClock.Instant) {
        let origin = now  // jitter uses differences only: any origin will do
        if audio {
            if sender.audio?.statistics == nil { sender.audio?.statistics = ReceiveStatistics(clockRate: 48_000, origin: origin) }
            sender.audio?.statistics?.record(sequence: header.sequence, timestamp: header.timestamp, arrival: now)
        } else {
            if sender.video?.statistics == nil { sender.video?.statistics = ReceiveStatistics(clockRate: 90_000, origin: origin) }
            sender.video?.statistics?.record(sequence: header.sequence, timestamp: header.timestamp, arrival: now)
        }
    }

    /// Notes a participant's sender reports (PT 200) for the LSR/DLSR of our receiver reports.
    func recordSenderReports(_ packet: UnsafeRawBufferPointer, from participant: Participant, now: ContinuousClock.Instant) {
        var offset = 0
        while offset + 20 <= packet.count {
            let length = 4 * (Int(packet[offset + 2]) << 8 | Int(packet[offset + 3]) + 1)
            guard length >= 4, offset + length <= packet.count else { return }
            if packet[offset + 1] == 200, length >= 28 {
                let ssrc = RtcpWire.read32(packet, offset + 4)
                let middle = RtcpWire.read32(packet, offset + 10)
                if participant.audio?.ssrc == ssrc { participant.audio?.lastSenderReport = (middle, now) }
                if participant.video?.ssrc == ssrc { participant.video?.lastSenderReport = (middle, now) }
            }
            offset += length
        }
    }

    /// Sends every participant whose interval has passed one compound RTCP packet: an SR per stream
    /// we send it (the first carrying report blocks for what we receive from it), or an RR when we
    /// send it nothing yet, then SDES with our CNAME (RFC 3550 §6.1).
    mutating func sendReports(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values {
            guard participant.isMediaReady else { continue }
            if let last = participant.lastReport, now - last < configuration.reportInterval { continue }
            participant.lastReport = now
            var blocks: [ReportBlock] = []
            for audio in [true, false] {
                guard let stream = audio ? participant.audio : participant.video, let ssrc = stream.ssrc,
                    stream.statistics?.started == true
                else { continue }
                let fraction = (audio ? participant.audio?.statistics?.takeFractionLost() : participant.video?.statistics?.takeFractionLost()) ?? 0
                let statistics = audio ? participant.audio!.statistics! : participant.video!.statistics!
                var lsr: UInt32 = 0
                var dlsr: UInt32 = 0
                if let sr = stream.lastSenderReport {
                    lsr = sr.ntpMiddle
                    let (seconds, attoseconds) = (now - sr.at).components
                    dlsr = UInt32(clamping: Int64((Double(seconds) + Double(attoseconds) / 1e18) * 65_536))
                }
                blocks.append(
                    ReportBlock(
                        ssrc: ssrc, fractionLost: fraction, cumulativeLost: statistics.cumulativeLost,
                        extendedHighestSequence: statistics.extendedHighestSequence, jitter: statistics.jitter,
                        lastSenderReport: lsr, delaySinceLastSenderReport: dlsr))
            }
            var senders: [(ssrc: UInt32, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32)] = []
            for slot in participant.slots {
                for stream in [slot.audio, slot.video] {
                    guard let last = stream.lastSent else { continue }
                    let (seconds, attoseconds) = (now - last.at).components
                    let elapsed = (Double(seconds) + Double(attoseconds) / 1e18) * Double(stream.clockRate)
                    senders.append((stream.ssrc, last.timestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed)), stream.packetsSent, stream.octetsSent))
                }
            }
            let ntp = self.ntp(at: now)
            let rtcpSSRC = participant.rtcpSSRC
            _ = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                var offset = 0
                if senders.isEmpty {
                    offset = RtcpWire.receiverReport(ssrc: rtcpSSRC, blocks: blocks, into: buffer, at: offset)
                } else {
                    for (index, sender) in senders.enumerated() {
                        offset = RtcpWire.senderReport(
                            ssrc: sender.ssrc, ntp: ntp, rtpTimestamp: sender.rtpTimestamp, packets: sender.packets,
                            octets: sender.octets, blocks: index == 0 ? blocks : [], into: buffer, at: offset)
                    }
                }
                return RtcpWire.sourceDescription(
                    ssrc: senders.first?.ssrc ?? rtcpSSRC, cname: "visit-relay", into: buffer, at: offset)
            }
        }
    }
}

extension RtcpWire {
    static func read32(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
    }

    static func write32(_ p: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt32) {
        for i in 0..<4 { p[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) }
    }

    /// Writes the common header (RFC 3550 §6.4.1) for a packet of `length` bytes.
    static func header(count: Int, type: UInt8, length: Int, into p: UnsafeMutableRawBufferPointer, at offset: Int) {
        p[offset] = 0x80 | UInt8(count & 0x1F)
        p[offset + 1] = type
        let words = length / 4 - 1
        p[offset + 2] = UInt8(words >> 8)
        p[offset + 3] = UInt8(words & 0xFF)
    }

    static func reportBlocks(_ blocks: [RelayCore.ReportBlock], into p: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var offset = start
        for block in blocks {
            write32(p, offset, block.ssrc)
            write32(p, offset + 4, UInt32(block.fractionLost) << 24 | (UInt32(bitPattern: block.cumulativeLost) & 0xFF_FFFF))
            write32(p, offset + 8, block.extendedHighestSequence)
            write32(p, offset + 12, block.jitter)
            write32(p, offset + 16, block.lastSenderReport)
            write32(p, offset + 20, block.delaySinceLastSenderReport)
            offset += 24
        }
        return offset
    }

    /// SR (RFC 3550 §6.4.1). Returns the offset after it, or 0 if it does not fit.
    static func senderReport(
        ssrc: UInt32, ntp: UInt64, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32,
        blocks: [RelayCore.ReportBlock], into p: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int {
        let length = 28 + 24 * blocks.count
        guard offset + length <= p.count else { return 0 }
        header(count: blocks.count, type: 200, length: length, into: p, at: offset)
        write32(p, offset + 4, ssrc)
        write32(p, offset + 8, UInt32(truncatingIfNeeded: ntp >> 32))
        write32(p, offset + 12, UInt32(truncatingIfNeeded: ntp))
        write32(p, offset + 16, rtpTimestamp)
        write32(p, offset + 20, packets)
        write32(p, offset + 24, octets)
        return reportBlocks(blocks, into: p, at: offset + 28)
    }

    /// RR (RFC 3550 §6.4.2). Returns the offset after it, or 0 if it does not fit.
    static func receiverReport(
        ssrc: UInt32, blocks: [RelayCore.ReportBlock], into p: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int {
        let length = 8 + 24 * blocks.count
        guard offset + length <= p.count else { return 0 }
        header(count: blocks.count, type: 201, length: length, into: p, at: offset)
        write32(p, offset + 4, ssrc)
        return reportBlocks(blocks, into: p, at: offset + 8)
    }

    /// SDES with one chunk carrying a CNAME item (RFC 3550 §6.5). Returns the offset after it.
    static func sourceDescription(ssrc: UInt32, cname: String, into p: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let name = Array(cname.utf8.prefix(255))
        // chunk: SSRC, CNAME item (type, length, text), a terminating zero, padded to 32 bits.
        let chunk = (4 + 2 + name.count + 1 + 3) & ~3
        let length = 4 + chunk
        guard offset > 0, offset + length <= p.count else { return 0 }
        header(count: 1, type: 202, length: length, into: p, at: offset)
        write32(p, offset + 4, ssrc)
        p[offset + 8] = 1  // CNAME
        p[offset + 9] = UInt8(name.count)
        for (i, byte) in name.enumerated() { p[offset + 10 + i] = byte }
        for i in (offset + 10 + name.count)..<(offset + length) { p[i] = 0 }
        return offset + length
    }
}
