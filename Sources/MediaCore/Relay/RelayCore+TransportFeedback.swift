/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1) towards each sender that negotiated it: what arrived when, so the browser's own estimator
/// (delay gradient and loss) runs on the path to the relay.
extension RelayCore {
    mutating func sendTransportFeedback(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values {
            // The generator is used in place on the participant: a local copy would copy its ring on write.
            guard participant.isMediaReady, let capacity = participant.transportFeedback?.capacity,
                participant.transportFeedback?.isDue(now: now, receivedBitrate: participant.traffic.rateInBps) == true
            else { continue }
            if feedbackScratch.capacity < capacity { feedbackScratch.reserveCapacity(capacity) }
            let count = participant.transportFeedback?.takeArrivals(now: now, into: &feedbackScratch) ?? 0
            let senderSSRC = participant.rtcpSSRC
            let mediaSSRC = participant.video?.ssrc ?? participant.audio?.ssrc ?? 0
            var offset = 0
            while offset < count {
                let packetCount = participant.transportFeedback?.feedbackPacketCount ?? 0
                var consumed = 0
                let appended = feedbackScratch.withUnsafeBufferPointer { all in
                    let rest = Span(_unsafeElements: UnsafeBufferPointer(rebasing: all[offset..<count]))
                    return sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                        let feedback = RTCPTransportFeedback(
                            senderSSRC: senderSSRC,
                            mediaSSRC: mediaSSRC,
                            feedbackPacketCount: packetCount,
                            arrivals: rest,
                            maxSize: min(RTCPTransportFeedback.defaultMaxSize, buffer.count)
                        )
                        consumed = feedback.consumedCount
                        guard feedback.encodedSize <= buffer.count else { return 0 }
                        var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                        feedback.encode(into: &out)
                        return out.finalize(for: buffer)
                    }
                }
                guard appended, consumed > 0 else { break }
                participant.transportFeedback?.sent()
                counters.transportFeedbackSent += 1
                offset += consumed
            }
        }
    }
}
