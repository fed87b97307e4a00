/// Hop-by-hop loss repair (RFC 4585 §6.2.1 generic NACK, RFC 4588 RTX): NACKs towards senders for
/// holes in what they send us, and retransmissions from our cache for holes receivers report.
extension RelayCore {
    /// Sends a generic NACK to every sender with holes due for a request, and a keyframe request
    /// where a hole was given up on.
    mutating func sendNacks(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values {
            guard participant.video?.nack != nil, let mediaSSRC = participant.video?.ssrc, participant.isMediaReady
            else { continue }
            let count = participant.video?.nack?.due(now: now, rtt: participant.rtt, into: &nackScratch) ?? 0
            if participant.video?.nack?.keyframeNeeded == true {
                participant.video?.nack?.keyframeRequested()
                pendingKeyframeRequests.insert(participant.id)
            }
            guard count > 0 else { continue }
            let sequences = nackScratch
            let senderSSRC = participant.rtcpSSRC
            let appended = sendProtected(to: participant, rtcp: true, into: &output) { buffer in
                RtcpWire.genericNack(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, lost: sequences, into: buffer)
            }
            if appended {
                counters.nacksSent += 1
                counters.nackedPackets += count
            }
        }
    }

    /// Answers a receiver's generic NACKs for our slot video streams from the RTX cache, resending
    /// with the original SSRC and sequence number (no RTX is negotiated towards receivers).
    mutating func answerNacks(
        _ packet: UnsafeRawBufferPointer, from receiver: Participant, now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard receiver.isMediaReady else { return }
        var offset = 0
        while offset + 12 <= packet.count {
            let length = 4 * (Int(packet[offset + 2]) << 8 | Int(packet[offset + 3]) + 1)
            guard length >= 4, offset + length <= packet.count else { return }
            if packet[offset + 1] == 205, packet[offset] & 0x1F == 1 {
                let mediaSSRC = RtcpWire.read32(packet, offset + 8)
                if let slot = receiver.slots.firstIndex(where: { $0.video.ssrc == mediaSSRC }),
                    let cache = receiver.slots[slot].videoCache
                {
                    var entry = offset + 12
                    while entry + 4 <= offset + length {
                        let pid = UInt16(packet[entry]) << 8 | UInt16(packet[entry + 1])
                        let blp = UInt16(packet[entry + 2]) << 8 | UInt16(packet[entry + 3])
                        for bit in -1..<16 where bit < 0 || blp & (1 << UInt16(bit)) != 0 {
                            let sequence = bit < 0 ? pid : pid &+ UInt16(bit + 1)
                            resend(sequence, from: cache, to: receiver, now: now, into: &output)
                        }
                        entry += 4
                    }
                }
            }
            offset += length
        }
    }

    private mutating func resend(
        _ sequence: UInt16, from cache: RtxCache, to receiver: Participant, now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard let stored = cache.retransmission(of: sequence, now: now, rtt: receiver.rtt) else {
            counters.retransmissionsUnavailable += 1
            return
        }
        let sent = sendProtected(to: receiver, rtcp: false, into: &output) { slot in
            guard stored.count <= slot.count else { return 0 }
            slot.copyMemory(from: stored)
            return stored.count
        }
        if sent { counters.retransmissionsSent += 1 }
    }

    /// RTT from a participant's report blocks on our streams (RFC 3550 §6.4.1: A − LSR − DLSR).
    mutating func updateRoundTripTime(_ packet: UnsafeRawBufferPointer, from participant: Participant, now: ContinuousClock.Instant) {
        let ntp = self.ntp(at: now)
        let nowMiddle = UInt32(truncatingIfNeeded: ntp >> 16)
        var offset = 0
        while offset + 8 <= packet.count {
            let length = 4 * (Int(packet[offset + 2]) << 8 | Int(packet[offset + 3]) + 1)
            guard length >= 4, offset + length <= packet.count else { return }
            let type = packet[offset + 1]
            let blocks = Int(packet[offset] & 0x1F)
            let first = type == 200 ? offset + 28 : offset + 8
            if type == 200 || type == 201 {
                for index in 0..<blocks where first + 24 * (index + 1) <= offset + length {
                    let block = first + 24 * index
                    let ssrc = RtcpWire.read32(packet, block)
                    let lsr = RtcpWire.read32(packet, block + 16)
                    let dlsr = RtcpWire.read32(packet, block + 20)
                    guard participant.slots.contains(where: { $0.audio.ssrc == ssrc || $0.video.ssrc == ssrc }) else { continue }
                    // Fraction lost (RFC 3550 §6.4.1) on what we send it: the worst stream's last report.
                    participant.lossDown = max(participant.lossDownPending ? participant.lossDown : 0, packet[block + 4])
                    participant.lossDownPending = true
                    guard lsr != 0 else { continue }
                    let units = nowMiddle &- lsr &- dlsr  // 1/65536 s
                    guard units < 65_536 * 10 else { continue }  // implausible (> 10 s): ignore
                    participant.rtt = max(.milliseconds(1), .microseconds(Int64(units) * 1_000_000 / 65_536))
                    participant.rttMeasured = true
                }
            }
            offset += length
        }
        participant.lossDownPending = false
    }
}

extension RtcpWire {
    /// Writes a generic NACK (RFC 4585 §6.2.1) for the lost sequence numbers (sorted, as
    /// `NackGenerator` produces them), packing each run of 17 into one PID/BLP pair. Returns the length.
    static func genericNack(senderSSRC: UInt32, mediaSSRC: UInt32, lost: [UInt16], into p: UnsafeMutableRawBufferPointer) -> Int {
        guard !lost.isEmpty else { return 0 }
        var offset = 12
        var index = 0
        while index < lost.count {
            guard offset + 4 <= p.count else { break }
            let pid = lost[index]
            var blp: UInt16 = 0
            index += 1
            while index < lost.count {
                let distance = lost[index] &- pid
                guard distance >= 1 && distance <= 16 else { break }
                blp |= 1 << (distance - 1)
                index += 1
            }
            p[offset] = UInt8(pid >> 8)
            p[offset + 1] = UInt8(pid & 0xFF)
            p[offset + 2] = UInt8(blp >> 8)
            p[offset + 3] = UInt8(blp & 0xFF)
            offset += 4
        }
        header(count: 1, type: 205, length: offset, into: p, at: 0)
        write32(p, 4, senderSSRC)
        write32(p, 8, mediaSSRC)
        return offset
    }
}
