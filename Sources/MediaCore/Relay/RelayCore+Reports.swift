/// RTCP termination (RFC 3550 §6.4): the relay is the RTP endpoint for every participant, so it
/// sends its own sender reports for the streams it sends them and receiver reports for the streams
/// it receives from them, and reads their sender reports for LSR/DLSR.
extension RelayCore {
    /// Our CNAME in every SDES (RFC 3550 §6.5.1).
    static let cname: [UInt8] = Array("visit-relay".utf8)

    /// Records an inbound RTP packet in its stream's reception statistics.
    func recordReception(
        _ header: RtpHeaderSummary,
        audio: Bool,
        encoding: Int,
        in sender: Participant,
        now: ContinuousClock.Instant
    ) {
        let origin = now  // jitter uses differences only: any origin will do
        // In place (a modify access), without reading the encoding out of its array first.
        func record(_ encoding: inout PublishedEncoding, clockRate: UInt32) {
            if encoding.statistics == nil {
                encoding.statistics = ReceiveStatistics(clockRate: clockRate, origin: origin)
            }
            encoding.statistics?.record(sequence: header.sequence, timestamp: header.timestamp, arrival: now)
        }
        if audio {
            if sender.audio != nil { record(&sender.audio!.encodings[0], clockRate: 48_000) }
        } else if sender.video != nil {
            record(&sender.video!.encodings[encoding], clockRate: 90_000)
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
            // One block per stream it sends us: audio, then each video encoding.
            var blocks: [RTCPReportBlock] = []
            if participant.audio != nil, var block = Self.reportBlock(for: &participant.audio!.encodings[0], now: now) {
                if configuration.audioRepair {
                    block.fractionLost = Self.endToEndLoss(
                        uplink: block.fractionLost,
                        downlink: worstAudioLoss(towardsReceiversOf: participant)
                    )
                }
                blocks.append(block)
            }
            for index in participant.video?.encodings.indices ?? 0..<0 {
                if let block = Self.reportBlock(for: &participant.video!.encodings[index], now: now) {
                    blocks.append(block)
                }
            }
            var senders: [(ssrc: UInt32, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32)] = []
            for slot in participant.slots {
                for stream in [slot.audio, slot.video] {
                    guard let last = stream.lastSent else { continue }
                    let (seconds, attoseconds) = (now - last.at).components
                    let elapsed = (Double(seconds) + Double(attoseconds) / 1e18) * Double(stream.clockRate)
                    senders.append(
                        (
                            stream.ssrc, last.timestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed)),
                            stream.packetsSent, stream.octetsSent
                        )
                    )
                }
            }
            let ntp = self.ntp(at: now)
            let rtcpSSRC = participant.rtcpSSRC
            _ = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                Self.writeReports(senders: senders, blocks: blocks, ntp: ntp, rtcpSSRC: rtcpSSRC, into: buffer)
            }
        }
    }

    /// The worst fraction lost (1/256) any receiver reports on the audio it gets from `source`.
    func worstAudioLoss(towardsReceiversOf source: Participant) -> UInt8 {
        var worst: UInt8 = 0
        for sink in source.sinks { worst = max(worst, sink.receiver.slots[sink.slot].audioLossReported) }
        return worst
    }

    /// What an audio sender's packets suffer on their way to its worst-placed receiver: lost on
    /// the uplink or on that downlink, 1 − (1 − up)(1 − down), in 1/256. An Opus encoder (libwebrtc's
    /// among them) sets its in-band FEC and its packet-loss tuning from the fraction lost it is
    /// reported (RFC 3550 §6.4.1); the relay's hop alone would hide the receiver's half. Losses are
    /// counted by sequence number, so Opus DTX (fewer packets, contiguous numbers) is not loss.
    static func endToEndLoss(uplink: UInt8, downlink: UInt8) -> UInt8 {
        let up = Int(uplink)
        let down = Int(downlink)
        return UInt8(min(255, up + down - (up * down + 128) / 256))
    }

    /// The report block (RFC 3550 §6.4.1) for what we received of `encoding`, nil before its first
    /// packet. Taking the fraction lost starts its next interval, hence `inout`.
    static func reportBlock(for encoding: inout PublishedEncoding, now: ContinuousClock.Instant) -> RTCPReportBlock? {
        guard let ssrc = encoding.ssrc, encoding.statistics?.started == true else { return nil }
        let fraction = encoding.statistics?.takeFractionLost() ?? 0
        guard let statistics = encoding.statistics else { return nil }
        var lsr: UInt32 = 0
        var dlsr: UInt32 = 0
        if let sr = encoding.lastSenderReport {
            lsr = sr.ntpMiddle
            let (seconds, attoseconds) = (now - sr.at).components
            dlsr = UInt32(clamping: Int64((Double(seconds) + Double(attoseconds) / 1e18) * 65_536))
        }
        return RTCPReportBlock(
            ssrc: ssrc,
            fractionLost: fraction,
            cumulativeLost: statistics.cumulativeLost,
            extendedHighestSequence: statistics.extendedHighestSequence,
            jitter: statistics.jitter,
            lastSR: lsr,
            delaySinceLastSR: dlsr
        )
    }

    /// One compound packet: an SR per stream we send (the first with the report blocks), or an RR
    /// when we send nothing yet, then SDES with our CNAME. Returns its length, 0 if it does not fit.
    static func writeReports(
        senders: [(ssrc: UInt32, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32)],
        blocks: [RTCPReportBlock],
        ntp: UInt64,
        rtcpSSRC: UInt32,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        let none: [RTCPReportBlock] = []
        var size = 0
        if senders.isEmpty {
            size += RTCPReceiverReport(ssrc: rtcpSSRC, reportBlocks: blocks.span).encodedSize
        } else {
            size +=
                RTCPSenderReport(
                    ssrc: 0,
                    ntpTimestamp: 0,
                    rtpTimestamp: 0,
                    packetCount: 0,
                    octetCount: 0,
                    reportBlocks: blocks.span
                ).encodedSize
            size +=
                (senders.count - 1)
                * RTCPSenderReport(
                    ssrc: 0,
                    ntpTimestamp: 0,
                    rtpTimestamp: 0,
                    packetCount: 0,
                    octetCount: 0,
                    reportBlocks: none.span
                ).encodedSize
        }
        let sdes = RTCPSourceDescription(ssrc: senders.first?.ssrc ?? rtcpSSRC, cname: cname.span)
        size += sdes.encodedSize
        guard size <= buffer.count else { return 0 }
        var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
        if senders.isEmpty {
            RTCPReceiverReport(ssrc: rtcpSSRC, reportBlocks: blocks.span).encode(into: &out)
        }
        for (index, sender) in senders.enumerated() {
            RTCPSenderReport(
                ssrc: sender.ssrc,
                ntpTimestamp: ntp,
                rtpTimestamp: sender.rtpTimestamp,
                packetCount: sender.packets,
                octetCount: sender.octets,
                reportBlocks: index == 0 ? blocks.span : none.span
            ).encode(into: &out)
        }
        sdes.encode(into: &out)
        return out.finalize(for: buffer)
    }
}
