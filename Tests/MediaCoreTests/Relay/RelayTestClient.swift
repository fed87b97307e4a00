@testable import MediaCore

/// A minimal WebRTC client for driving `RelayCore` in process: it writes a Chromium-shaped offer in
/// the fixed-slot layout, checks connectivity with STUN, runs DTLS as the client, and sends and
/// receives SRTP. Everything is real crypto; only the network is a function call.
final class RelayTestClient {
    let address: TransportAddress
    let ice: IceCredentials
    let identity: DtlsIdentity
    var dtls: DtlsEndpoint
    var srtpOut: SrtpContext?
    var srtpIn: SrtpContext?
    let audioSSRC: UInt32
    let videoSSRC: UInt32
    var answer = ""
    var relayUfrag = ""
    var relayPassword = ""
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

    /// `transport` .tcp plays a browser whose UDP is blocked: it uses the relay's ICE-TCP candidate.
    init(port: UInt16, relayFingerprint: DtlsFingerprint, seed: UInt32, transport: TransportProtocol = .udp) throws {
        address = TransportAddress(ipv4: 0x7F00_0001, port: port, transport: transport)
        ice = IceCredentials(ufrag: "cl\(port)", pwd: "clientpassword\(port)abcdefgh")
        identity = try DtlsIdentity(commonName: "client")
        dtls = try DtlsEndpoint(role: .client, identity: identity, remoteFingerprint: relayFingerprint)
        audioSSRC = 1000 + seed
        videoSSRC = 2000 + seed
    }

