/// Hop-by-hop loss repair (RFC 4585 §6.2.1 generic NACK, RFC 4588 RTX): NACKs towards senders for
/// holes in what they send us, and retransmissions from our cache for holes receivers report.
extension RelayCore {
    /// Sends a generic NACK to every sender with holes due for a request, and a keyframe request
    /// where a hole was given up on.
    mutating func sendNacks(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values where participant.isMediaReady {
            for encoding in participant.video?.encodings.indices ?? 0..<0 {
                // Most encodings, most ticks, have no hole and owe no keyframe request: one in-place
                // read says so before anything else is looked at.
                let owes = participant.video?.read(encoding) {
                    ($0.pointee.nack?.missing ?? 0) > 0 || $0.pointee.nack?.keyframeNeeded == true
                }
                guard owes == true else { continue }
                sendNack(participant, encoding: encoding, now: now, into: &output)
            }
        }
    }

    private mutating func sendNack(
        _ participant: Participant,
        encoding: Int,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard participant.isMediaReady, participant.video?.read(encoding, { $0.pointee.nack != nil }) == true,
            let mediaSSRC = participant.video?.read(encoding, { $0.pointee.ssrc }) ?? nil
        else { return }
        let count =
            participant.video?.encodings[encoding].nack?.due(now: now, rtt: participant.rtt, into: &nackScratch) ?? 0
        if participant.video?.read(encoding, { $0.pointee.nack?.keyframeNeeded }) == true {
            participant.video?.encodings[encoding].nack?.keyframeRequested()
            keyframes.request(KeyframeRequest(source: participant.id, encoding: encoding), reason: .repairGaveUp)
        }
        guard count > 0 else { return }
        sendNack(for: mediaSSRC, sequences: count, to: participant, into: &output)
    }

    /// Sends `participant` one generic NACK for the first `sequences` numbers in `nackScratch`.
    mutating func sendNack(
        for mediaSSRC: UInt32,
        sequences count: Int,
        to participant: Participant,
        into output: inout OutgoingDatagrams
    ) {
        let sequences = nackScratch
        let senderSSRC = participant.rtcpSSRC
        let appended = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
            sequences.withUnsafeBufferPointer { lost in
                let nack = RTCPGenericNack(
                    senderSSRC: senderSSRC,
                    mediaSSRC: mediaSSRC,
                    lost: Span(_unsafeElements: lost)
                )
                guard nack.encodedSize <= buffer.count else { return 0 }
                var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                nack.encode(into: &out)
                return out.finalize(for: buffer)
            }
        }
        if appended {
            counters.nacksSent += 1
            counters.nackedPackets += count
        }
    }

    /// Answers a receiver's generic NACK for one of our slot streams from that stream's cache,
    /// resending with the original SSRC and sequence number (no RTX is negotiated towards receivers).
    /// Audio has its own deadline (RelayCore+Audio).
    mutating func answerNack(
        _ nack: borrowing RTCPGenericNackView,
        from receiver: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        let mediaSSRC = nack.mediaSSRC
        guard receiver.isMediaReady else { return }
        if let slot = receiver.slots.firstIndex(where: { $0.audio.ssrc == mediaSSRC }) {
            return answerAudioNack(nack, slot: slot, from: receiver, now: now, into: &output)
        }
        guard let slot = receiver.slots.firstIndex(where: { $0.video.ssrc == mediaSSRC }),
            let cache = receiver.slots[slot].videoCache
        else { return }
        var lost = nack.lostSequenceNumbers
        while let sequence = lost.next() {
            resend(sequence, from: cache, to: receiver, videoSlot: slot, now: now, into: &output)
        }
    }

    /// Resends `sequence` from `cache` if it is held (for `retention`, by default the cache's own)
    /// and not resent within an RTT. Video (`videoSlot` given) goes through the receiver's pacer,
    /// ahead of new video; audio at once. Returns whether it went out (or was queued).
    @discardableResult
    mutating func resend(
        _ sequence: UInt16,
        from cache: RtxCache,
        to receiver: Participant,
        retention: Duration? = nil,
        videoSlot: Int? = nil,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) -> Bool {
        let suppressedBefore = cache.suppressed
        guard let stored = cache.retransmission(of: sequence, now: now, rtt: receiver.rtt, retention: retention) else {
            if cache.suppressed > suppressedBefore {
                counters.retransmissionsSuppressed += 1
            } else if videoSlot != nil {
                counters.retransmissionsUnavailable += 1
            } else {
                counters.audioRetransmissionsUnavailable += 1
            }
            return false
        }
        // A retransmission is a new packet on the wire: it gets a new transport-wide number.
        var renumberAt: Int?
        if receiver.downlink != nil, let id = receiver.transportSequenceExtension,
            let view = try? RTPPacketView(validating: stored.bytes), let range = view.extensionRange(id: id),
            range.count == 2
        {
            renumberAt = range.lowerBound
        }
        let write = { (buffer: UnsafeMutableRawBufferPointer) -> Int in
            guard stored.count <= buffer.count else { return 0 }
            buffer.copyMemory(from: stored)
            return stored.count
        }
        let sent =
            if let videoSlot {
                sendVideo(
                    .retransmission,
                    slot: videoSlot,
                    transportSequenceAt: renumberAt,
                    to: receiver,
                    now: now,
                    into: &output,
                    write
                )
            } else {
                sendNow(to: receiver, transportSequenceAt: renumberAt, now: now, into: &output, write)
            }
        if sent { counters.retransmissionsSent += 1 }
        return sent
    }

}
