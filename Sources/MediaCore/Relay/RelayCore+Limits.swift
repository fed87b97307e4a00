/// Bitrate limits enforced through REMB (draft-alvestrand-rmcat-remb-03): without simulcast the relay
/// cannot thin a stream for one receiver, so a sender is capped at the smallest of its own `up`
/// limit and the `down` limits of everyone in the room who receives it.
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

    /// The cap on what `sender` may send, if any limit applies.
    public func senderCap(_ id: ParticipantID) -> UInt64? {
        guard let sender = participants[id] else { return nil }
        var cap = sender.limits.upBps
        for member in rooms[sender.room] ?? [] where member != id {
            guard let down = participants[member]?.limits.downBps else { continue }
            cap = min(cap ?? down, down)
        }
        return cap
    }

    /// Sends a REMB to each video sender whose cap changed, or repeats it every `rembInterval`.
    mutating func sendRembs(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values {
            guard let videoSSRC = participant.video?.ssrc, participant.isMediaReady else { continue }
            let cap = senderCap(participant.id)
            guard cap != nil || participant.lastRemb != nil else { continue }  // never capped
            let bitrate = cap ?? Self.uncappedBps
            if let last = participant.lastRemb, last.bitrateBps == bitrate, now - last.at < Self.rembInterval { continue }
            let audioSSRC = participant.audio?.ssrc
            let senderSSRC = participant.rtcpSSRC
            let appended = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                Self.writeRemb(senderSSRC: senderSSRC, bitrateBps: bitrate, videoSSRC: videoSSRC, audioSSRC: audioSSRC, into: buffer)
            }
            if appended {
                participant.lastRemb = cap == nil && participant.lastRemb?.bitrateBps == Self.uncappedBps ? nil : (bitrate, now)
                counters.rembsSent += 1
            }
        }
    }

    static func writeRemb(
        senderSSRC: UInt32, bitrateBps: UInt64, videoSSRC: UInt32, audioSSRC: UInt32?, into buffer: UnsafeMutableRawBufferPointer
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
