/// Bitrate limits enforced through REMB (draft-alvestrand-rmcat-remb-03): without simulcast the relay
/// cannot thin a stream for one receiver, so a sender is capped at the smallest of its own `up`
/// limit, the `down` limits of everyone in the room who receives it, and each such receiver's share
/// of our estimate of its downlink (the estimate split over the streams it receives).
extension RelayCore {
    /// How often the cap is repeated while it applies (browsers keep the last REMB, but a lost one
    /// must not leave a sender uncapped for long).
    public static let rembInterval: Duration = .seconds(1)
    /// What "no limit" is announced as, once a cap is lifted.
    public static let uncappedBps: UInt64 = 10_000_000

    /// Sets a participant's limits; the sender caps they change are sent on the next tick.
    public mutating func setBitrateLimits(_ id: ParticipantID, _ limits: BitrateLimits) {
        guard let participant = participants[id], participant.limits != limits else { return }
        participant.limits = limits
        // A receiver's down limit changes the caps of everyone it receives: resend them all.
        for member in rooms[participant.room] ?? [] { participants[member]?.lastRemb?.bitrateBps = 0 }
    }

    public func bitrateLimits(_ id: ParticipantID) -> BitrateLimits? { participants[id]?.limits }

    /// The cap on what `sender` may send, if any limit applies. A simulcast sender is capped by its
    /// own `up` limit only: each receiver gets the encoding it can take instead.
    public func senderCap(_ id: ParticipantID) -> UInt64? {
        guard let sender = participants[id] else { return nil }
        var cap = sender.limits.upBps
        if sender.video?.isSimulcast == true { return cap }
        for member in rooms[sender.room] ?? [] where member != id {
            guard let receiver = participants[member] else { continue }
            if let down = receiver.limits.downBps { cap = min(cap ?? down, down) }
            if let share = downlinkShare(of: receiver), receiver.slotIndex(showing: id) != nil {
                cap = min(cap ?? share, share)
            }
        }
        return cap
    }

    /// What each stream towards `receiver` may take: the lower of our estimate of its downlink (once
    /// its feedback has started) and its operator `down` limit, split over the streams it receives.
    /// Nil when neither applies. The allocator pauses video below its floor on this share.
    func downlinkShare(of receiver: Participant) -> UInt64? {
        var total = receiver.limits.downBps
        if let estimate = receiver.downlink?.targetBitrate, receiver.downlink?.hasFeedback == true {
            total = min(total ?? UInt64(estimate), UInt64(estimate))
        }
        guard let total else { return nil }
        var sources = 0
        for slot in receiver.slots where slot.source != nil { sources += 1 }
        return total / UInt64(max(sources, 1))
    }

    /// Sends a REMB to each video sender whose cap changed, or repeats it every `rembInterval`.
    mutating func sendRembs(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values {
            guard let videoSSRC = participant.video?.ssrc, participant.isMediaReady else { continue }
            let cap = senderCap(participant.id)
            guard cap != nil || participant.lastRemb != nil else { continue }  // never capped
            let bitrate = cap ?? Self.uncappedBps
            // An estimate moves with every feedback: a new REMB when the cap falls 5 % or rises 10 %,
            // else once per interval. (A changed operator limit zeroes `lastRemb` to force one.)
            if let last = participant.lastRemb, now - last.at < Self.rembInterval,
                Double(bitrate) >= 0.95 * Double(last.bitrateBps), Double(bitrate) <= 1.1 * Double(last.bitrateBps)
            {
                continue
            }
            let audioSSRC = participant.audio?.ssrc
            let senderSSRC = participant.rtcpSSRC
            let appended = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                Self.writeRemb(
                    senderSSRC: senderSSRC,
                    bitrateBps: bitrate,
                    videoSSRC: videoSSRC,
                    audioSSRC: audioSSRC,
                    into: buffer
                )
            }
            if appended {
                participant.lastRemb =
                    cap == nil && participant.lastRemb?.bitrateBps == Self.uncappedBps ? nil : (bitrate, now)
                counters.rembsSent += 1
            }
        }
    }

    static func writeRemb(
        senderSSRC: UInt32,
        bitrateBps: UInt64,
        videoSSRC: UInt32,
        audioSSRC: UInt32?,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        var ssrcs: (UInt32, UInt32) = (videoSSRC, audioSSRC ?? 0)
        let count = audioSSRC == nil ? 1 : 2
        return withUnsafePointer(to: &ssrcs) { pointer in
            pointer.withMemoryRebound(to: UInt32.self, capacity: 2) { first in
                let span = Span(_unsafeElements: UnsafeBufferPointer(start: first, count: count))
                let remb = RTCPReceiverEstimatedMaxBitrate(senderSSRC: senderSSRC, bitrateBps: bitrateBps, ssrcs: span)
                let size = remb.encodedSize
                guard size <= buffer.count else { return 0 }
                var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                remb.encode(into: &out)
                return out.finalize(for: buffer)
            }
        }
    }
}
