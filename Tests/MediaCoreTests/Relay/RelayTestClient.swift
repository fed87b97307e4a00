import ClientPeer

@testable import MediaCore

/// A minimal WebRTC client for driving `RelayCore` in process: it writes a Chromium-shaped offer in
/// the fixed-slot layout (`ChromiumOffer`), checks connectivity with STUN, runs DTLS as the client,
/// and sends and receives SRTP (`ClientTransport`, the client peer `relay-load` uses too).
/// Everything is real crypto; only the network is a function call.
final class RelayTestClient {
    let address: TransportAddress
    var transport: ClientTransport
    let audioSSRC: UInt32
    let videoSSRC: UInt32
    var answer = ""
    var relayAddress = TransportAddress(ipv4: 0, port: 0)
    var audioSequence: UInt16 = 100
    var videoSequence: UInt16 = 5000
    /// Decrypted RTP packets received: (ssrc, sequence, payload type, payload).
    var received: [(ssrc: UInt32, sequence: UInt16, payloadType: UInt8, payload: [UInt8])] = []
    var receivedRTCP: [[UInt8]] = []
    /// Every video packet (payload type 96) received, with its timestamp; not cleared by other tests' resets.
    var videoLog: [(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, payload: [UInt8])] = []
    /// Simulcast rids to offer (RFC 8853, Chromium's form) instead of one video stream.
    var simulcastRids: [String] = []
    /// Per simulcast encoding: its SSRC is `videoSSRC + 100 × index`, its own sequence numbers.
    var simulcastSequences: [UInt16] = [100, 30_000, 60_000]
    /// Transport-wide numbers (extension id 3) of RTP received, and when: what its feedback reports.
    var receivedTransport: [(sequence: UInt16, arrival: ContinuousClock.Instant)] = []
    var feedbackCount: UInt8 = 0
    /// The last transport-wide number a feedback covered: the next one starts after it, so packets
    /// lost at the start of an interval are reported lost, as libwebrtc's receiver does.
    var lastReportedTransport: UInt16?
    /// Binding success responses received.
    var stunResponses = 0
    /// XOR-MAPPED-ADDRESS of the last Binding success response: where the relay saw us.
    var lastMappedAddress: TransportAddress?
    /// SRTP packets our receive context rejected as replays.
    var replayed = 0

    var ice: IceCredentials { transport.ice }
    var identity: DtlsIdentity { transport.identity }
    var relayUfrag: String { transport.remoteUfrag }
    var relayPassword: String { transport.remotePassword }
    /// DTLS completed and SRTP keyed.
    var isKeyed: Bool { transport.isKeyed }

    /// `transport` .tcp plays a browser whose UDP is blocked: it uses the relay's ICE-TCP candidate.
    init(
        port: UInt16,
        relayFingerprint: DtlsFingerprint,
        seed: UInt32,
        transport protocolKind: TransportProtocol = .udp
    )
        throws
    {
        address = TransportAddress(ipv4: 0x7F00_0001, port: port, transport: protocolKind)
        transport = ClientTransport(
            ice: IceCredentials(ufrag: "cl\(port)", pwd: "clientpassword\(port)abcdefgh"),
            identity: try DtlsIdentity(commonName: "client")
        )
        // The relay's credentials come with its answer (`accept(answer:)`); its certificate is known.
        try transport.connect(ufrag: "", password: "", fingerprint: relayFingerprint)
        audioSSRC = 1000 + seed
        videoSSRC = 2000 + seed
    }

    /// An offer shaped like Chromium's: audio and video sendonly, then `slots` recvonly pairs
    /// (`ChromiumOffer` has the options' meaning).
    func offer(
        slots: Int,
        audioPT: UInt8 = 111,
        videoPT: UInt8 = 96,
        bundleOnly: Bool = false,
        red: Bool = false,
        audioNack: Bool = false
    ) -> String {
        var offer = ChromiumOffer(
            ice: ice,
            fingerprint: identity.fingerprint,
            audioSSRC: audioSSRC,
            videoSSRC: videoSSRC,
            slots: slots
        )
        offer.audioPT = audioPT
        offer.videoPT = videoPT
        offer.bundleOnly = bundleOnly
        offer.red = red
        offer.audioNack = audioNack
        offer.simulcastRids = simulcastRids
        return offer.text
    }

