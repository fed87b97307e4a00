/// Audio forwarding with repair (issue: audio that survives rural 4G). Opus from a sender, plain or
/// as RED (RFC 2198), is taken apart into the Opus packets it carries: a redundant block for a
/// packet the uplink lost fills that hole at once. Every Opus packet goes once to each receiver,
/// on the receiver's payload types, and into that slot's audio cache; towards a receiver that
/// negotiated RED and whose reports show loss, it goes out as RED with the one or two packets
/// before it from the cache (`AudioRedundancyPolicy`). NACKs for audio are answered from the cache,
/// and holes the uplink left are requested from senders that answer NACK, each only while the
/// retransmission can still be played (`audioRepairHorizon`).
extension RelayCore {
    /// The latest, after the original should have arrived, that a retransmitted Opus packet is
    /// still worth sending: a voice jitter buffer on a 4G link holds some tens of milliseconds,
    /// rarely 250 ms (libwebrtc's NetEq likewise NACKs only what can arrive before its playout).
    public static let audioRepairHorizon: Duration = .milliseconds(250)

    /// Forwards one decrypted audio packet (`codec` Opus or RED) from `sender`.
    mutating func forwardAudio(
        _ packet: UnsafeRawBufferPointer,
        header: RtpHeaderSummary,
        codec: MediaCodec,
        transportRange: Range<Int>?,
        from sender: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        if sender.audio?.ssrc == nil { sender.audio?.encodings[0].ssrc = header.ssrc }
        guard sender.audio?.ssrc == header.ssrc else { return counters.drop(.unknownSSRC) }
        recordReception(header, audio: true, encoding: 0, in: sender, now: now)
        let payloadEnd = packet.count - header.paddingLength
        guard header.headerLength <= payloadEnd else { return counters.drop(.rtpMalformed) }
        var forwarded = false
        guard codec == .red else {
            countInbandFEC(packet, payload: header.headerLength..<payloadEnd)
            deliverAudio(
                packet,
                header: header,
                payload: header.headerLength..<payloadEnd,
                recovered: false,
                transportRange: transportRange,
                from: sender,
                now: now,
                forwarded: &forwarded,
                into: &output
            )
            if !forwarded { counters.drop(.noReceiver) }
            return
        }
        let payload = UnsafeRawBufferPointer(rebasing: packet[header.headerLength..<payloadEnd])
        let opus = sender.audio?.payloadType(of: .opus)
        let red: (blocks: InlineArray<2, REDPayloadView.Block?>, primary: Range<Int>, primaryType: UInt8)
        do {
            let view = try REDPayloadView(validating: payload.bytes)
            // The newest two redundant blocks at most: older ones come too late to be played.
            var blocks = InlineArray<2, REDPayloadView.Block?>(repeating: nil)
            let first = max(0, view.redundantCount - 2)
            for index in first..<view.redundantCount { blocks[index - first] = view.redundant(index) }
            red = (blocks, view.primaryRange, view.primaryPayloadType)
        } catch {
            return counters.drop(.redMalformed)
        }
        let base = header.headerLength
        for index in 0..<2 {
            guard let block = red.blocks[index], block.payloadType == opus, !block.range.isEmpty else { continue }
            var repeated = header
            repeated.sequence = header.sequence &- UInt16(truncatingIfNeeded: block.distance)
            repeated.timestamp = header.timestamp &- block.timestampOffset
            repeated.payloadType = block.payloadType
            repeated.marker = false
            deliverAudio(
                packet,
                header: repeated,
                payload: (base + block.range.lowerBound)..<(base + block.range.upperBound),
                recovered: true,
                transportRange: transportRange,
                from: sender,
                now: now,
                forwarded: &forwarded,
                into: &output
            )
        }
        guard red.primaryType == opus else { return counters.drop(.unknownSSRC) }
        countInbandFEC(packet, payload: (base + red.primary.lowerBound)..<(base + red.primary.upperBound))
        var primary = header
        primary.payloadType = red.primaryType
        deliverAudio(
            packet,
            header: primary,
            payload: (base + red.primary.lowerBound)..<(base + red.primary.upperBound),
            recovered: false,
            transportRange: transportRange,
            from: sender,
            now: now,
            forwarded: &forwarded,
            into: &output
        )
        if !forwarded { counters.drop(.noReceiver) }
    }

    private mutating func countInbandFEC(_ packet: UnsafeRawBufferPointer, payload: Range<Int>) {
        if OpusInbandFEC.present(packet: UnsafeRawBufferPointer(rebasing: packet[payload]).bytes) == true {
            counters.audioInbandFECReceived += 1
        }
    }

