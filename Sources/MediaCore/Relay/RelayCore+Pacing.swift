/// Video towards a receiver whose downlink the relay estimates leaves through that receiver's
/// `MediaPacer` (DESIGN.md "Bandwidth estimation"): forwarded video and its retransmissions are
/// queued as plaintext, and leave within the pacing rate (the estimate times `pacingFactor`) and,
/// once the receiver's feedback has started, the estimator's congestion window. So a keyframe's
/// burst of packets reaches a 4G queue at a bounded multiple of the estimate rather than all at
/// once, and into a link that has stopped reporting (an outage) at most one packet goes every
/// `congestedSendInterval`. The transport-wide number is written when a packet leaves, so the
/// estimator sees the real send time.
///
/// The window and the pacer's settings are `configuration.downlinkPacing` (`DownlinkPacing`, which
/// says why a relay's window is wider than a sender's and holds video for at most 250 ms); bwe-sim
/// paces with the same value.
///
/// Audio is not queued: it goes straight out, never behind video (the pacer's audio queue is
/// for the simulator's sender, which also paces the audio it encodes). Without transport-cc
/// feedback from the receiver there is no estimate, no pacer, and video goes straight out too.
extension RelayCore {
    /// The pacer `downlink` feeds, for a receiver that gives transport-cc feedback.
    func makePacer() -> MediaPacer {
        configuration.downlinkPacing.makePacer(
            slotSize: OutgoingDatagrams.defaultSlotSize - SrtpContext.maxTrailerLength
        )
    }

    /// Sends one RTP packet of video (or a retransmission of it) towards `receiver`: through its
    /// pacer when it has one, otherwise at once. `write` fills the plaintext and returns its
    /// length; `transportSequenceAt` is where the transport-wide number goes when it leaves.
    /// `slot` is the receive slot it belongs to (a paused slot's queued video is dropped).
    /// Returns whether it was queued or sent.
    mutating func sendVideo(
        _ queue: MediaPacer.Queue,
        slot: Int,
        transportSequenceAt: Int?,
        to receiver: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams,
        _ write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        if receiver.pacer != nil, receiver.isMediaReady {
            var written = 0
            let queued =
                receiver.pacer?.enqueue(queue, tag: UInt64(slot), transportSequenceAt: transportSequenceAt, now: now) {
                    buffer in
                    written = write(buffer)
                    return written
                } ?? false
            if queued {
                guard written > 0 else { return false }
                counters.packetsPaced += 1
                drainPacer(of: receiver, now: now, into: &output)
                return true
            }
            counters.pacerOverflowed += 1  // every slot taken: at once rather than not at all
        }
        return sendNow(to: receiver, transportSequenceAt: transportSequenceAt, now: now, into: &output, write)
    }

    /// Sends one RTP packet towards `receiver` at once, its transport-wide number (at
    /// `transportSequenceAt`, if any) taken now.
    mutating func sendNow(
        to receiver: Participant,
        transportSequenceAt: Int?,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams,
        _ write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        sendProtected(to: receiver, rtcp: false, into: &output) { buffer in
            let length = write(buffer)
            if length > 0, let at = transportSequenceAt,
                let number = receiver.downlink?.packetSent(size: length, now: now)
            {
                Self.stampTransportSequence(number, at: at, in: buffer)
            }
            return length
        }
    }

    /// Sends what `receiver`'s pacer lets leave now; the rest waits for the next packet, feedback
    /// or tick. Stops when the output batch is full (the worker flushes it and the rest goes next
    /// time).
    mutating func drainPacer(
        of receiver: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard receiver.pacer?.isEmpty == false else { return }
        // Dropped into an outage: the receiver is owed a keyframe once its feedback is back.
        defer {
            counters.videoDroppedUnreachable += receiver.outage.noteVideoDropped(
                total: receiver.pacer?.staleVideoDropped ?? 0
            )
        }
        while output.count < output.capacity {
            let window = receiver.downlink?.pacerWindow(configuration.downlinkPacing, now: now)
            guard let entry = receiver.pacer?.next(now: now, window: window) else { return }
            let sent = sendProtected(to: receiver, rtcp: false, into: &output) { buffer in
                guard let bytes = receiver.pacer?.bytes(of: entry), bytes.count <= buffer.count else { return 0 }
                buffer.copyMemory(from: bytes)
                if let at = entry.transportSequenceAt,
                    let number = receiver.downlink?.packetSent(size: bytes.count, now: now)
                {
                    Self.stampTransportSequence(number, at: at, in: buffer)
                }
                return bytes.count
            }
            // Sent, or undeliverable (the receiver's path is gone): either way it leaves the queue.
            receiver.pacer?.sent(entry, now: now)
            if !sent { counters.pacedUndeliverable += 1 }
        }
    }

    /// `receiver`'s feedback is back after an outage in which its pacer dropped video: each stream
    /// it is shown owes it a keyframe (what it has since cannot be decoded without one).
    mutating func noteFeedbackResumed(from receiver: Participant) {
        guard receiver.outage.takeKeyframeOwed() else { return }
        for index in receiver.slots.indices where !receiver.slots[index].videoPaused {
            guard let source = receiver.slots[index].source else { continue }
            keyframes.request(
                KeyframeRequest(source: source, encoding: receiver.slots[index].targetEncoding),
                reason: .outageEnded
            )
        }
    }

    /// Drains every pacer, with its rate set from its estimate (the tick's last step).
    mutating func drainPacers(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for receiver in participants.values where receiver.pacer != nil {
            receiver.pacer?.setPacingRate(receiver.downlink?.pacingRate)
            drainPacer(of: receiver, now: now, into: &output)
        }
    }

    /// Writes a transport-wide sequence number (big-endian) at `offset`, inside its extension.
    static func stampTransportSequence(_ number: UInt16, at offset: Int, in buffer: UnsafeMutableRawBufferPointer) {
        buffer[offset] = UInt8(number >> 8)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: number)
    }
}
