/// The data path: one datagram in, zero or more datagrams out (DESIGN.md "One datagram's way").
extension RelayCore {
    /// Handles one received datagram (STUN, DTLS, SRTP or SRTCP by RFC 7983 first byte) in place.
    /// `datagram` may be modified (SRTP is decrypted in place).
    public mutating func receive(
        _ datagram: UnsafeMutableRawBufferPointer,
        length: Int,
        from source: TransportAddress,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        counters.datagramsIn += 1
        counters.bytesIn += length
        guard length >= 4, length <= datagram.count else {
            counters.drop(.tooShort)
            return
        }
        let packet = UnsafeMutableRawBufferPointer(rebasing: datagram[0..<length])
        // Work for a source no participant has proven (STUN integrity, latching) is budgeted per source.
        let known = byAddress[source]
        if known == nil, !unknownSources.admit(source, now: now) {
            counters.drop(.rateLimited)
            return
        }
        switch DatagramKind(firstByte: packet[0], secondByte: packet[1]) {
        case .stun: receiveStun(UnsafeRawBufferPointer(packet), from: source, now: now, into: &output)
        case .dtls: receiveDtls(UnsafeRawBufferPointer(packet), known: known, from: source, now: now, into: &output)
        case .rtp: receiveSrtp(packet, isRTCP: false, known: known, from: source, now: now, into: &output)
        case .rtcp: receiveSrtp(packet, isRTCP: true, known: known, from: source, now: now, into: &output)
        case .unknown: counters.drop(.unknownKind)
        }
    }

    // MARK: STUN (ICE-lite responder)

    /// An ICE-lite agent answers Binding requests only (RFC 8445 §7.3): the USERNAME must name one
    /// of our participants and its remote ufrag, MESSAGE-INTEGRITY must verify under our password.
    private mutating func receiveStun(
        _ packet: UnsafeRawBufferPointer,
        from source: TransportAddress,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        let message: STUNMessageView
        do {
            message = try STUNMessageView(validating: packet.bytes)
        } catch {
            counters.drop(.stunMalformed)
            return
        }
        guard message.messageType == .bindingRequest else {
            counters.drop(.stunNotRequest)
            return
        }
        // Ufrags are short ASCII (RFC 8839 §5.4): Swift keeps up to 15 bytes inline, no allocation.
        guard let names = message.iceUsername, message.integrityOffset != nil,
            let id = byUfrag[String(decoding: UnsafeRawBufferPointer(rebasing: packet[names.receiver]), as: UTF8.self)],
            let participant = participants[id]
        else {
            counters.drop(.stunUnknownUsername)
            return
        }
        guard participant.ice.remoteUfrag.utf8.elementsEqual(packet[names.sender]),
            message.verifyIntegrity(password: participant.ice.local.pwd)
        else {
            counters.drop(.stunBadIntegrity)
            return
        }
        let change = participant.ice.handleAuthenticatedRequest(
            from: source,
            useCandidate: message.useCandidate,
            now: now
        )
        if case .selected = change, participant.isMediaReady {
            requestKeyframes(forReceiver: participant, reason: .pathMoved)
        }
        byAddress[source] = id
        var response = STUNMessage(type: .bindingSuccess, transactionID: message.transactionID)
        response.xorMappedAddress = source.stunAddress
        response.integrityPassword = participant.ice.local.pwd
        output.append(to: source) { slot in
            guard response.encodedSize <= slot.count else { return 0 }
            var out = OutputRawSpan(buffer: slot, initializedCount: 0)
            response.encode(into: &out)
            return out.finalize(for: slot)
        }
    }

    // MARK: DTLS

    private mutating func receiveDtls(
        _ packet: UnsafeRawBufferPointer,
        known: ParticipantID?,
        from source: TransportAddress,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard let id = known, let participant = participants[id] else {
            counters.drop(.dtlsBeforeIce)
            return
        }
        participant.dtlsPeer = source
        let event = participant.dtls.receive(packet.bytes, now: now)
        flushDtls(participant, into: &output)
        handle(event, of: participant, now: now)
    }