    /// One Opus packet (the header of `packet` with `header`'s fields, the bytes at `payload`) to
    /// every receiver showing `sender`, unless it was delivered before.
    private mutating func deliverAudio(
        _ packet: UnsafeRawBufferPointer,
        header: RtpHeaderSummary,
        payload: Range<Int>,
        recovered: Bool,
        transportRange: Range<Int>?,
        from sender: Participant,
        now: ContinuousClock.Instant,
        forwarded: inout Bool,
        into output: inout OutgoingDatagrams
    ) {
        // Each packet once: a redundant copy of one already here, or a duplicate, goes nowhere.
        let recoveredBefore = sender.audio?.read(0) { $0.pointee.nack?.recovered } ?? nil
        if let isNew = sender.audio?.encodings[0].nack?.insert(
            sequence: header.sequence,
            now: now,
            retransmission: recovered
        ) {
            guard isNew else { return }
        }
        if recovered {
            counters.audioRecoveredByRedundancy += 1
        } else if let recoveredBefore, sender.audio?.read(0, { $0.pointee.nack?.recovered }) != recoveredBefore {
            counters.audioRecoveredByRetransmission += 1  // the sender answered our NACK
        }
        let headerLength = header.headerLength
        let payloadLength = payload.count
        for sink in sender.sinks {
            let receiver = sink.receiver
            let slot = sink.slot
            guard receiver.isMediaReady,
                let opusType = receiver.readSlot(slot, { $0.pointee.audioPayloadTypes[.opus] })
            else { continue }
            // Into an outage at most one packet per `outageAudioInterval` (DownlinkPacing); dropped
            // before it is numbered, so the receiver sees no gap to ask for.
            let unreachable = receiver.downlink?.isUnreachable(configuration.downlinkPacing, now: now) ?? false
            guard receiver.outage.audioMayGo(unreachable: unreachable, pacing: configuration.downlinkPacing, now: now)
            else {
                counters.audioDroppedUnreachable += 1
                continue
            }
            guard
                let mapping = receiver.slots[slot].audio.map(
                    sourceSSRC: header.ssrc,
                    sequence: header.sequence,
                    timestamp: header.timestamp,
                    payloadLength: payloadLength,
                    now: now
                )
            else { continue }
            let (outSSRC, cache, redType, newest) = receiver.readSlot(slot) {
                (
                    $0.pointee.audio.ssrc, $0.pointee.audioCache, $0.pointee.audioPayloadTypes[.red],
                    $0.pointee.audio.lastSent?.sequence
                )
            }
            // Repeats only on the newest packet: the ones before it in the cache are its predecessors.
            let distance = redType != nil && newest == mapping.sequence ? receiver.audioRedundancy.distance : 0
            var extensionTable = RtpHeaderSummary.stripAllExtensions
            var renumberAt: Int?
            // Every packet sent gets our transport-wide number, a repeat taken out of RED too.
            if receiver.downlink != nil, let senderID = sender.transportSequenceExtension,
                let receiverID = receiver.transportSequenceExtension, let range = transportRange
            {
                extensionTable[Int(senderID) - 1] = receiverID
                renumberAt = range.lowerBound
            }
            var blocksSent = 0
            let sent = sendProtected(to: receiver, rtcp: false, into: &output) { out in
                let plainLength = headerLength + payloadLength
                guard plainLength <= out.count else { return 0 }
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<headerLength]))
                UnsafeMutableRawBufferPointer(rebasing: out[headerLength..<plainLength])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[payload]))
                out[0] &= ~0x20  // no padding: the sender's, if any, stayed behind
                var rewritten = MutableRawSpan(
                    _unsafeBytes: UnsafeMutableRawBufferPointer(rebasing: out[0..<plainLength])
                )
                RTPPacketRewriter.setSSRC(outSSRC, in: &rewritten)
                RTPPacketRewriter.setSequenceNumber(mapping.sequence, in: &rewritten)
                RTPPacketRewriter.setTimestamp(mapping.timestamp, in: &rewritten)
                RTPPacketRewriter.setPayloadType(opusType, in: &rewritten)
                RTPPacketRewriter.setMarker(header.marker, in: &rewritten)
                if let offset = header.extensionOffset {
                    RTPPacketRewriter.remapExtensionIDs(extensionTable, blockOffset: offset, in: &rewritten)
                }
                if let renumberAt, let number = receiver.downlink?.packetSent(size: plainLength, now: now) {
                    Self.stampTransportSequence(number, at: renumberAt, in: out)
                }
                // The cache keeps the plain Opus packet: NACKs are answered with it, RED repeats it.
                cache?.store(
                    UnsafeRawBufferPointer(rebasing: out[0..<plainLength]),
                    sequence: mapping.sequence,
                    now: now
                )
                guard distance > 0, let redType, let cache else { return plainLength }
                let (length, blocks) = Self.writeRED(
                    into: out,
                    headerLength: headerLength,
                    payloadLength: payloadLength,
                    sequence: mapping.sequence,
                    timestamp: mapping.timestamp,
                    opusType: opusType,
                    redType: redType,
                    distance: distance,
                    cache: cache
                )
                blocksSent = blocks
                return length
            }
            if sent {
                forwarded = true
                counters.rtpForwarded += 1
                counters.bytesForwarded += headerLength + payloadLength
                counters.audioRedundantBlocksSent += blocksSent
            }
        }
    }

    /// Turns the plain Opus packet at the start of `out` into RED (RFC 2198 §3) carrying up to
    /// `distance` packets before it from `cache`, in place. Returns the packet's length and how
    /// many repeats it carries; a predecessor not in the cache, too old for the 14-bit timestamp
    /// offset, or too large for the 10-bit length is left out (with none left, the packet stays Opus).
    public static func writeRED(
        into out: UnsafeMutableRawBufferPointer,
        headerLength: Int,
        payloadLength: Int,
        sequence: UInt16,
        timestamp: UInt32,
        opusType: UInt8,
        redType: UInt8,
        distance: Int,
        cache: RtxCache
    ) -> (length: Int, blocks: Int) {
        let plainLength = headerLength + payloadLength
        return withUnsafeTemporaryAllocation(of: REDWriter.Redundancy.self, capacity: 2) { scratch in
            var count = 0
            for back in stride(from: min(distance, 2), through: 1, by: -1) {
                guard let earlier = cache.stored(sequence &- UInt16(back)),
                    let view = try? RTPPacketView(validating: earlier.bytes)
                else { continue }
                let offset = timestamp &- view.timestamp
                let block = REDWriter.Redundancy(
                    payloadType: opusType,
                    timestampOffset: offset,
                    bytes: UnsafeRawBufferPointer(
                        rebasing: earlier[view.payloadOffset..<(earlier.count - view.paddingLength)]
                    )
                )
                guard offset > 0, block.fits else { continue }
                scratch.initializeElement(at: count, to: block)
                count += 1
            }
            guard count > 0 else { return (plainLength, 0) }
            let blocks = UnsafeBufferPointer(rebasing: scratch[0..<count])
            let primary = UnsafeRawBufferPointer(rebasing: out[headerLength..<plainLength])
            guard
                let written = REDWriter.write(
                    redundant: blocks,
                    primaryPayloadType: opusType,
                    primary: primary,
                    into: UnsafeMutableRawBufferPointer(rebasing: out[headerLength...])
                )
            else { return (plainLength, 0) }
            var rewritten = MutableRawSpan(_unsafeBytes: UnsafeMutableRawBufferPointer(rebasing: out[0..<headerLength]))
            RTPPacketRewriter.setPayloadType(redType, in: &rewritten)
            return (headerLength + written, count)
        }
    }

    /// Asks every sender that answers audio NACKs for the Opus packets its uplink lost and RED did
    /// not bring, while a retransmission can still be played.
    mutating func sendAudioNacks(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        for participant in participants.values where participant.isMediaReady && participant.audio?.answersNack == true
        {
            guard (participant.audio?.read(0, { $0.pointee.nack?.missing }) ?? 0) ?? 0 > 0,
                let mediaSSRC = participant.audio?.ssrc
            else { continue }
            let count =
                participant.audio?.encodings[0].nack?.due(now: now, rtt: participant.rtt, into: &nackScratch) ?? 0
            guard count > 0 else { continue }
            sendNack(for: mediaSSRC, sequences: count, to: participant, into: &output)
        }
    }

    /// Answers a receiver's NACK for the audio of its slot `slot` from the slot's audio cache, each
    /// packet only if it can still arrive within `audioRepairHorizon` of its first sending.
    mutating func answerAudioNack(
        _ nack: borrowing RTCPGenericNackView,
        slot: Int,
        from receiver: Participant,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard let cache = receiver.slots[slot].audioCache else { return }
        let oneWay = receiver.rtt / 2
        guard oneWay < Self.audioRepairHorizon else {
            counters.audioRetransmissionsUnavailable += 1
            return
        }
        let retention = Self.audioRepairHorizon - oneWay
        var lost = nack.lostSequenceNumbers
        while let sequence = lost.next() {
            if resend(sequence, from: cache, to: receiver, retention: retention, now: now, into: &output) {
                counters.audioRetransmissionsSent += 1
            }
        }
    }
}

extension PublishedStream {
    /// The sender's payload type for `codec`, if it offered one.
    func payloadType(of codec: MediaCodec) -> UInt8? {
        codecs.first { $0.value == codec }?.key
    }
}