    func accept(answer: String) {
        self.answer = answer
        var (ufrag, password) = (relayUfrag, relayPassword)
        defer { transport.restartIce(ufrag: ufrag, password: password) }
        for line in answer.split(separator: "\r\n") {
            if line.hasPrefix("a=ice-ufrag:") { ufrag = String(line.dropFirst(12)) }
            if line.hasPrefix("a=ice-pwd:") { password = String(line.dropFirst(10)) }
            if line.hasPrefix("a=candidate:") {
                let fields = line.split(separator: " ")
                guard fields[2].lowercased() == address.transport.description else { continue }
                relayAddress = TransportAddress("\(fields[4]):\(fields[5])")!.on(address.transport)
            }
        }
    }

    /// A Binding request (RFC 8445 §7.2.2) from this client, integrity under the relay's password.
    func bindingRequest(useCandidate: Bool = true, password: String? = nil, username: String? = nil) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return ClientTransport.encoded(
            transport.bindingRequest(
                transactionID: .random(using: &generator),
                useCandidate: useCandidate,
                username: username,
                password: password
            )
        )
    }

    /// `plain` protected with our outbound keys, as SRTP or (for `rtcp`) SRTCP.
    func protected(_ plain: [UInt8], rtcp: Bool = false) throws -> [UInt8] {
        try transport.protected(plain, rtcp: rtcp)
    }

    /// An RTP packet (RFC 3550 §5.1) with a one-byte header extension, protected with our SRTP keys.
    func rtp(video: Bool, payload: [UInt8], marker: Bool = false) throws -> [UInt8] {
        if video { videoSequence &+= 1 } else { audioSequence &+= 1 }
        let sequence = video ? videoSequence : audioSequence
        let ssrc = video ? videoSSRC : audioSSRC
        transportSequence &+= 1
        let transport = transportSequence
        let packet: [UInt8] =
            [
                0x90, (marker ? 0x80 : 0) | (video ? 96 : 111), UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                0, 0, 0x10, 0, UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF),
                UInt8(ssrc & 0xFF),
                0xBE, 0xDE, 0x00, 0x01,  // one-byte extensions, 1 word
                // id 3: transport-wide sequence number, one padding byte
                0x31, UInt8(transport >> 8), UInt8(transport & 0xFF), 0x00,
            ] + payload
        return try protected(packet)
    }

    /// A VP8 packet of simulcast encoding `encoding`, with the transport-wide number and the
    /// RtpStreamId extension (RFC 8852 §3) naming its rid, as Chromium sends them.
    func simulcastRTP(encoding: Int, timestamp: UInt32, payload: [UInt8], marker: Bool = true) throws -> [UInt8] {
        simulcastSequences[encoding] &+= 1
        let sequence = simulcastSequences[encoding]
        let ssrc = videoSSRC + 100 * UInt32(encoding)
        transportSequence &+= 1
        let transport = transportSequence
        let rid = Array(simulcastRids[encoding].utf8)
        var extensions: [UInt8] =
            [0x31, UInt8(transport >> 8), UInt8(transport & 0xFF), 0xA0 | UInt8(rid.count - 1)] + rid
        while extensions.count % 4 != 0 { extensions.append(0) }
        let packet: [UInt8] =
            [
                0x90, (marker ? 0x80 : 0) | 96, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF),
                UInt8(timestamp & 0xFF),
                UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF),
                0xBE, 0xDE, 0x00, UInt8(extensions.count / 4),
            ] + extensions + payload
        return try protected(packet)
    }

    /// The transport-wide sequence number of the last RTP packet sent (shared by audio and video).
    var transportSequence: UInt16 = 65_530

    /// An RTX packet (RFC 4588 §4): payload type 97, RTX SSRC, its own sequence number, OSN first.
    var rtxSequence: UInt16 = 9000
    var rtxSSRC: UInt32 { videoSSRC + 500 }
    func rtx(original: UInt16, payload: [UInt8]) throws -> [UInt8] {
        rtxSequence &+= 1
        let packet: [UInt8] =
            [
                0x80, 97, UInt8(rtxSequence >> 8), UInt8(rtxSequence & 0xFF), 0, 0, 0x10, 0,
                UInt8(rtxSSRC >> 24), UInt8((rtxSSRC >> 16) & 0xFF), UInt8((rtxSSRC >> 8) & 0xFF),
                UInt8(rtxSSRC & 0xFF),
                UInt8(original >> 8), UInt8(original & 0xFF),
            ] + payload
        return try protected(packet)
    }

    /// A generic NACK (RFC 4585 §6.2.1) from this client for `sequences` of `mediaSSRC`.
    func nack(mediaSSRC: UInt32, sequences: [UInt16]) throws -> [UInt8] {
        var packet: [UInt8] = [
            0x81, 205, 0, UInt8(2 + sequences.count), 0, 0, 0, 1,
            UInt8(mediaSSRC >> 24), UInt8((mediaSSRC >> 16) & 0xFF), UInt8((mediaSSRC >> 8) & 0xFF),
            UInt8(mediaSSRC & 0xFF),
        ]
        for s in sequences { packet += [UInt8(s >> 8), UInt8(s & 0xFF), 0, 0] }
        return try protected(packet, rtcp: true)
    }

    /// Transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) on everything
    /// received since the last one, protected as SRTCP, as a browser sends it.
    func transportFeedback(now: ContinuousClock.Instant) throws -> [UInt8] {
        let origin = receivedTransport.first?.arrival ?? now
        var arrivals: [RTCPTransportFeedbackArrival] = []
        for (sequence, arrival) in receivedTransport.sorted(by: { Int16(bitPattern: $0.sequence &- $1.sequence) < 0 }) {
            let (seconds, attoseconds) = (arrival - origin).components
            arrivals.append(
                RTCPTransportFeedbackArrival(
                    sequenceNumber: sequence,
                    arrivalTimeUs: seconds * 1_000_000 + attoseconds / 1_000_000_000_000
                )
            )
        }
        receivedTransport.removeAll()
        if let last = lastReportedTransport, let first = arrivals.first?.sequenceNumber,
            Int16(bitPattern: first &- last) > 1
        {
            arrivals.insert(RTCPTransportFeedbackArrival(sequenceNumber: last &+ 1, arrivalTimeUs: nil), at: 0)
        }
        guard let newest = arrivals.last?.sequenceNumber else { throw RelayTestClientError.nothingToReport }
        lastReportedTransport = newest
        var packet = [UInt8](repeating: 0, count: 1200)
        let plainLength = arrivals.withUnsafeBufferPointer { all in
            packet.withUnsafeMutableBytes { buffer in
                let feedback = RTCPTransportFeedback(
                    senderSSRC: audioSSRC,
                    mediaSSRC: 1,
                    feedbackPacketCount: feedbackCount,
                    arrivals: Span(_unsafeElements: all)
                )
                var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                feedback.encode(into: &out)
                return out.finalize(for: buffer)
            }
        }
        feedbackCount &+= 1
        packet.removeLast(packet.count - plainLength)
        return try protected(packet, rtcp: true)
    }

    /// Handles a datagram the relay sent to this client.
    func receive(_ datagram: [UInt8], now: ContinuousClock.Instant) throws {
        var packet = datagram
        let received = packet.withUnsafeMutableBytes { transport.receive($0, now: now) }
        switch received {
        case .bindingSuccess(let mapped, let fingerprinted):
            // A success response must verify under the relay's password (checked by the transport),
            // carry FINGERPRINT and our mapped address.
            guard fingerprinted, let mapped else { throw RelayTestClientError.badStunResponse }
            lastMappedAddress = TransportAddress(mapped, transport: address.transport)
            stunResponses += 1
        case .badStun, .bindingRequest:
            throw RelayTestClientError.badStunResponse
        case .rtp(let length):
            let view = try RTPPacketView(validating: packet.span.bytes.extracting(0..<length))
            let header = RtpHeaderSummary(view)
            if let transport = view.transportWideSequenceNumber(id: 3) { receivedTransport.append((transport, now)) }
            let payload = Array(packet[header.headerLength..<(length - header.paddingLength)])
            self.received.append((header.ssrc, header.sequence, header.payloadType, payload))
            if header.payloadType == 96 { videoLog.append((header.ssrc, header.sequence, header.timestamp, payload)) }
        case .rtcp(let length):
            receivedRTCP.append(Array(packet[0..<length]))
        case .replayed:
            replayed += 1  // a browser's SRTP drops these the same way
        case .undecryptable:
            throw RelayTestClientError.undecryptable
        case .dtls, .other:
            break
        }
    }
}

enum RelayTestClientError: Error {
    case badStunResponse
    /// SRTP or SRTCP from the relay that did not authenticate under the exported keys.
    case undecryptable
    /// Transport-cc feedback was asked for, but no packet carrying a transport-wide number arrived.
    case nothingToReport
}
