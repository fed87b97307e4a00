/// The allocator towards each receiver (DESIGN.md "Bandwidth estimation"): audio first, then video,
/// within the receiver's share of our estimate of its downlink and of its operator `down` limit.
/// Per receive slot a `VideoStreamAllocator` decides: from a simulcast sender the best encoding the
/// share carries (down at once, up after a hold with 10 % headroom, at the new encoding's keyframe),
/// and the padding towards the receiver that lets the estimate climb to the next encoding
/// (`PaddingProbePacer` paces it). This file wires those decisions to forwarding, keyframe
/// requests and probes. Without simulcast the relay
/// cannot pick a thinner layer: it caps the sender by REMB (RelayCore+Limits). Either way, below a
/// floor it pauses video towards that receiver alone, keeping audio. While paused it probes the downlink with
/// padding-only RTP on the paused video stream (RFC 3550 §5.1 P bit) carrying our transport-wide
/// numbers, so the estimate can climb back; video resumes, with hysteresis, at the source's next
/// keyframe (a PLI asks for one), its sequence numbers and timestamps continuing the stream.
extension RelayCore {
    /// One padding-only packet's padding (the most one RTP packet's count byte can say).
    static let probePaddingBytes = 255
    /// A padding probe on the wire: RTP header, the transport-wide number's extension block, padding.
    public static let paddingProbeBytes = 12 + 8 + probePaddingBytes
    /// An encoding that sent nothing for this long is off (the sender's own estimate dropped it).
    static let encodingActiveWindow: Duration = .milliseconds(500)

    mutating func allocateDownlinks(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for receiver in participants.values where receiver.isMediaReady {
            // No estimate and no limit: nothing holds video back (a lifted limit resumes it).
            let share = downlinkShare(of: receiver) ?? UInt64.max
            let audioShare = audioShareBps(of: receiver)
            let videoShare = share > audioShare ? share - audioShare : 0
            var changed = false
            var upswitchProbeBps: UInt64 = 0
            for index in receiver.slots.indices {
                guard let source = receiver.slots[index].source else { continue }
                let wasPaused = receiver.slots[index].videoPaused
                let decision = receiver.slots[index].allocation.update(
                    videoShareBps: videoShare,
                    encodingRates: encodingRates(of: source, now: now),
                    thresholds: configuration.videoPauseThresholds,
                    now: now
                )
                upswitchProbeBps += decision.upswitchProbeBps
                if let choice = decision.switchTo {
                    keyframes.request(KeyframeRequest(source: source, encoding: choice), reason: .layerSwitch)
                }
                if !wasPaused, receiver.slots[index].awaitingKeyframe {
                    // Until it comes (one PLI per 300 ms at most).
                    keyframes.request(
                        KeyframeRequest(source: source, encoding: receiver.slots[index].targetEncoding),
                        reason: .layerSwitch
                    )
                }
                switch decision.pause {
                case .pause:
                    receiver.slots[index].forwardedEncoding = nil
                    receiver.slots[index].video.detachSource()
                    // What waits for it is no use now (it resumes at a keyframe).
                    receiver.pacer?.removeAll(.video, tag: UInt64(index))
                    receiver.pacer?.removeAll(.retransmission, tag: UInt64(index))
                    counters.videoPauses += 1
                    changed = true
                case .resume:
                    keyframes.request(
                        KeyframeRequest(source: source, encoding: receiver.slots[index].targetEncoding),
                        reason: .resume
                    )
                    counters.videoResumes += 1
                    changed = true
                case nil:
                    break
                }
            }
            if changed { events.append(.roomChanged(room: receiver.room)) }
            sendProbes(to: receiver, upswitchProbeBps: upswitchProbeBps, now: now, into: &output)
        }
    }

    /// What audio towards `receiver` takes of its share: `audioShareBps`, and as much again for each
    /// Opus payload its RED packets repeat (RelayCore+Audio).
    func audioShareBps(of receiver: Participant) -> UInt64 {
        configuration.audioShareBps * UInt64(1 + receiver.audioRedundancy.distance)
    }

    /// The measured rate of each encoding `source` sends now, for `VideoStreamAllocator`; nil when
    /// it does not send simulcast.
    private func encodingRates(
        of source: ParticipantID,
        now: ContinuousClock.Instant
    ) -> VideoStreamAllocator.EncodingRates? {
        guard let video = participants[source]?.video, video.isSimulcast else { return nil }
        var rates = VideoStreamAllocator.EncodingRates(repeating: nil)
        for index in video.encodings.indices where index < VideoStreamAllocator.maxEncodings {
            let rate = video.encodings[index].rate
            if rate.isActive(now: now, window: Self.encodingActiveWindow) { rates[index] = rate.bitsPerSecond }
        }
        return rates
    }