    /// An offer shaped like Chromium's: audio and video sendonly, then `slots` recvonly pairs.
    /// `bundleOnly` writes Firefox's form: every section after the first has port 0 and
    /// `a=bundle-only` (RFC 9143 §6), and ICE/DTLS attributes sit at session level.
    /// `red` offers RED around Opus (RFC 2198, `red/48000/2` with fmtp `111/111`) as Chromium does;
    /// `audioNack` adds `rtcp-fb nack` for Opus as our web client does.
    func offer(
        slots: Int,
        audioPT: UInt8 = 111,
        videoPT: UInt8 = 96,
        bundleOnly: Bool = false,
        red: Bool = false,
        audioNack: Bool = false
    ) -> String {
        var lines = [
            "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
            "a=group:BUNDLE " + (0..<(2 + 2 * slots)).map(String.init).joined(separator: " "),
            "a=extmap-allow-mixed", "a=msid-semantic: WMS stream",
        ]
        func section(_ kind: String, mid: Int, direction: String, ssrc: UInt32?) {
            let audio = kind == "audio"
            let port = bundleOnly && mid > 0 ? 0 : 9
            lines.append(
                "m=\(kind) \(port) UDP/TLS/RTP/SAVPF \(audio ? "\(audioPT)\(red ? " 63" : "") 0" : "\(videoPT) 97 45")"
            )
            lines += ["c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0"]
            if bundleOnly && mid > 0 { lines.append("a=bundle-only") }
            if !bundleOnly {
                lines += [
                    "a=ice-ufrag:\(ice.ufrag)", "a=ice-pwd:\(ice.pwd)", "a=ice-options:trickle",
                    "a=fingerprint:\(identity.fingerprint.sdpValue)", "a=setup:actpass",
                ]
            }
            lines += [
                "a=mid:\(mid)", "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                "a=\(direction)", "a=rtcp-mux", "a=rtcp-rsize",
            ]
            if audio {
                lines += [
                    "a=rtpmap:\(audioPT) opus/48000/2", "a=rtcp-fb:\(audioPT) transport-cc",
                    "a=fmtp:\(audioPT) minptime=10;useinbandfec=1", "a=rtpmap:0 PCMU/8000",
                ]
                if audioNack { lines.append("a=rtcp-fb:\(audioPT) nack") }
                if red { lines += ["a=rtpmap:63 red/48000/2", "a=fmtp:63 \(audioPT)/\(audioPT)"] }
            } else {
                lines += [
                    "a=rtpmap:\(videoPT) VP8/90000", "a=rtcp-fb:\(videoPT) goog-remb",
                    "a=rtcp-fb:\(videoPT) transport-cc",
                    "a=rtcp-fb:\(videoPT) nack",
                    "a=rtcp-fb:\(videoPT) nack pli", "a=rtcp-fb:\(videoPT) ccm fir",
                    "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=\(videoPT)", "a=rtpmap:45 AV1/90000",
                ]
            }
            if !audio && direction == "sendonly" && !simulcastRids.isEmpty {
                lines += [
                    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
                ]
                lines += simulcastRids.map { "a=rid:\($0) send" }
                lines.append("a=simulcast:send " + simulcastRids.joined(separator: ";"))
            } else if let ssrc {
                lines += ["a=ssrc:\(ssrc) cname:test", "a=ssrc:\(ssrc) msid:stream \(kind)"]
            }
        }
        if bundleOnly {
            // Session-level ICE and DTLS attributes, before the first m= line.
            lines.insert(
                contentsOf: [
                    "a=ice-ufrag:\(ice.ufrag)", "a=ice-pwd:\(ice.pwd)",
                    "a=fingerprint:\(identity.fingerprint.sdpValue)", "a=setup:actpass",
                ],
                at: 4
            )
        }
        section("audio", mid: 0, direction: "sendonly", ssrc: audioSSRC)
        section("video", mid: 1, direction: "sendonly", ssrc: videoSSRC)
        for slot in 0..<slots {
            section("audio", mid: 2 + 2 * slot, direction: "recvonly", ssrc: nil)
            section("video", mid: 3 + 2 * slot, direction: "recvonly", ssrc: nil)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    func accept(answer: String) {
        self.answer = answer
        for line in answer.split(separator: "\r\n") {
            if line.hasPrefix("a=ice-ufrag:") { relayUfrag = String(line.dropFirst(12)) }
            if line.hasPrefix("a=ice-pwd:") { relayPassword = String(line.dropFirst(10)) }
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
        var request = STUNMessage(type: .bindingRequest, transactionID: .random(using: &generator))
        request.username = username ?? "\(relayUfrag):\(ice.ufrag)"
        request.priority = 0x6e00_01ff
        request.iceControlling = 0x0102_0304_0506_0708
        request.useCandidate = useCandidate
        request.integrityPassword = password ?? relayPassword
        request.fingerprint = false  // Chromium sends FINGERPRINT; the relay must not need it
        var message = [UInt8](repeating: 0, count: request.encodedSize)
        message.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            request.encode(into: &out)
            _ = out.finalize(for: buffer)
        }
        return message
    }

    /// `plain` protected with our outbound keys, as SRTP or (for `rtcp`) SRTCP.
    func protected(_ plain: [UInt8], rtcp: Bool = false) throws -> [UInt8] {
        var packet = plain + [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        var span = packet.mutableSpan
        var bytes = span.mutableBytes
        let length =
            rtcp
            ? try srtpOut!.protectRTCP(&bytes, length: plain.count)
            : try srtpOut!.protectRTP(&bytes, length: plain.count)
        return Array(packet[0..<length])
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
        packet += [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        var span = packet.mutableSpan
        var bytes = span.mutableBytes
        let length = try srtpOut!.protectRTCP(&bytes, length: plainLength)
        return Array(packet[0..<length])
    }

    /// Handles a datagram the relay sent to this client.
    func receive(_ datagram: [UInt8], now: ContinuousClock.Instant) throws {
        switch DatagramKind(firstByte: datagram[0], secondByte: datagram[1]) {
        case .stun:
            // A success response must verify under the relay's password and carry our mapped address.
            let response = try STUNMessageView(validating: datagram.span.bytes)
            guard response.messageType == .bindingSuccess, response.verifyIntegrity(password: relayPassword),
                response.fingerprintOffset != nil, let mapped = response.xorMappedAddress
            else { throw RelayTestClientError.badStunResponse }
            lastMappedAddress = TransportAddress(mapped, transport: address.transport)
            stunResponses += 1
        case .dtls:
            if case .connected(let keys) = dtls.receive(datagram.span.bytes, now: now) {
                srtpOut = try SrtpContext(profile: keys.profile, keyAndSalt: keys.local, direction: .outbound)
                srtpIn = try SrtpContext(profile: keys.profile, keyAndSalt: keys.remote, direction: .inbound)
            }
        case .rtp:
            var packet = datagram
            var span = packet.mutableSpan
            var bytes = span.mutableBytes
            let length: Int
            do {
                length = try srtpIn!.unprotectRTP(&bytes, length: datagram.count)
            } catch .replayed {
                replayed += 1  // a browser's SRTP drops these the same way
                return
            }
            let view = try RTPPacketView(validating: packet.span.bytes.extracting(0..<length))
            let header = RtpHeaderSummary(view)
            if let transport = view.transportWideSequenceNumber(id: 3) { receivedTransport.append((transport, now)) }
            received.append(
                (
                    header.ssrc, header.sequence, header.payloadType,
                    Array(packet[header.headerLength..<(length - header.paddingLength)])
                )
            )
            if header.payloadType == 96 {
                videoLog.append(
                    (
                        header.ssrc, header.sequence, header.timestamp,
                        Array(packet[header.headerLength..<(length - header.paddingLength)])
                    )
                )
            }
        case .rtcp:
            var packet = datagram
            var span = packet.mutableSpan
            var bytes = span.mutableBytes
            let length = try srtpIn!.unprotectRTCP(&bytes, length: datagram.count)
            receivedRTCP.append(Array(packet[0..<length]))
        default:
            break
        }
    }
}

enum RelayTestClientError: Error {
    case badStunResponse
    /// Transport-cc feedback was asked for, but no packet carrying a transport-wide number arrived.
    case nothingToReport
}
