/// The data path: one datagram in, zero or more datagrams out (DESIGN.md "One datagram's way").
extension RelayCore {
    /// Handles one received datagram (STUN, DTLS, SRTP or SRTCP by RFC 7983 first byte) in place.
    /// `datagram` may be modified (SRTP is decrypted in place).
    public mutating func receive(
        _ datagram: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress,
        now: ContinuousClock.Instant, into output: inout OutgoingDatagrams
    ) {
        counters.datagramsIn += 1
        counters.bytesIn += length
        guard length >= 4, length <= datagram.count else {
            counters.drop(.tooShort)
            return
        }
        let packet = UnsafeMutableRawBufferPointer(rebasing: datagram[0..<length])
        switch DatagramKind(firstByte: packet[0], secondByte: packet[1]) {
        case .stun: receiveStun(UnsafeRawBufferPointer(packet), from: source, now: now, into: &output)
        case .dtls: receiveDtls(UnsafeRawBufferPointer(packet), from: source, now: now, into: &output)
        case .rtp: receiveSrtp(packet, isRTCP: false, from: source, now: now, into: &output)
        case .rtcp: receiveSrtp(packet, isRTCP: true, from: source, now: now, into: &output)
        case .unknown: counters.drop(.unknownKind)
        }
    }

    // MARK: STUN (ICE-lite responder)

    private mutating func receiveStun(
        _ packet: UnsafeRawBufferPointer, from source: TransportAddress, now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        let request: StunBindingRequestSummary
        switch StunWire.bindingRequest(packet) {
        case .success(let summary): request = summary
        case .failure(let reason):
            counters.drop(reason)
            return
        }
        guard let id = byUfrag[request.localUfrag], let participant = participants[id] else {
            counters.drop(.stunUnknownUsername)
            return
        }
        guard request.remoteUfrag == participant.ice.remoteUfrag,
            StunWire.verifyIntegrity(packet, password: participant.ice.local.pwd)
        else {
            counters.drop(.stunBadIntegrity)
            return
        }
        _ = participant.ice.handleAuthenticatedRequest(from: source, useCandidate: request.useCandidate, now: now)
        byAddress[source] = id
        let password = participant.ice.local.pwd
        output.append(to: source) { slot in
            StunWire.bindingSuccess(for: packet, mappedAddress: source, password: password, into: slot)
        }
    }

    // MARK: DTLS

    private mutating func receiveDtls(
        _ packet: UnsafeRawBufferPointer, from source: TransportAddress, now: ContinuousClock.Instant,
        into output: inout OutgoingDatagrams
    ) {
        guard let id = byAddress[source], let participant = participants[id] else {
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
                participant.srtpInbound = try SrtpContext(profile: keys.profile, keyAndSalt: keys.remote, direction: .inbound)
                participant.srtpOutbound = try SrtpContext(profile: keys.profile, keyAndSalt: keys.local, direction: .outbound)
            } catch {
                counters.drop(.dtlsFailed)
                events.append(.participantDisconnected(participant.id, reason: "SRTP set-up failed: \(error)"))
                return
            }
            // The participant can now receive: its sources should send keyframes.
            for slot in participant.slots { if let source = slot.source { pendingKeyframeRequests.insert(source) } }
            pendingKeyframeRequests.insert(participant.id)
        case .failed(let error):
            counters.drop(.dtlsFailed)
            events.append(.participantDisconnected(participant.id, reason: "DTLS failed: \(error)"))
        case .closed:
            events.append(.participantDisconnected(participant.id, reason: "DTLS closed by peer"))
        }
    }

    // MARK: SRTP and SRTCP

    private mutating func receiveSrtp(
        _ packet: UnsafeMutableRawBufferPointer, isRTCP: Bool, from source: TransportAddress,
        now: ContinuousClock.Instant, into output: inout OutgoingDatagrams
    ) {
        guard let id = byAddress[source], let participant = participants[id] else {
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
            counters.drop(error == .replayed ? .srtpReplay : .srtpAuthentication)
            return
        }
        _ = participant.ice.noteAuthenticatedPacket(from: source, now: now)
        let plain = UnsafeRawBufferPointer(rebasing: packet[0..<plainLength])
        if isRTCP {
            counters.rtcpIn += 1
            receiveRTCP(plain, from: participant, now: now, into: &output)
        } else {
            forward(plain, from: participant, now: now, into: &output)
        }
    }
}
