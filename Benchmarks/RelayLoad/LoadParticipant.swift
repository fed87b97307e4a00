import Histogram
import MediaCore
import NIOCore
import NIOPosix

/// One simulated participant: a real WebRTC client built on MediaCore over its own UDP socket. It
/// checks connectivity with STUN, runs DTLS as the client, sends the looped VP8 and Opus over SRTP
/// and decrypts, checks and times what the relay forwards to it. All state lives on the channel's
/// event loop.
///
/// Every RTP packet carries 12 bytes of RTP padding (RFC 3550 §5.1: the last byte counts them; the
/// others are free): the send instant in nanoseconds, then a 24-bit checksum of the payload. The
/// relay forwards padding untouched, so the receiver reads how long the packet took through the
/// relay without a shared table, and checks the payload arrived as sent. One sampled participant
/// also decodes the video it receives with libvpx (`SampledVideoCheck`).
final class LoadParticipant: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Snapshot: Sendable {
        var connected = false
        var sentPackets = 0
        var receivedPackets = 0
        var receivedBytes = 0
        var gaps = 0
        var replays = 0
        /// Packets whose payload did not match the checksum in their trailer.
        var corrupted = 0
        /// The sampled decoder's counts (zero on participants that do not decode).
        var video = SampledVideoCheck.Counts()
        var latencyMicroseconds = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    static let trailer = 12
    static let audioPayloadType: UInt8 = 111
    static let videoPayloadType: UInt8 = 96

    let name: String
    let ice: IceCredentials
    let identity: DtlsIdentity
    let audioSSRC: UInt32
    let videoSSRC: UInt32
    let media: LoopedMedia
    private let videoCheck: SampledVideoCheck?
    private var relayUfrag = ""
    private var relayPassword = ""
    private(set) var relayAddress: SocketAddress?
    private var dtls: DtlsEndpoint?
    private var srtpOut: SrtpContext?
    private var srtpIn: SrtpContext?
    private var channel: (any Channel)?
    private var iceConfirmed = false
    private var lastCheck: NIODeadline = .distantPast
    private(set) var sending = false
    private var nextAudio: NIODeadline = .now()
    private var nextVideo: NIODeadline = .now()
    private var audioSequence: UInt16 = 0
    private var videoSequence: UInt16 = 0
    private var audioTimestamp: UInt32 = 0
    private var videoTimestamp: UInt32 = 0
    private var audioIndex = 0
    private var frameIndex = 0
    private var expected: [UInt32: UInt16] = [:]
    private var scratch = [UInt8](repeating: 0, count: 2048)
    var snapshot = Snapshot()

    init(name: String, media: LoopedMedia, seed: UInt32, decodesVideo: Bool = false) throws {
        self.name = name
        self.media = media
        videoCheck = decodesVideo ? SampledVideoCheck() : nil
        var random = SplitMix64(seed: UInt64(seed))
        ice = IceCredentials.random(using: &random)
        identity = try DtlsIdentity(commonName: name)
        audioSSRC = 10_000 + seed * 2
        videoSSRC = 10_001 + seed * 2
        audioSequence = UInt16(truncatingIfNeeded: random.next())
        videoSequence = UInt16(truncatingIfNeeded: random.next())
    }

    /// A Chromium-shaped offer in the relay's fixed-slot layout (docs/signaling.md): audio and video
    /// to send, then `slots` audio/video pairs to receive.
    func offer(slots: Int) -> String {
        var sdp = SessionDescription(origin: "- \(audioSSRC) 2 IN IP4 127.0.0.1")
        sdp.timings = ["0 0"]
        sdp.add("group", "BUNDLE " + (0..<(2 + 2 * slots)).map(String.init).joined(separator: " "))
        func section(_ kind: String, mid: Int, direction: String, ssrc: UInt32?) {
            let audio = kind == "audio"
            let pt = audio ? Self.audioPayloadType : Self.videoPayloadType
            var media = SDPMediaSection(kind: kind, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["\(pt)"], connection: "IN IP4 0.0.0.0")
            media.add("ice-ufrag", ice.ufrag)
            media.add("ice-pwd", ice.pwd)
            media.add("fingerprint", identity.fingerprint.sdpValue)
            media.add("setup", "actpass")
            media.add("mid", "\(mid)")
            media.add(direction)
            media.add("rtcp-mux")
            media.add("rtpmap", audio ? SDPRtpMap(payloadType: pt, codec: "opus", clockRate: 48_000, channels: 2).attributeValue
                                      : SDPRtpMap(payloadType: pt, codec: "VP8", clockRate: 90_000).attributeValue)
            if !audio { media.add("rtcp-fb", SDPRtcpFeedback(payloadType: pt, type: "nack", parameter: "pli").attributeValue) }
            if let ssrc { media.add("ssrc", "\(ssrc) cname:\(name)") }
            sdp.media.append(media)
        }
        section("audio", mid: 0, direction: "sendonly", ssrc: audioSSRC)
        section("video", mid: 1, direction: "sendonly", ssrc: videoSSRC)
        for slot in 0..<slots {
            section("audio", mid: 2 + 2 * slot, direction: "recvonly", ssrc: nil)
            section("video", mid: 3 + 2 * slot, direction: "recvonly", ssrc: nil)
        }
        return sdp.text
    }