    func flushDtls(_ participant: Participant, into output: inout OutgoingDatagrams) {
        guard let peer = participant.dtlsPeer ?? participant.ice.selectedAddress else { return }
        while let datagram = participant.dtls.takeOutgoing() {
            datagram.withUnsafeBytes { _ = output.append($0, to: peer) }
        }
    }

    mutating func handle(_ event: DtlsEvent?, of participant: Participant, now: ContinuousClock.Instant) {
        switch event {
        case .none:
            return
        case .connected(let keys):
            do {
                participant.srtpInbound = try SrtpContext(
                    profile: keys.profile,
                    keyAndSalt: keys.remote,
                    direction: .inbound,
                    rtp: configuration.srtpRTP
                )
                participant.srtpOutbound = try SrtpContext(
                    profile: keys.profile,
                    keyAndSalt: keys.local,
                    direction: .outbound,
                    rtp: configuration.srtpRTP
                )
            } catch {
                counters.drop(.dtlsFailed)
                endSession(participant, participant.lifetime.dtlsFailed())
                return
            }
            participant.lifetime.mediaReady()
            // The participant can now receive: its sources should send keyframes.
            requestKeyframes(forReceiver: participant, reason: .newReceiver)
            requestKeyframes(from: participant.id)
        case .failed:
            counters.drop(.dtlsFailed)
            endSession(participant, participant.lifetime.dtlsFailed())
        case .closed:
            endSession(participant, participant.lifetime.dtlsClosed())
        }
    }

    // MARK: SRTP and SRTCP

    private mutating func receiveSrtp(
        _ packet: UnsafeMutableRawBufferPointer,
        isRTCP: Bool,
        known: ParticipantID?,
        from source: TransportAddress,
        now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        var known = known
        // From an address we do not know, RTP may still come from a participant whose modem handed
        // over: find it by SSRC and let SRTP authentication decide (a bounded number per tick).
        let latching = known == nil && !isRTCP && source.transport == .udp
        if latching { known = latchCandidate(packet, from: source) }
        guard let id = known, let participant = participants[id] else {
            counters.drop(.unknownAddress)
            return
        }
        guard participant.srtpInbound != nil else {
            counters.drop(.srtpBeforeDtls)
            return
        }
        participant.traffic.bytesIn &+= UInt64(packet.count)
        var plainLength = 0
        do throws(SrtpError) {
            var bytes = packet.mutableBytes
            plainLength =
                isRTCP
                ? try participant.srtpInbound?.unprotectRTCP(&bytes, length: packet.count) ?? 0
                : try participant.srtpInbound?.unprotectRTP(&bytes, length: packet.count) ?? 0
        } catch {
            counters.drop(latching ? .unknownAddress : error == .replayed ? .srtpReplay : .srtpAuthentication)
            return
        }
        var change = IceLiteAgent.Change.none
        if latching {
            byAddress[source] = id
            counters.addressLatches += 1
            change = participant.ice.adoptAuthenticatedMediaSource(source, now: now)
        }
        if case .none = change { change = participant.ice.noteAuthenticatedPacket(from: source, now: now) }
        if case .selected = change { requestKeyframes(forReceiver: participant, reason: .pathMoved) }
        let plain = UnsafeRawBufferPointer(rebasing: packet[0..<plainLength])
        if isRTCP {
            counters.rtcpIn += 1
            receiveRTCP(plain, from: participant, now: now, into: &output)
        } else {
            forward(plain, from: participant, now: now, into: &output)
        }
    }

    /// The participant whose SRTP an RTP packet from an unknown address claims to be (by its SSRC),
    /// within this tick's budget of authentication attempts.
    /// Only on the transport the participant already uses: a browser on ICE-TCP does not move to UDP
    /// without a check.
    private mutating func latchCandidate(
        _ packet: UnsafeMutableRawBufferPointer,
        from source: TransportAddress
    ) -> ParticipantID? {
        guard packet.count >= 12, latchAttemptsLeft > 0 else { return nil }
        let ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
        for participant in participants.values
        where participant.isMediaReady && participant.ice.selectedAddress?.transport == source.transport {
            if participant.audio?.ssrc == ssrc || participant.video?.contains(ssrc: ssrc) == true {
                latchAttemptsLeft -= 1
                return participant.id
            }
        }
        return nil
    }
}
