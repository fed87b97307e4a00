import ClientPeer
import MediaCore
import NIOCore
import NIOPosix

/// One simulated WebRTC PeerConnection built on MediaCore over its own UDP socket: it checks
/// connectivity with STUN as the ICE controlling agent (RFC 8445 §7.2.2, aggressive nomination with
/// USE-CANDIDATE), runs DTLS in the role `a=setup` gave it (RFC 8842 §5.1), sends the looped VP8 and
/// Opus over SRTP when it has a `MediaSendLoop`, and checks what the SFU forwards to it with a
/// `ReceiveCheck`. All state lives on the channel's event loop.
///
/// Against visit-relay a participant is one connection that sends and receives (one PeerConnection
/// per participant, docs/signaling.md). Against Janus's VideoRoom it is two: a publisher that only
/// sends, and a subscriber that only receives (`JanusTarget`).
final class LoadConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    typealias Snapshot = ReceiveCheck.Snapshot

    let name: String
    let audioSSRC: UInt32
    let videoSSRC: UInt32
    let media: LoopedMedia
    /// Our DTLS role: the client when we answer or are answered `a=setup:passive`, the server when
    /// the peer answered `a=setup:active` (Janus does, RFC 8842 §5.1).
    let dtlsRole: DtlsEndpoint.Role
    private var sendLoop: MediaSendLoop?
    /// The last video packets sent, by sequence number modulo the ring's size, to answer NACKs
    /// (RFC 4585 §6.2.1) by sending them again with their own sequence number (no RTX is offered).
    private var sentVideo: [MediaSendLoop.Packet?] = Array(repeating: nil, count: 512)
    private var receiveCheck: ReceiveCheck
    /// ICE checks, DTLS and SRTP: the client peer the in-process tests use too.
    private var transport: ClientTransport
    private(set) var remoteAddress: SocketAddress?
    private var channel: (any Channel)?
    private var iceConfirmed = false
    private var lastCheck: NIODeadline = .distantPast
    private(set) var sending = false
    private var scratch = [UInt8](repeating: 0, count: 2048)
    /// STUN is written here, not in `scratch`: answers go out while a received datagram holds that.
    private var stunScratch = [UInt8](repeating: 0, count: 512)
    /// RTCP (our NACKs) is written here, for the same reason.
    private var rtcpScratch = [UInt8](repeating: 0, count: 512)
    private var nackScratch: [UInt16] = []
    /// Packets a NACK asked for, sent once the datagram that asked is done with `scratch`.
    private var pendingResends: [MediaSendLoop.Packet] = []
    /// Gaps to NACK (SSRC, first missing sequence number, count), sent once the check is done with
    /// `snapshot`.
    private var pendingNacks: [(ssrc: UInt32, first: UInt16, count: Int)] = []
    var snapshot = Snapshot()
    /// Arrival stamps of this connection's socket (set before the channel is made).
    var arrivals: ArrivalClock?

    /// - Parameters:
    ///   - sends: whether this connection sends media (false for a receive-only subscriber).
    ///   - decodesVideo: whether this connection decodes the VP8 it receives (`SampledVideoCheck`).
    init(
        name: String,
        media: LoopedMedia,
        seed: UInt32,
        dtlsRole: DtlsEndpoint.Role = .client,
        sends: Bool = true,
        decodesVideo: Bool = false
    ) throws {
        self.name = name
        self.media = media
        self.dtlsRole = dtlsRole
        receiveCheck = ReceiveCheck(decodesVideo: decodesVideo)
        var random = SplitMix64(seed: UInt64(seed))
        transport = ClientTransport(
            ice: IceCredentials.random(using: &random),
            identity: try DtlsIdentity(commonName: name)
        )
        audioSSRC = 10_000 + seed * 2
        videoSSRC = 10_001 + seed * 2
        let audioSequence = UInt16(truncatingIfNeeded: random.next())
        let videoSequence = UInt16(truncatingIfNeeded: random.next())
        sendLoop =
            sends
            ? MediaSendLoop(
                audioSSRC: audioSSRC,
                videoSSRC: videoSSRC,
                firstAudioSequence: audioSequence,
                firstVideoSequence: videoSequence
            ) : nil
    }

    /// Where the peer's media and checks go, its ICE credentials and its certificate; call on the
    /// event loop once the peer's description is in (`LoadConnection+SDP.swift`).
    func connect(to address: SocketAddress, ufrag: String, password: String, fingerprint: DtlsFingerprint) throws {
        remoteAddress = address
        try transport.connect(ufrag: ufrag, password: password, fingerprint: fingerprint, role: dtlsRole)
    }

    var ice: IceCredentials { transport.ice }
    var identity: DtlsIdentity { transport.identity }

    /// The payload type the SFU forwards VP8 with to this connection; call on the event loop.
    func setReceivedVideoPayloadType(_ payloadType: UInt8) {
        receiveCheck.videoPayloadType = payloadType
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { [self] _ in tick() }
    }

    /// Starts (or stops) sending media, if this connection sends, the first packet `delay` from now;
    /// call on the event loop.
    func setSending(_ on: Bool, after delay: TimeAmount = .zero) {
        sending = on && sendLoop != nil
        sendLoop?.restart(at: .now() + delay)
    }

    func resetCounters() {
        let connected = snapshot.connected
        snapshot = Snapshot()
        snapshot.connected = connected
        receiveCheck.reset()
    }

    // MARK: Timers

    private func tick() {
        let now = NIODeadline.now()
        // Connectivity checks until confirmed, then consent every 2 s (RFC 7675).
        if remoteAddress != nil, now - lastCheck >= (iceConfirmed ? .seconds(2) : .milliseconds(100)) {
            lastCheck = now
            sendBindingRequest()
        }
        if let deadline = transport.dtlsTimeout, ContinuousClock.now >= deadline {
            transport.handleDtlsTimeout(now: ContinuousClock.now)
            flushDtls()
        }
        guard sending, transport.isKeyed else { return }
        sendLoop?.due(at: now, media: media) { packet in
            if packet.payloadType == MediaSendLoop.videoPayloadType {
                sentVideo[Int(packet.sequence) % sentVideo.count] = packet
            }
            sendRTP(packet)
        }
        channel?.flush()
    }

    // MARK: Sending

    private func send(_ bytes: UnsafeRawBufferPointer, flush: Bool) {
        guard let channel, let remoteAddress else { return }
        let buffer = channel.allocator.buffer(bytes: bytes)
        let envelope = AddressedEnvelope(remoteAddress: remoteAddress, data: buffer)
        if flush { channel.writeAndFlush(envelope, promise: nil) } else { channel.write(envelope, promise: nil) }
    }

    private func sendBindingRequest() {
        var generator = SystemRandomNumberGenerator()
        sendStun(
            transport.bindingRequest(
                transactionID: .random(using: &generator),
                priority: 2_122_260_223,
                fingerprint: true
            )
        )
    }

    private func sendStun(_ message: STUNMessage) {
        stunScratch.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            message.encode(into: &out)
            let length = out.finalize(for: buffer)
            send(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), flush: true)
        }
    }

    private func flushDtls() {
        while let datagram = transport.takeDtlsOutgoing() {
            datagram.withUnsafeBytes { send($0, flush: true) }
        }
    }

    /// Encrypts and queues one packet with the trailer `ReceiveCheck` reads (P bit set).
    private func sendRTP(_ packet: MediaSendLoop.Packet) {
        let header = RTPHeader(
            marker: packet.marker,
            payloadType: packet.payloadType,
            sequenceNumber: packet.sequence,
            timestamp: packet.timestamp,
            ssrc: packet.ssrc
        )
        let checksum = packet.checksum
        scratch.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            header.encode(into: &out)
            for byte in packet.payload { out.append(byte, as: UInt8.self) }
            out.append(ArrivalClock.now().bigEndian, as: UInt64.self)
            out.append(UInt8(truncatingIfNeeded: checksum >> 16), as: UInt8.self)
            out.append(UInt8(truncatingIfNeeded: checksum >> 8), as: UInt8.self)
            out.append(UInt8(truncatingIfNeeded: checksum), as: UInt8.self)
            out.append(UInt8(ReceiveCheck.trailer), as: UInt8.self)
            let plain = out.finalize(for: buffer)
            buffer[0] |= 0x20  // P: the trailer is RTP padding
            guard let protected = try? transport.protect(buffer, length: plain) else { return }
            send(UnsafeRawBufferPointer(rebasing: buffer[0..<protected]), flush: false)
            snapshot.sentPackets += 1
        }
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let length = envelope.data.readableBytes
        guard length >= 4, length <= scratch.count else { return }
        scratch.withUnsafeMutableBytes { buffer in
            envelope.data.withUnsafeReadableBytes { buffer.copyMemory(from: $0) }
            let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
            switch transport.receive(packet, now: ContinuousClock.now) {
            case .bindingRequest: answerBindingRequest(UnsafeRawBufferPointer(packet), from: envelope.remoteAddress)
            case .bindingSuccess:
                if !iceConfirmed {
                    iceConfirmed = true
                    // A client sends its ClientHello now; a server only starts waiting for one.
                    transport.startDtls(now: ContinuousClock.now)
                    flushDtls()
                }
            case .dtls(let keyed, _):
                flushDtls()
                if keyed { snapshot.connected = true }
            case .rtp(let plain): receiveRTP(UnsafeMutableRawBufferPointer(rebasing: packet[0..<plain]))
            case .rtcp(let plain): receiveRTCP(UnsafeRawBufferPointer(rebasing: packet[0..<plain]))
            case .replayed: snapshot.replays += 1
            case .badStun, .undecryptable, .other: break
            }
        }
        if !pendingResends.isEmpty {
            for stored in pendingResends {
                sendRTP(stored)
                snapshot.retransmitted += 1
            }
            pendingResends.removeAll(keepingCapacity: true)
            channel?.flush()
        }
    }

    /// Answers the peer's own checks. An ICE-lite peer sends none (RFC 8445 §2.5), but libnice in
    /// lite mode (Janus) sends a triggered check back on the pair we nominate and only takes the
    /// pair once that succeeds (RFC 8445 §7.3.1.4).
    private func answerBindingRequest(_ packet: UnsafeRawBufferPointer, from source: SocketAddress) {
        guard let request = try? STUNMessageView(validating: packet.bytes), case .v4 = source, let port = source.port
        else { return }
        // The IPv4 address straight from the sockaddr_in (RFC 3493 layout: family, port, address).
        let host: UInt32 = source.withSockAddr { pointer, size in
            size >= 8
                ? UInt32(bigEndian: UnsafeRawPointer(pointer).loadUnaligned(fromByteOffset: 4, as: UInt32.self)) : 0
        }
        guard let response = transport.bindingResponse(to: request, mapped: .ipv4(host, port: UInt16(port))) else {
            return
        }
        sendStun(response)
    }

    /// `packet` is the decrypted RTP (the transport unprotected it in place).
    private func receiveRTP(_ packet: UnsafeMutableRawBufferPointer) {
        // When the kernel queued it for us, not when this loop got to it (`ArrivalClock`).
        let received = arrivals?.lastArrival() ?? ArrivalClock.now()
        receiveCheck.record(UnsafeRawBufferPointer(packet), received: received, into: &snapshot) {
            ssrc,
            first,
            count in pendingNacks.append((ssrc, first, count))
        }
        for gap in pendingNacks { sendNack(mediaSSRC: gap.ssrc, first: gap.first, count: gap.count) }
        pendingNacks.removeAll(keepingCapacity: true)
    }

    // MARK: Repair

    /// Asks the SFU once for the `count` packets from `first` on (a generic NACK, RFC 4585 §6.2.1).
    private func sendNack(mediaSSRC: UInt32, first: UInt16, count: Int) {
        nackScratch.removeAll(keepingCapacity: true)
        for offset in 0..<count { nackScratch.append(first &+ UInt16(offset)) }
        let senderSSRC = videoSSRC
        let sent = rtcpScratch.withUnsafeMutableBytes { buffer -> Bool in
            let length = nackScratch.withUnsafeBufferPointer { lost -> Int in
                let nack = RTCPGenericNack(
                    senderSSRC: senderSSRC,
                    mediaSSRC: mediaSSRC,
                    lost: Span(_unsafeElements: lost)
                )
                guard nack.encodedSize + SrtpContext.maxTrailerLength <= buffer.count else { return 0 }
                var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                nack.encode(into: &out)
                return out.finalize(for: buffer)
            }
            guard length > 0 else { return false }
            guard let protected = try? transport.protect(buffer, length: length, rtcp: true) else { return false }
            send(UnsafeRawBufferPointer(rebasing: buffer[0..<protected]), flush: true)
            return true
        }
        if sent { snapshot.nacksSent += 1 }
    }

    /// Reads the SFU's SRTCP for NACKs of our video and sends those packets again; reports, PLIs and
    /// the rest are not needed here (the looped video has a keyframe every 3 s anyway).
    private func receiveRTCP(_ packet: UnsafeRawBufferPointer) {
        var packets = RTCPCompoundIterator(packet.bytes)
        while let rtcp = try? packets.next() {
            guard rtcp.header.packetType == RTCPPacketType.transportFeedback,
                rtcp.header.count == RTCPFeedbackFormat.nack,
                let nack = try? RTCPGenericNackView(validating: rtcp.bytes), nack.mediaSSRC == videoSSRC
            else { continue }
            var lost = nack.lostSequenceNumbers
            while let sequence = lost.next() {
                if let stored = sentVideo[Int(sequence) % sentVideo.count], stored.sequence == sequence {
                    pendingResends.append(stored)
                }
            }
        }
    }
}