    enum SetupError: Error { case answer(String) }

    /// Reads the relay's ICE credentials, fingerprint and UDP candidate from its answer; media and
    /// checks go to `via` instead of the candidate when given (a link-emulator in front of the relay).
    func accept(answer: String, via: SocketAddress? = nil) throws {
        let sdp = try SDPParser().parse(answer)
        guard let section = sdp.media.first, let ufrag = section.value(of: "ice-ufrag"), let pwd = section.value(of: "ice-pwd"),
            let fingerprint = sdp.fingerprint(media: 0).flatMap({ DtlsFingerprint(bytes: $0.bytes) }),
            let candidate = section.candidates.first(where: { $0.transport == "udp" })
        else { throw SetupError.answer("no ICE, fingerprint or UDP candidate in the answer") }
        relayUfrag = ufrag
        relayPassword = pwd
        relayAddress = try via ?? SocketAddress(ipAddress: candidate.address, port: Int(candidate.port))
        dtls = try DtlsEndpoint(role: .client, identity: identity, remoteFingerprint: fingerprint)
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { [self] _ in tick() }
    }

    /// Starts (or stops) sending media; call on the event loop.
    func setSending(_ on: Bool) {
        sending = on
        nextAudio = .now()
        nextVideo = .now()
    }

    func resetCounters() {
        let connected = snapshot.connected
        snapshot = Snapshot()
        snapshot.connected = connected
        videoCheck?.reset()
    }

    // MARK: Timers

    private func tick() {
        let now = NIODeadline.now()
        // Connectivity checks until confirmed, then consent every 2 s (RFC 7675).
        if now - lastCheck >= (iceConfirmed ? .seconds(2) : .milliseconds(100)) {
            lastCheck = now
            sendBindingRequest()
        }
        if let deadline = dtls?.nextTimeout, ContinuousClock.now >= deadline {
            _ = dtls?.handleTimeout(now: ContinuousClock.now)
            flushDtls()
        }
        guard sending, srtpOut != nil else { return }
        while nextAudio <= now {
            let payload = media.audio[audioIndex % media.audio.count]
            audioIndex += 1
            sendRTP(payloadType: Self.audioPayloadType, ssrc: audioSSRC, sequence: audioSequence, timestamp: audioTimestamp,
                    marker: false, payload: payload, checksum: media.audioChecksums[(audioIndex - 1) % media.audio.count])
            audioSequence &+= 1
            audioTimestamp &+= 960
            nextAudio = nextAudio + .milliseconds(20)
        }
        while nextVideo <= now {
            let frame = media.frames[frameIndex % media.frames.count]
            frameIndex += 1
            for (index, payload) in frame.payloads.enumerated() {
                sendRTP(payloadType: Self.videoPayloadType, ssrc: videoSSRC, sequence: videoSequence, timestamp: videoTimestamp,
                        marker: index == frame.payloads.count - 1, payload: payload, checksum: frame.checksums[index])
                videoSequence &+= 1
            }
            videoTimestamp &+= 3000
            nextVideo = nextVideo + .nanoseconds(33_333_333)
        }
        channel?.flush()
    }

    // MARK: Sending

    private func send(_ bytes: UnsafeRawBufferPointer, flush: Bool) {
        guard let channel, let relayAddress else { return }
        let buffer = channel.allocator.buffer(bytes: bytes)
        let envelope = AddressedEnvelope(remoteAddress: relayAddress, data: buffer)
        if flush { channel.writeAndFlush(envelope, promise: nil) } else { channel.write(envelope, promise: nil) }
    }

