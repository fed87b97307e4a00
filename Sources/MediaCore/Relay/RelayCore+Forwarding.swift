/// Forwarding RTP to receivers, keyframe requests, and timers.
extension RelayCore {
    /// Forwards one decrypted RTP packet from `sender` to every receiver whose slot shows it (audio
    /// goes its own way, RelayCore+Audio).
    /// A retransmission the sender made on its RTX stream (RFC 4588 §4) is forwarded as the original
    /// packet it repairs: original payload type, SSRC and sequence number, without the OSN.
    mutating func forward(
        _ packet: UnsafeRawBufferPointer,
        from sender: Participant,
        now: ContinuousClock.Instant,
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
        var encoding = 0  // which of the sender's video encodings (simulcast), 0 otherwise
        if let apt = sender.video?.rtxPayloadTypes[header.payloadType] {
            guard packet.count - header.headerLength - header.paddingLength > 2 else {
                counters.drop(.paddingOnly)  // a bandwidth probe: nothing to repair
                return
            }
            guard let index = self.encoding(of: header, packet: packet, sender: sender, stream: .repair),
                let mediaSSRC = sender.video?.read(index, { $0.pointee.ssrc }) ?? nil
            else { return counters.drop(.unknownSSRC) }
            encoding = index
            header.sequence = UInt16(packet[header.headerLength]) << 8 | UInt16(packet[header.headerLength + 1])
            header.payloadType = apt
            header.ssrc = mediaSSRC
            skipBytes = 2
            isRetransmission = true
        }
        if !isRetransmission, let codec = sender.audio?.codecs[header.payloadType] {
            return forwardAudio(
                packet,
                header: header,
                codec: codec,
                transportRange: transportRange,
                from: sender,
                now: now,
                into: &output
            )
        }
        guard let codec = sender.video?.codecs[header.payloadType] else {
            counters.drop(.unknownSSRC)
            return
        }
        guard codec != .rtx else {
            counters.drop(.rtxWithoutNack)
            return
        }
        do {
            if !isRetransmission {
                guard let index = self.encoding(of: header, packet: packet, sender: sender, stream: .media) else {
                    return counters.drop(.unknownSSRC)
                }
                encoding = index
            }
            // nil without relay-side repair (no NACK generator), true for a packet not seen before.
            let isNew = sender.video?.encodings[encoding].nack?.insert(
                sequence: header.sequence,
                now: now,
                retransmission: isRetransmission
            )
            if let isNew {
                guard isNew else { return }  // a duplicate, or a retransmission we no longer wait for
                if isRetransmission { counters.recoveredByRetransmission += 1 }
            }
            sender.video?.encodings[encoding].rate.record(bytes: packet.count - header.headerLength, now: now)
        }
        if !isRetransmission { recordReception(header, audio: false, encoding: encoding, in: sender, now: now) }
        // The VP8 descriptor, read once for every receiver: keyframe starts and picture IDs.
        let payloadStart = header.headerLength + skipBytes
        var vp8 = VP8DescriptorSummary()
        if codec == .vp8 {
            vp8 = VP8DescriptorSummary(packet, payloadStart: payloadStart, paddingLength: header.paddingLength)
            assembleFrame(header: header, vp8: vp8, encoding: encoding, in: sender)
        }
        let outLength = packet.count - skipBytes
        var forwarded = false
        for sink in sender.sinks {
            let receiver = sink.receiver
            let slot = sink.slot
            guard receiver.isMediaReady else { continue }
            guard let outPayloadType = receiver.readSlot(slot, { $0.pointee.videoPayloadTypes[codec] }) else {
                continue
            }
            var picture: (pictureID: UInt16?, tl0PicIdx: UInt8?) = (nil, nil)
            do {
                let (paused, forwardedEncoding, targetEncoding) = receiver.readSlot(slot) {
                    ($0.pointee.videoPaused, $0.pointee.forwardedEncoding, $0.pointee.targetEncoding)
                }
                if paused { continue }  // the allocator paused it: audio only
                if forwardedEncoding != encoding {
                    // A resume or a switch: from the first packet of the wanted encoding's next
                    // keyframe on (RFC 7741 §4.3); until then the current encoding goes on.
                    guard encoding == targetEncoding, vp8.isKeyframeStart else { continue }
                    if forwardedEncoding != nil { counters.layerSwitches += 1 }
                    receiver.slots[slot].forwardedEncoding = encoding
                }
            }
            guard
                let mapping = receiver.slots[slot].video.map(
                    sourceSSRC: header.ssrc,
                    sequence: header.sequence,
                    timestamp: header.timestamp,
                    payloadLength: outLength - header.headerLength,
                    now: now
                )
            else { continue }
            if vp8.pictureIDOffset != nil || vp8.tl0PicIdxOffset != nil {
                picture = receiver.slots[slot].pictureIDs.map(
                    sourceSSRC: header.ssrc,
                    pictureID: vp8.pictureID,
                    longPictureID: vp8.longPictureID,
                    tl0PicIdx: vp8.tl0PicIdx
                )
            }
            let (outSSRC, cache) = receiver.readSlot(slot) { ($0.pointee.video.ssrc, $0.pointee.videoCache) }
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
            let sent = sendVideo(
                .video,
                slot: slot,
                transportSequenceAt: renumberAt,
                to: receiver,
                now: now,
                into: &output
            ) { buffer in
                guard outLength <= buffer.count else { return 0 }
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<headerLength]))
                UnsafeMutableRawBufferPointer(rebasing: buffer[headerLength..<outLength])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[(headerLength + skipBytes)...]))
                let out = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<outLength])
                var rewritten = MutableRawSpan(_unsafeBytes: out)
                RTPPacketRewriter.setSSRC(outSSRC, in: &rewritten)
                RTPPacketRewriter.setSequenceNumber(mapping.sequence, in: &rewritten)
                RTPPacketRewriter.setTimestamp(mapping.timestamp, in: &rewritten)
                RTPPacketRewriter.setPayloadType(outPayloadType, in: &rewritten)
                if let extensionOffset {
                    RTPPacketRewriter.remapExtensionIDs(extensionTable, blockOffset: extensionOffset, in: &rewritten)
                }
                vp8.write(picture, payloadStart: headerLength, into: out)
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

    /// Which encoding a packet of `sender`'s video belongs to, `stream` saying whether it is media or
    /// RTX (RFC 4588): by SSRC once known; an unknown SSRC is learned from its RtpStreamId or
    /// RepairedRtpStreamId extension (RFC 8852 §3) with simulcast, or taken as the only encoding's
    /// without, in either case only while that encoding's stream has no SSRC yet.
    func encoding(
        of header: RtpHeaderSummary,
        packet: UnsafeRawBufferPointer,
        sender: Participant,
        stream: EncodingStream
    ) -> Int? {
        guard let video = sender.video else { return nil }
        if let index = video.encoding(sending: header.ssrc, on: stream) { return index }
        var index = 0
        if video.isSimulcast {
            guard let id = video.ridExtension(of: stream), let named = Self.encoding(named: id, in: packet, of: video)
            else { return nil }
            index = named
        }
        guard video.encodings[index].ssrc(of: stream) == nil else { return nil }
        sender.video?.encodings[index].setSSRC(header.ssrc, of: stream)
        return index
    }

    /// The encoding whose rid the packet's extension `id` carries.
    static func encoding(named id: UInt8, in packet: UnsafeRawBufferPointer, of video: PublishedStream) -> Int? {
        guard let view = try? RTPPacketView(validating: packet.bytes), let range = view.extensionRange(id: id) else {
            return nil
        }
        return video.encoding(rid: UnsafeRawBufferPointer(rebasing: packet[range]))
    }

    /// Feeds a VP8 packet's frame boundaries (RFC 7741 §4.2: S bit with partition 0 starts a frame,
    /// the RTP marker ends it; §4.3: keyframe) to the encoding's frame assembler.
    mutating func assembleFrame(
        header: RtpHeaderSummary,
        vp8: VP8DescriptorSummary,
        encoding: Int,
        in sender: Participant
    ) {
        guard vp8.isValid, sender.video != nil else { return }
        // In place (a modify access): reading the assembler out of the encodings array would copy it.
        func insert(_ frames: inout FrameAssembler?) -> (completed: Bool, newKeyframes: Int)? {
            guard frames != nil else { return nil }
            let before = frames!.keyframes
            let completed = frames!.insert(
                sequence: header.sequence,
                timestamp: header.timestamp,
                frameStart: vp8.isFrameStart,
                frameEnd: header.marker,
                keyframe: vp8.isKeyframeStart
            )
            return (completed, frames!.keyframes - before)
        }
        guard let (completed, newKeyframes) = insert(&sender.video!.encodings[encoding].frames) else { return }
        if completed { counters.framesAssembled += 1 }
        counters.keyframesReceived += newKeyframes
    }

    /// A receiver asked for a keyframe of the stream it knows as `mediaSSRC`: the encoding its slot
    /// forwards (or waits for) owes one.
    mutating func requestKeyframe(for mediaSSRC: UInt32, asked participant: Participant) {
        guard let request = participant.slots.first(where: { $0.video.ssrc == mediaSSRC })?.keyframeRequest else {
            return
        }
        keyframes.request(request, reason: .receiverAsked)
    }

    /// Runs due timers: DTLS retransmission, session lifetime (connect bound, consent freshness),
    /// keyframe requests, repair, allocation, feedback and reports.
    public mutating func handleTimers(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        latchAttemptsLeft = Self.latchAttemptsPerTick
        for participant in participants.values {
            // Flights are retransmitted only during the handshake; once SRTP is keyed there is no
            // DTLS timer (and reading the endpoint's deadline costs a generic copy per participant).
            if participant.srtpOutbound == nil, let deadline = participant.dtls.nextTimeout, now >= deadline {
                let event = participant.dtls.handleTimeout(now: now)
                flushDtls(participant, into: &output)
                handle(event, of: participant, now: now)
            }
            if participant.ice.checkConsent(now: now) {
                endSession(participant, participant.lifetime.consentExpired())
            }
            if let deadline = participant.lifetime.deadline, now >= deadline {
                endSession(participant, participant.lifetime.poll(now: now))
            }
        }
        removeEndedSessions(now: now)
        sendNacks(now: now, into: &output)
        sendAudioNacks(now: now, into: &output)
        sendKeyframeRequests(now: now, into: &output)
        allocateDownlinks(now: now, into: &output)
        sendRembs(now: now, into: &output)
        sendTransportFeedback(now: now, into: &output)
        sampleTraffic(now: now)
        sendReports(now: now, into: &output)
        drainPacers(now: now, into: &output)
    }

    /// Sends one PLI (RFC 4585 §6.3.1) for each encoding that owes its receivers a keyframe and may
    /// be asked now (`KeyframeRequestScheduler`), counted under the reason it was first asked for.
    mutating func sendKeyframeRequests(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {
        guard !keyframes.isEmpty else { return }
        keyframeScratch.removeAll(keepingCapacity: true)
        keyframeScratch.append(contentsOf: keyframes.pending.keys)
        for request in keyframeScratch {
            guard let source = participants[request.source], let encodings = source.video?.encodings.count,
                request.encoding < encodings
            else {
                keyframes.cancel(request)
                continue
            }
            guard source.isMediaReady, let mediaSSRC = source.video?.encodings[request.encoding].ssrc
            else { continue }  // keep it pending until the source can be reached and has sent that encoding
            guard keyframes.mayGo(request, now: now), let reason = keyframes.sent(request, now: now) else { continue }
            let senderSSRC = source.rtcpSSRC
            let pli = RTCPPictureLossIndication(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC)
            let appended = sendProtected(to: source, rtcp: true, into: &output) { slot in
                guard pli.encodedSize <= slot.count else { return 0 }
                var out = OutputRawSpan(buffer: slot, initializedCount: 0)
                pli.encode(into: &out)
                return out.finalize(for: slot)
            }
            if appended {
                counters.keyframeRequestsSent += 1
                counters.keyframeRequestsSentFor[reason.rawValue] += 1
            }
        }
    }
}
