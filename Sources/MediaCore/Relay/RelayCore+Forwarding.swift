/// Forwarding RTP to receivers, keyframe requests, and timers.
extension RelayCore {
    /// Forwards one decrypted RTP packet from `sender` to every receiver whose slot shows it.
    /// A retransmission the sender made on its RTX stream (RFC 4588 §4) is forwarded as the original
    /// packet it repairs: original payload type, SSRC and sequence number, without the OSN.
    mutating func forward(
        _ packet: UnsafeRawBufferPointer, from sender: Participant, now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        var header: RtpHeaderSummary
        var transportSequence: UInt16?
        var transportRange: Range<Int>?  // where the sender's transport-wide number sits in the packet
        do {
            let view = try RTPPacketView(validating: packet.bytes)
            header = RtpHeaderSummary(view)
            if let id = sender.transportSequenceExtension, let range = view.extensionRange(id: id), range.count == 2 {
                transportRange = range
                transportSequence = UInt16(packet[range.lowerBound]) << 8 | UInt16(packet[range.lowerBound + 1])
            }
        } catch {
            counters.drop(.rtpMalformed)
            return
        }
        // Every packet counts for congestion control, probes and retransmissions included.
        if let transportSequence { sender.transportFeedback?.record(sequence: transportSequence, arrival: now) }
        var skipBytes = 0  // bytes after the header not forwarded (the RTX OSN)
        var isRetransmission = false
        if let apt = sender.video?.rtxPayloadTypes[header.payloadType] {
            guard packet.count - header.headerLength - header.paddingLength > 2 else {
                counters.drop(.paddingOnly)  // a bandwidth probe: nothing to repair
                return
            }
            if sender.video?.rtxSSRC == nil { sender.video?.rtxSSRC = header.ssrc }
            guard sender.video?.rtxSSRC == header.ssrc, let mediaSSRC = sender.video?.ssrc else {
                return counters.drop(.unknownSSRC)
            }
            header.sequence = UInt16(packet[header.headerLength]) << 8 | UInt16(packet[header.headerLength + 1])
            header.payloadType = apt
            header.ssrc = mediaSSRC
            skipBytes = 2
            isRetransmission = true
        }
        let isAudio: Bool
        let codec: MediaCodec
        if let c = sender.audio?.codecs[header.payloadType] {
            isAudio = true
            codec = c
        } else if let c = sender.video?.codecs[header.payloadType] {
            isAudio = false
            codec = c
        } else {
            counters.drop(.unknownSSRC)
            return
        }
        guard codec != .rtx else {
            counters.drop(.rtxWithoutNack)
            return
        }
        if isAudio {
            if sender.audio?.ssrc == nil { sender.audio?.ssrc = header.ssrc }
            guard sender.audio?.ssrc == header.ssrc else { return counters.drop(.unknownSSRC) }
        } else {
            if sender.video?.ssrc == nil { sender.video?.ssrc = header.ssrc }
            guard sender.video?.ssrc == header.ssrc else { return counters.drop(.unknownSSRC) }
            if sender.video?.nack != nil {
                let isNew = sender.video?.nack?.insert(sequence: header.sequence, now: now, retransmission: isRetransmission) ?? true
                guard isNew else { return }  // a duplicate, or a retransmission we no longer wait for
                if isRetransmission { counters.recoveredByRetransmission += 1 }
            }
        }
        if !isRetransmission { recordReception(header, audio: isAudio, in: sender, now: now) }
        if codec == .vp8 { assembleFrame(packet, header: header, payloadStart: header.headerLength + skipBytes, in: sender) }
        let outLength = packet.count - skipBytes
        var forwarded = false
        for receiverID in rooms[sender.room] ?? [] where receiverID != sender.id {
            guard let receiver = participants[receiverID], receiver.isMediaReady,
                let slot = receiver.slotIndex(showing: sender.id)
            else { continue }
            let payloadTypes = isAudio ? receiver.slots[slot].audioPayloadTypes : receiver.slots[slot].videoPayloadTypes
            guard let outPayloadType = payloadTypes[codec] else { continue }
            if !isAudio {
                if receiver.slots[slot].videoPaused { continue }  // the allocator paused it: audio only
                if receiver.slots[slot].awaitingKeyframe {
                    // Resuming: from the first packet of a keyframe on (RFC 7741 §4.3).
                    guard codec == .vp8, Self.startsKeyframe(packet, payloadStart: header.headerLength + skipBytes, paddingLength: header.paddingLength)
                    else { continue }
                    receiver.slots[slot].awaitingKeyframe = false
                }
            }
            let mapping =
                isAudio
                ? receiver.slots[slot].audio.map(
                    sourceSSRC: header.ssrc, sequence: header.sequence, timestamp: header.timestamp,
                    payloadLength: outLength - header.headerLength, now: now)
                : receiver.slots[slot].video.map(
                    sourceSSRC: header.ssrc, sequence: header.sequence, timestamp: header.timestamp,
                    payloadLength: outLength - header.headerLength, now: now)
            guard let mapping else { continue }
            let outSSRC = isAudio ? receiver.slots[slot].audio.ssrc : receiver.slots[slot].video.ssrc
            let cache = isAudio ? nil : receiver.slots[slot].videoCache
            let headerLength = header.headerLength
            let extensionOffset = header.extensionOffset
            // The sender's transport-wide number becomes ours towards this receiver (its id, our count),
            // when the receiver gives feedback; every other extension is stripped.
            var extensionTable = RtpHeaderSummary.stripAllExtensions
            var renumberAt: Int?
            if receiver.downlink != nil, let senderID = sender.transportSequenceExtension,
                let receiverID = receiver.transportSequenceExtension, let range = transportRange
            {
                extensionTable[Int(senderID) - 1] = receiverID
                renumberAt = range.lowerBound
            }
            let sent = sendProtected(to: receiver, rtcp: false, into: &output) { slot in
                guard outLength <= slot.count else { return 0 }
                slot.copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<headerLength]))
                UnsafeMutableRawBufferPointer(rebasing: slot[headerLength..<outLength])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[(headerLength + skipBytes)...]))
                let out = UnsafeMutableRawBufferPointer(rebasing: slot[0..<outLength])
                var rewritten = MutableRawSpan(_unsafeBytes: out)
                RTPPacketRewriter.setSSRC(outSSRC, in: &rewritten)
                RTPPacketRewriter.setSequenceNumber(mapping.sequence, in: &rewritten)
                RTPPacketRewriter.setTimestamp(mapping.timestamp, in: &rewritten)
                RTPPacketRewriter.setPayloadType(outPayloadType, in: &rewritten)
                if let extensionOffset {
                    RTPPacketRewriter.remapExtensionIDs(extensionTable, blockOffset: extensionOffset, in: &rewritten)
                }
                if let renumberAt, let number = receiver.downlink?.packetSent(size: outLength, now: now) {
                    rewritten.storeBytes(of: UInt8(number >> 8), toByteOffset: renumberAt, as: UInt8.self)
                    rewritten.storeBytes(of: UInt8(truncatingIfNeeded: number), toByteOffset: renumberAt + 1, as: UInt8.self)
                }
                cache?.store(UnsafeRawBufferPointer(out), sequence: mapping.sequence, now: now)
                return outLength
            }
            if sent {
                forwarded = true
                counters.rtpForwarded += 1
                counters.bytesForwarded += outLength
            }
        }
        if !forwarded { counters.drop(.noReceiver) }
    }

    /// Whether a VP8 RTP payload is the first packet of a keyframe.
    static func startsKeyframe(_ packet: UnsafeRawBufferPointer, payloadStart: Int, paddingLength: Int) -> Bool {
        let payloadEnd = packet.count - paddingLength
        guard payloadEnd > payloadStart else { return false }
        let payload = UnsafeRawBufferPointer(rebasing: packet[payloadStart..<payloadEnd])
        guard let descriptor = try? VP8PayloadDescriptorView(validating: payload.bytes) else { return false }
        return descriptor.isKeyframe
    }

    /// Feeds a VP8 packet's frame boundaries (RFC 7741 §4.2: S bit with partition 0 starts a frame,
    /// the RTP marker ends it; §4.3: keyframe) to the sender's frame assembler.
    mutating func assembleFrame(_ packet: UnsafeRawBufferPointer, header: RtpHeaderSummary, payloadStart: Int, in sender: Participant) {
        guard sender.video?.frames != nil else { return }
        let payloadEnd = packet.count - header.paddingLength
        guard payloadEnd > payloadStart else { return }
        let payload = UnsafeRawBufferPointer(rebasing: packet[payloadStart..<payloadEnd])
        guard let descriptor = try? VP8PayloadDescriptorView(validating: payload.bytes) else { return }
        let keyframesBefore = sender.video?.frames?.keyframes ?? 0
        let completed = sender.video?.frames?.insert(
            sequence: header.sequence, timestamp: header.timestamp, frameStart: descriptor.isFrameStart,
            frameEnd: header.marker, keyframe: descriptor.isKeyframe) ?? false
        if completed { counters.framesAssembled += 1 }
        counters.keyframesReceived += (sender.video?.frames?.keyframes ?? 0) - keyframesBefore
    }

    /// A receiver asked for a keyframe of the stream it knows as `mediaSSRC`: the slot's source owes one.
    mutating func requestKeyframe(for mediaSSRC: UInt32, asked participant: Participant) {
        guard let slot = participant.slots.first(where: { $0.video.ssrc == mediaSSRC }), let source = slot.source else { return }
        pendingKeyframeRequests.insert(source)
    }

    /// Runs due timers: DTLS retransmission, consent freshness, keyframe requests.
    public mutating func handleTimers(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        latchAttemptsLeft = Self.latchAttemptsPerTick
        for participant in participants.values {
            if let deadline = participant.dtls.nextTimeout, now >= deadline {
                let event = participant.dtls.handleTimeout(now: now)
                flushDtls(participant, into: &output)
                handle(event, of: participant, now: now)
            }
            if participant.ice.checkConsent(now: now) {
                events.append(.participantDisconnected(participant.id, reason: "ICE consent expired"))
            }
        }
        sendNacks(now: now, into: &output)
        sendKeyframeRequests(now: now, into: &output)
        allocateDownlinks(now: now, into: &output)
        sendRembs(now: now, into: &output)
        sendTransportFeedback(now: now, into: &output)
        sampleTraffic(now: now)
        sendReports(now: now, into: &output)
    }

    /// Sends one PLI (RFC 4585 §6.3.1) to each source that owes its receivers a keyframe,
    /// at most once per `keyframeRequestInterval`.
    mutating func sendKeyframeRequests(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        guard !pendingKeyframeRequests.isEmpty else { return }
        for id in pendingKeyframeRequests {
            guard let source = participants[id] else {
                pendingKeyframeRequests.remove(id)
                continue
            }
            guard source.isMediaReady, let mediaSSRC = source.video?.ssrc
            else { continue }  // keep it pending until the source can be reached and has sent video
            if let last = source.lastKeyframeRequest, now - last < Self.keyframeRequestInterval { continue }
            source.lastKeyframeRequest = now
            pendingKeyframeRequests.remove(id)
            let senderSSRC = source.rtcpSSRC
            let pli = RTCPPictureLossIndication(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC)
            let appended = sendProtected(to: source, rtcp: true, into: &output) { slot in
                guard pli.encodedSize <= slot.count else { return 0 }
                var out = OutputRawSpan(buffer: slot, initializedCount: 0)
                pli.encode(into: &out)
                return out.finalize(for: slot)
            }
            if appended { counters.keyframeRequestsSent += 1 }
        }
    }
}