    private func sendBindingRequest() {
        var generator = SystemRandomNumberGenerator()
        var request = STUNMessage(type: .bindingRequest, transactionID: .random(using: &generator))
        request.username = "\(relayUfrag):\(ice.ufrag)"
        request.priority = 2_122_260_223
        request.iceControlling = 0x0102_0304_0506_0708
        request.useCandidate = true
        request.integrityPassword = relayPassword
        scratch.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            request.encode(into: &out)
            let length = out.finalize(for: buffer)
            send(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), flush: true)
        }
    }

    private func flushDtls() {
        while let datagram = dtls?.takeOutgoing() {
            datagram.withUnsafeBytes { send($0, flush: true) }
        }
    }

    private func sendRTP(
        payloadType: UInt8, ssrc: UInt32, sequence: UInt16, timestamp: UInt32, marker: Bool, payload: [UInt8], checksum: UInt32
    ) {
        let header = RTPHeader(marker: marker, payloadType: payloadType, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc)
        scratch.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            header.encode(into: &out)
            for byte in payload { out.append(byte, as: UInt8.self) }
            out.append(NIODeadline.now().uptimeNanoseconds.bigEndian, as: UInt64.self)
            out.append(UInt8(truncatingIfNeeded: checksum >> 16), as: UInt8.self)
            out.append(UInt8(truncatingIfNeeded: checksum >> 8), as: UInt8.self)
            out.append(UInt8(truncatingIfNeeded: checksum), as: UInt8.self)
            out.append(UInt8(Self.trailer), as: UInt8.self)
            let plain = out.finalize(for: buffer)
            buffer[0] |= 0x20  // P: the trailer is RTP padding
            var span = MutableRawSpan(_unsafeBytes: buffer)
            guard let protected = try? srtpOut?.protectRTP(&span, length: plain) else { return }
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
            switch DatagramKind(firstByte: packet[0], secondByte: packet[1]) {
            case .stun: receiveStun(UnsafeRawBufferPointer(packet))
            case .dtls: receiveDtls(UnsafeRawBufferPointer(packet))
            case .rtp: receiveRTP(packet)
            default: break  // SRTCP from the relay (reports, NACK, PLI): not needed here
            }
        }
    }

    private func receiveStun(_ packet: UnsafeRawBufferPointer) {
        guard let response = try? STUNMessageView(validating: packet.bytes), response.messageType == .bindingSuccess,
            response.verifyIntegrity(password: relayPassword)
        else { return }
        if !iceConfirmed {
            iceConfirmed = true
            _ = dtls?.start(now: ContinuousClock.now)
            flushDtls()
        }
    }

    private func receiveDtls(_ packet: UnsafeRawBufferPointer) {
        let event = dtls?.receive(packet.bytes, now: ContinuousClock.now)
        flushDtls()
        if case .connected(let keys)? = event {
            srtpOut = try? SrtpContext(profile: keys.profile, keyAndSalt: keys.local, direction: .outbound)
            srtpIn = try? SrtpContext(profile: keys.profile, keyAndSalt: keys.remote, direction: .inbound)
            snapshot.connected = srtpOut != nil && srtpIn != nil
        }
    }

    private func receiveRTP(_ packet: UnsafeMutableRawBufferPointer) {
        var span = MutableRawSpan(_unsafeBytes: packet)
        let length: Int
        do {
            guard let unprotected = try srtpIn?.unprotectRTP(&span, length: packet.count) else { return }
            length = unprotected
        } catch .replayed {
            snapshot.replays += 1
            return
        } catch {
            return
        }
        let received = NIODeadline.now().uptimeNanoseconds
        let plain = UnsafeRawBufferPointer(rebasing: packet[0..<length])
        guard let view = try? RTPPacketView(validating: plain.bytes) else { return }
        let ssrc = view.ssrc, sequence = view.sequenceNumber, padding = view.paddingLength
        if let next = expected[ssrc], sequence != next {
            let skipped = Int(sequence &- next)
            if skipped < 0x8000 { snapshot.gaps += skipped }
        }
        if expected[ssrc].map({ Int16(bitPattern: sequence &- $0) >= 0 }) ?? true { expected[ssrc] = sequence &+ 1 }
        snapshot.receivedPackets += 1
        snapshot.receivedBytes += length
        if let videoCheck, view.payloadType == Self.videoPayloadType {
            videoCheck.receive(ssrc: ssrc, sequence: sequence, timestamp: view.timestamp, marker: view.marker, payload: view.payload)
            snapshot.video = videoCheck.counts
        }
        guard padding == Self.trailer else { return }
        let trailer = length - Self.trailer
        let sent = plain.loadUnaligned(fromByteOffset: trailer, as: UInt64.self).bigEndian
        if received >= sent { _ = snapshot.latencyMicroseconds.record((received - sent) / 1000) }
        let written = UInt32(plain[trailer + 8]) << 16 | UInt32(plain[trailer + 9]) << 8 | UInt32(plain[trailer + 10])
        let range = view.payloadRange
        if LoopedMedia.checksum(UnsafeRawBufferPointer(rebasing: plain[range])) != written { snapshot.corrupted += 1 }
    }
}
