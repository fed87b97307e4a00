/// The allocator towards each receiver (DESIGN.md "Bandwidth estimation"): audio first, then video,
/// within the receiver's share of our estimate of its downlink and of its operator `down` limit.
/// From a simulcast sender it picks, per receiver, the best encoding the share carries (down at
/// once, up after `layerUpswitchHold` with 10 % headroom, at the new encoding's keyframe), and pads
/// towards the receiver so the estimate can climb to the next encoding. Without simulcast the relay
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
    /// How long a higher simulcast encoding must fit before a receiver is moved up to it.
    public static let layerUpswitchHold: Duration = .seconds(1)
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
                if !receiver.slots[index].videoPaused, let video = participants[source]?.video, video.isSimulcast {
                    upswitchProbeBps += chooseEncoding(
                        for: receiver, slot: index, of: source, video: video, videoShareBps: videoShare, now: now)
                }
                if !receiver.slots[index].videoPaused, receiver.slots[index].awaitingKeyframe {
                    // Until it comes (one PLI per 300 ms at most).
                    pendingKeyframeRequests.insert(KeyframeRequest(source: source, encoding: receiver.slots[index].targetEncoding))
                }
                switch receiver.slots[index].videoPause.update(
                    videoShareBps: Double(videoShare), thresholds: configuration.videoPauseThresholds, now: now)
                {
                case .pause:
                    receiver.slots[index].forwardedEncoding = nil
                    receiver.slots[index].video.detachSource()
                    counters.videoPauses += 1
                    changed = true
                case .resume:
                    pendingKeyframeRequests.insert(KeyframeRequest(source: source, encoding: receiver.slots[index].targetEncoding))
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

    /// Picks the simulcast encoding slot `slot` of `receiver` should show: the highest-rate active
    /// encoding within the slot's video share (with 10 % headroom to move up), else the lowest.
    /// Down at once; up once the choice has held for `layerUpswitchHold`; the new encoding is asked
    /// for a keyframe and the forwarder switches at it. Returns the padding rate that would let the
    /// estimate reach the next encoding up (0 when none is wanted).
    private mutating func chooseEncoding(
        for receiver: Participant, slot index: Int, of source: ParticipantID, video: PublishedStream, videoShareBps: UInt64,
        now: ContinuousClock.Instant
    ) -> UInt64 {
        let target = receiver.slots[index].targetEncoding
        let current = video.encodings[target].rate
        let currentRate = current.isActive(now: now, window: Self.encodingActiveWindow) ? current.bitsPerSecond : 0
        var best: Int?
        var lowest: Int?
        var nextUp: UInt64?  // the rate of the cheapest active encoding above the current one
        for candidate in video.encodings.indices {
            let rate = video.encodings[candidate].rate
            guard rate.isActive(now: now, window: Self.encodingActiveWindow) else { continue }
            let bps = rate.bitsPerSecond
            if lowest.map({ bps < video.encodings[$0].rate.bitsPerSecond }) ?? true { lowest = candidate }
            let up = currentRate > 0 && bps > currentRate
            if up { nextUp = min(nextUp ?? bps, bps) }
            let fits = up ? Double(bps) * 1.1 <= Double(videoShareBps) : bps <= videoShareBps
            if fits, best.map({ bps > video.encodings[$0].rate.bitsPerSecond }) ?? true { best = candidate }
        }
        guard let choice = best ?? lowest else { return 0 }  // nothing measured yet: keep the first
        var probe: UInt64 = 0
        if let nextUp, choice == target || (currentRate > 0 && video.encodings[choice].rate.bitsPerSecond <= currentRate) {
            // Stuck below the next encoding: pad up to the share (what the estimate already allows,
            // so the acknowledged rate lets it climb), at most to the next encoding's need.
            let wanted = min(videoShareBps, UInt64(Double(nextUp) * 1.1))
            probe = wanted > currentRate ? wanted - currentRate : 0
        }
        guard choice != target else {
            receiver.slots[index].upswitchCandidateSince = nil
            return probe
        }
        let moveUp = currentRate > 0 && video.encodings[choice].rate.bitsPerSecond > currentRate
        if moveUp {
            let since = receiver.slots[index].upswitchCandidateSince ?? now
            receiver.slots[index].upswitchCandidateSince = since
            guard now - since >= Self.layerUpswitchHold else { return 0 }
        }
        receiver.slots[index].upswitchCandidateSince = nil
        receiver.slots[index].targetEncoding = choice
        pendingKeyframeRequests.insert(KeyframeRequest(source: source, encoding: choice))
        return 0
    }

    /// Padding towards `receiver` so its estimate can climb: on its first paused video stream at
    /// about 1.2 × the resume rate, or, for a simulcast upswitch, at `upswitchProbeBps` on a video
    /// stream with no source (the one being shown cannot take extra sequence numbers). Within a
    /// window of that rate over one RTT plus the congestion window's margin.
    private mutating func sendProbes(
        to receiver: Participant, upswitchProbeBps: UInt64, now: ContinuousClock.Instant, into output: inout OutgoingDatagrams
    ) {
        let paused = receiver.slots.firstIndex(where: { $0.videoPaused })
        let idle = upswitchProbeBps > 0 ? receiver.slots.firstIndex(where: { $0.source == nil }) : nil
        guard let slot = paused ?? idle, let extensionID = receiver.transportSequenceExtension,
            let downlink = receiver.downlink, let payloadType = receiver.slots[slot].videoPayloadTypes[.vp8]
        else { return }
        let probeBps = PaddingProbePacer.rateBps(
            paused: paused != nil, resumeBps: Double(configuration.videoResumeBps), upswitchBps: Double(upswitchProbeBps))
        let window = PaddingProbePacer.windowBytes(
            probeBps: probeBps, audioBps: Double(configuration.audioShareBps), paused: paused != nil,
            targetBps: downlink.targetBitrate, rttMs: downlink.rttMs, congestionWindowMs: downlink.parameters.congestionWindowMs)
        let size = Self.paddingProbeBytes
        let count = receiver.probePacer.probes(
            now: now, rateBps: probeBps, packetBytes: size, windowBytes: window, bytesInFlight: downlink.history.bytesInFlight,
            firstInterval: RelayCore.tickInterval)
        for _ in 0..<count {
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
