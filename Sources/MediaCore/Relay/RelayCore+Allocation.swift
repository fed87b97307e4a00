/// The allocator towards each receiver (DESIGN.md "Bandwidth estimation"): audio first, then video,
/// within the receiver's share of our estimate of its downlink and of its operator `down` limit. Without simulcast the relay cannot
/// pick a thinner layer: it caps the sender by REMB (RelayCore+Limits) and, below a floor, pauses
/// video towards that receiver alone, keeping audio. While paused it probes the downlink with
/// padding-only RTP on the paused video stream (RFC 3550 §5.1 P bit) carrying our transport-wide
/// numbers, so the estimate can climb back; video resumes, with hysteresis, at the source's next
/// keyframe (a PLI asks for one), its sequence numbers and timestamps continuing the stream.
extension RelayCore {
    /// One padding-only packet's padding (the most one RTP packet's count byte can say).
    static let probePaddingBytes = 255

    mutating func allocateDownlinks(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for receiver in participants.values where receiver.isMediaReady {
            // No estimate and no limit: nothing holds video back (a lifted limit resumes it).
            let share = downlinkShare(of: receiver) ?? UInt64.max
            let videoShare = share > configuration.audioShareBps ? share - configuration.audioShareBps : 0
            var changed = false
            for index in receiver.slots.indices {
                guard let source = receiver.slots[index].source else { continue }
                if !receiver.slots[index].videoPaused, receiver.slots[index].awaitingKeyframe {
                    pendingKeyframeRequests.insert(source)  // until it comes (one PLI per 300 ms at most)
                }
                switch receiver.slots[index].videoPause.update(
                    videoShareBps: Double(videoShare), thresholds: configuration.videoPauseThresholds, now: now)
                {
                case .pause:
                    receiver.slots[index].awaitingKeyframe = false
                    receiver.slots[index].video.detachSource()
                    counters.videoPauses += 1
                    changed = true
                case .resume:
                    receiver.slots[index].awaitingKeyframe = true
                    pendingKeyframeRequests.insert(source)
                    counters.videoResumes += 1
                    changed = true
                case nil:
                    break
                }
            }
            if changed { events.append(.roomChanged(room: receiver.room)) }
            sendProbes(to: receiver, now: now, into: &output)
        }
    }

    /// Padding on the first paused video stream towards `receiver`, at about 1.2 × the resume rate,
    /// within a window of that rate over one RTT plus the congestion window's margin.
    private mutating func sendProbes(to receiver: Participant, now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        guard let slot = receiver.slots.firstIndex(where: { $0.videoPaused }), let extensionID = receiver.transportSequenceExtension,
            let downlink = receiver.downlink, let payloadType = receiver.slots[slot].videoPayloadTypes[.vp8]
        else { return }
        let probeBps = Double(configuration.videoResumeBps) * 1.2
        let elapsed = receiver.lastProbe.map { now - $0 } ?? RelayCore.tickInterval
        receiver.lastProbe = now
        let (seconds, attoseconds) = elapsed.components
        receiver.probeBudgetBytes = min(
            receiver.probeBudgetBytes + probeBps / 8 * (Double(seconds) + Double(attoseconds) / 1e18), 2 * 1200)
        let window = Int((probeBps + Double(configuration.audioShareBps)) / 8 * (downlink.rttMs + downlink.parameters.congestionWindowMs) / 1000)
        let size = 12 + 8 + Self.probePaddingBytes
        while receiver.probeBudgetBytes >= Double(size), downlink.history.bytesInFlight + size <= window {
            receiver.probeBudgetBytes -= Double(size)
            let mapping = receiver.slots[slot].video.nextPadding(now: now)
            let ssrc = receiver.slots[slot].video.ssrc
            guard let number = receiver.downlink?.packetSent(size: size, now: now) else { return }
            let sent = sendProtected(to: receiver, rtcp: false, into: &output) { buffer in
                guard size <= buffer.count else { return 0 }
                Self.writePaddingProbe(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]), payloadType: payloadType, sequence: mapping.sequence,
                    timestamp: mapping.timestamp, ssrc: ssrc, extensionID: extensionID, transportSequence: number)
                return size
            }
            if sent { counters.paddingProbesSent += 1 }
        }
    }

    /// A padding-only RTP packet (RFC 3550 §5.1): P and X set, one RFC 8285 one-byte extension block
    /// with the transport-wide sequence number, then `probePaddingBytes` of padding whose last byte
    /// is its count.
    static func writePaddingProbe(
        into out: UnsafeMutableRawBufferPointer, payloadType: UInt8, sequence: UInt16, timestamp: UInt32, ssrc: UInt32,
        extensionID: UInt8, transportSequence: UInt16
    ) {
        out.initializeMemory(as: UInt8.self, repeating: 0)
        out[0] = 0xB0  // V=2, P, X
        out[1] = payloadType & 0x7F
        out.storeBytes(of: sequence.bigEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
        out.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        out.storeBytes(of: UInt32(0xBEDE_0001).bigEndian, toByteOffset: 12, as: UInt32.self)
        out[16] = extensionID << 4 | 0x01
        out.storeBytes(of: transportSequence.bigEndian, toByteOffset: 17, as: UInt16.self)
        out[out.count - 1] = UInt8(probePaddingBytes)
    }
}
