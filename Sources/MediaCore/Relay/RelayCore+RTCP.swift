/// RTCP from a participant, read in one pass over the compound packet (RFC 3550 §6.1) with the
/// RTCP views: sender reports for our LSR/DLSR, report blocks for RTT and loss on what we send it,
/// generic NACKs answered from the RTX cache, PLI/FIR forwarded to the slot's source as a keyframe
/// request. A malformed packet stops the walk and is counted; what came before it is kept.
extension RelayCore {
    mutating func receiveRTCP(
        _ packet: UnsafeRawBufferPointer,
        from participant: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        var worstLoss: UInt8?
        var packets = RTCPCompoundIterator(packet.bytes)
        do {
            while let rtcp = try packets.next() {
                switch (rtcp.header.packetType, rtcp.header.count) {
                case (RTCPPacketType.senderReport, _):
                    let report = try RTCPSenderReportView(rtcp)
                    noteSenderReport(ssrc: report.ssrc, ntp: report.ntpTimestamp, from: participant, now: now)
                    var blocks = report.reportBlocks
                    while let block = blocks.next() {
                        noteReportBlock(block, from: participant, now: now, worstLoss: &worstLoss)
                    }
                case (RTCPPacketType.receiverReport, _):
                    var blocks = try RTCPReceiverReportView(rtcp).reportBlocks
                    while let block = blocks.next() {
                        noteReportBlock(block, from: participant, now: now, worstLoss: &worstLoss)
                    }
                case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.transportCC):
                    let feedback = try RTCPTransportFeedbackView(validating: rtcp.bytes)
                    if participant.downlink != nil {
                        participant.downlink?.beginFeedback()
                        var reports = feedback.packets
                        while let report = reports.next() {
                            participant.downlink?.addReport(
                                sequence: report.sequenceNumber,
                                arrivalTimeUs: report.arrivalTimeUs
                            )
                        }
                        participant.downlink?.endFeedback(now: now)
                        counters.transportFeedbackReceived += 1
                        noteFeedbackResumed(from: participant)
                        drainPacer(of: participant, now: now, into: &output)  // the window may have opened
                    }
                case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.nack):
                    answerNack(
                        try RTCPGenericNackView(validating: rtcp.bytes),
                        from: participant,
                        now: now,
                        into: &output
                    )
                case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.pli):
                    requestKeyframe(
                        for: try RTCPPictureLossIndication(parsing: rtcp.bytes).mediaSSRC,
                        asked: participant
                    )
                case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.fir):
                    let fir = try RTCPFullIntraRequestView(validating: rtcp.bytes)
                    for index in 0..<fir.entryCount { requestKeyframe(for: fir.entry(index).ssrc, asked: participant) }
                default:
                    continue  // SDES, BYE, REMB, XR: nothing the relay acts on yet
                }
            }
        } catch {
            counters.drop(.rtcpMalformed)
        }
        if let worstLoss {
            participant.lossDown = worstLoss
            participant.audioRedundancy.reportedLoss(worstLoss, now: now)
        }
    }

    /// Notes a participant's sender report (the middle 32 bits of its NTP time) for the LSR/DLSR of
    /// the receiver reports we send it (RFC 3550 §6.4.1).
    private func noteSenderReport(
        ssrc: UInt32,
        ntp: UInt64,
        from participant: Participant,
        now: ContinuousClock.Instant
    ) {
        let middle = UInt32(truncatingIfNeeded: ntp >> 16)
        if participant.audio?.ssrc == ssrc { participant.audio?.encodings[0].lastSenderReport = (middle, now) }
        if let index = participant.video?.encoding(sending: ssrc, on: .media) {
            participant.video?.encodings[index].lastSenderReport = (middle, now)
        }
    }

    /// A report block on one of the streams we send the participant: its fraction lost, and the RTT
    /// from our SR it echoes (RFC 3550 §6.4.1: A − LSR − DLSR).
    private func noteReportBlock(
        _ block: RTCPReportBlock,
        from participant: Participant,
        now: ContinuousClock.Instant,
        worstLoss: inout UInt8?
    ) {
        guard participant.slots.contains(where: { $0.audio.ssrc == block.ssrc || $0.video.ssrc == block.ssrc }) else {
            return
        }
        if let slot = participant.slots.firstIndex(where: { $0.audio.ssrc == block.ssrc }) {
            participant.slots[slot].audioLossReported = block.fractionLost
        }
        worstLoss = max(worstLoss ?? 0, block.fractionLost)
        guard block.lastSR != 0 else { return }
        let nowMiddle = UInt32(truncatingIfNeeded: ntp(at: now) >> 16)
        let units = nowMiddle &- block.lastSR &- block.delaySinceLastSR  // 1/65536 s
        guard units < 65_536 * 10 else { return }  // implausible (> 10 s): ignore
        participant.rtt = max(.milliseconds(1), .microseconds(Int64(units) * 1_000_000 / 65_536))
        participant.rttMeasured = true
    }
}