    /// Padding towards `receiver` so its estimate can climb: on its first paused video stream at
    /// about 1.2 × the resume rate, or, for a simulcast upswitch, at `upswitchProbeBps` on a video
    /// stream with no source (the one being shown cannot take extra sequence numbers). Within a
    /// window of that rate over one RTT plus the congestion window's margin. Where the receiver
    /// took RTX for the slot, the padding goes on the RTX stream (`ReceiveSlot.paddingRTX`): a probe
    /// lost there costs no NACK, and the media stream's sequence numbers stay the media's.
    private mutating func sendProbes(
        to receiver: Participant,
        upswitchProbeBps: UInt64,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        let paused = receiver.slots.firstIndex(where: { $0.videoPaused })
        // An upswitch probe needs a stream that can take padding: an empty slot, or the RTX stream
        // of one that shows somebody.
        let idle =
            upswitchProbeBps > 0
            ? receiver.slots.firstIndex(where: { $0.source == nil })
                ?? receiver.slots.firstIndex(where: { $0.paddingRTX != nil }) : nil
        guard let slot = paused ?? idle, let extensionID = receiver.transportSequenceExtension,
            let downlink = receiver.downlink, let payloadType = receiver.slots[slot].videoPayloadTypes[.vp8]
        else { return }
        let probeBps = PaddingProbePacer.rateBps(
            paused: paused != nil,
            resumeBps: Double(configuration.videoResumeBps),
            upswitchBps: Double(upswitchProbeBps)
        )
        let window = PaddingProbePacer.windowBytes(
            probeBps: probeBps,
            audioBps: Double(configuration.audioShareBps),
            paused: paused != nil,
            targetBps: downlink.targetBitrate,
            rttMs: downlink.rttMs,
            congestionWindowMs: downlink.parameters.congestionWindowMs
        )
        let size = Self.paddingProbeBytes
        let count = receiver.probePacer.probes(
            now: now,
            rateBps: probeBps,
            packetBytes: size,
            windowBytes: window,
            bytesInFlight: downlink.history.bytesInFlight,
            firstInterval: RelayCore.tickInterval
        )
        for _ in 0..<count {
            let (ssrc, payloadType, mapping) = nextPaddingPacket(
                receiver: receiver,
                slot: slot,
                mediaPayloadType: payloadType,
                now: now
            )
            guard let number = receiver.downlink?.packetSent(size: size, now: now) else { return }
            let sent = sendProtected(to: receiver, rtcp: false, into: &output) { buffer in
                guard size <= buffer.count else { return 0 }
                Self.writePaddingProbe(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]),
                    payloadType: payloadType,
                    sequence: mapping.sequence,
                    timestamp: mapping.timestamp,
                    ssrc: ssrc,
                    extensionID: extensionID,
                    transportSequence: number
                )
                return size
            }
            if sent { counters.paddingProbesSent += 1 }
        }
    }

    /// The stream the next probe goes on: the slot's RTX stream (its own sequence numbers, the video
    /// stream's last timestamp), else the video stream itself.
    private func nextPaddingPacket(
        receiver: Participant,
        slot: Int,
        mediaPayloadType: UInt8,
        now: ContinuousClock.Instant
    ) -> (ssrc: UInt32, payloadType: UInt8, mapping: OutgoingStreamRewriter.Mapping) {
        if let rtx = receiver.slots[slot].paddingRTX {
            let sequence = receiver.slots[slot].paddingRTX!.next()
            let timestamp = receiver.slots[slot].video.lastSent?.timestamp ?? 0
            return (rtx.ssrc, rtx.payloadType, OutgoingStreamRewriter.Mapping(sequence: sequence, timestamp: timestamp))
        }
        let mapping = receiver.slots[slot].video.nextPadding(now: now)
        return (receiver.slots[slot].video.ssrc, mediaPayloadType, mapping)
    }

    /// A padding-only RTP packet (RFC 3550 §5.1): P and X set, one RFC 8285 one-byte extension block
    /// with the transport-wide sequence number, then `probePaddingBytes` of padding whose last byte
    /// is its count.
    static func writePaddingProbe(
        into out: UnsafeMutableRawBufferPointer,
        payloadType: UInt8,
        sequence: UInt16,
        timestamp: UInt32,
        ssrc: UInt32,
        extensionID: UInt8,
        transportSequence: UInt16
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
