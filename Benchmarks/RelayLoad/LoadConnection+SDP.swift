import MediaCore
import NIOCore

/// The peer's transport as its session description gives it (RFC 8839 §5, RFC 8122 §5): ICE
/// credentials and certificate fingerprint (media level, else session level), and its first UDP
/// candidate. Both visit-relay and Janus are ICE-lite and put one host candidate in every
/// description, so there is nothing to gather or trickle.
struct PeerTransport: Sendable {
    var ufrag: String
    var password: String
    var fingerprint: DtlsFingerprint
    var address: SocketAddress

    enum Failure: Error, CustomStringConvertible {
        case missing(String, description: String)
        var description: String {
            switch self {
            case .missing(let what, let sdp): "no \(what) in the peer's description:\n\(sdp.prefix(600))"
            }
        }
    }

    /// `via` replaces the candidate's address (a link-emulator in front of the SFU).
    init(_ sdp: SessionDescription, text: String, via: SocketAddress? = nil) throws {
        guard let section = sdp.media.first else { throw Failure.missing("media section", description: text) }
        guard let ufrag = sdp.resolvedValue(of: "ice-ufrag", media: 0),
            let password = sdp.resolvedValue(of: "ice-pwd", media: 0)
        else { throw Failure.missing("ICE credentials", description: text) }
        guard let fingerprint = sdp.fingerprint(media: 0).flatMap({ DtlsFingerprint(bytes: $0.bytes) }) else {
            throw Failure.missing("fingerprint", description: text)
        }
        guard let candidate = section.candidates.first(where: { $0.transport.lowercased() == "udp" }) else {
            throw Failure.missing("UDP candidate", description: text)
        }
        self.ufrag = ufrag
        self.password = password
        self.fingerprint = fingerprint
        address = try via ?? SocketAddress(ipAddress: candidate.address, port: Int(candidate.port))
    }
}

extension LoadConnection {
    /// A Chromium-shaped offer in visit-relay's fixed-slot layout (docs/signaling.md): audio and
    /// video to send, then `slots` audio/video pairs to receive. With `slots: 0` it is the publisher
    /// offer Janus's VideoRoom takes: `a=mid` and `a=ssrc` on each section are what Janus maps
    /// incoming RTP by (without `a=ssrc` it drops every packet as "Unknown SSRC").
    /// `candidatePort` adds our host candidate (RFC 8839 §5.1), which Janus wants before it answers.
    func offer(slots: Int, candidatePort: Int? = nil) -> String {
        var sdp = SessionDescription(origin: "- \(audioSSRC) 2 IN IP4 127.0.0.1")
        sdp.timings = ["0 0"]
        sdp.add("group", "BUNDLE " + (0..<(2 + 2 * slots)).map(String.init).joined(separator: " "))
        let pts = (audio: MediaSendLoop.audioPayloadType, video: MediaSendLoop.videoPayloadType)
        sdp.media.append(
            section(
                "audio",
                mid: "0",
                payloadType: pts.audio,
                setup: "actpass",
                direction: "sendonly",
                ssrc: audioSSRC,
                candidatePort: candidatePort
            )
        )
        sdp.media.append(
            section(
                "video",
                mid: "1",
                payloadType: pts.video,
                setup: "actpass",
                direction: "sendonly",
                ssrc: videoSSRC,
                candidatePort: candidatePort
            )
        )
        for slot in 0..<slots {
            sdp.media.append(
                section(
                    "audio",
                    mid: "\(2 + 2 * slot)",
                    payloadType: pts.audio,
                    setup: "actpass",
                    direction: "recvonly",
                    ssrc: nil,
                    candidatePort: candidatePort
                )
            )
            sdp.media.append(
                section(
                    "video",
                    mid: "\(3 + 2 * slot)",
                    payloadType: pts.video,
                    setup: "actpass",
                    direction: "recvonly",
                    ssrc: nil,
                    candidatePort: candidatePort
                )
            )
        }
        return sdp.text
    }

    enum AnswerError: Error, CustomStringConvertible {
        case noCodec(kind: String, mid: String, formats: [String])
        var description: String {
            switch self {
            case .noCodec(let kind, let mid, let formats):
                "the offer's \(kind) section mid \(mid) has no \(kind == "audio" ? "Opus" : "VP8") among \(formats)"
            }
        }
    }

    /// A receive-only answer to an SFU's offer (Janus's subscriber offer, VideoRoom "attached"):
    /// every section recvonly with the offer's Opus or VP8 payload type only (no RTX: losses stay
    /// visible as gaps), `a=setup:active`, so we are the DTLS client (RFC 8842 §5.1). Returns the
    /// answer and the VP8 payload type the SFU will send.
    func answer(toOffer offer: SessionDescription, candidatePort: Int) throws -> (sdp: String, videoPayloadType: UInt8)
    {
        var sdp = SessionDescription(origin: "- \(videoSSRC) 2 IN IP4 127.0.0.1")
        sdp.timings = ["0 0"]
        sdp.add("group", "BUNDLE " + offer.media.compactMap(\.mid).joined(separator: " "))
        var videoPayloadType = MediaSendLoop.videoPayloadType
        for offered in offer.media {
            let mid = offered.mid ?? "\(sdp.media.count)"
            let codec = offered.kind == "audio" ? "opus" : "vp8"
            guard let map = offered.rtpMaps.first(where: { $0.codec.lowercased() == codec }) else {
                throw AnswerError.noCodec(kind: offered.kind, mid: mid, formats: offered.formats)
            }
            if offered.kind == "video" { videoPayloadType = map.payloadType }
            sdp.media.append(
                section(
                    offered.kind,
                    mid: mid,
                    payloadType: map.payloadType,
                    setup: "active",
                    direction: "recvonly",
                    ssrc: nil,
                    candidatePort: candidatePort
                )
            )
        }
        return (sdp.text, videoPayloadType)
    }

    private func section(
        _ kind: String,
        mid: String,
        payloadType pt: UInt8,
        setup: String,
        direction: String,
        ssrc: UInt32?,
        candidatePort: Int?
    ) -> SDPMediaSection {
        let audio = kind == "audio"
        var media = SDPMediaSection(
            kind: kind,
            port: 9,
            proto: "UDP/TLS/RTP/SAVPF",
            formats: ["\(pt)"],
            connection: "IN IP4 0.0.0.0"
        )
        media.add("ice-ufrag", ice.ufrag)
        media.add("ice-pwd", ice.pwd)
        media.add("fingerprint", identity.fingerprint.sdpValue)
        media.add("setup", setup)
        media.add("mid", mid)
        media.add(direction)
        media.add("rtcp-mux")
        media.add(
            "rtpmap",
            audio
                ? SDPRtpMap(payloadType: pt, codec: "opus", clockRate: 48_000, channels: 2).attributeValue
                : SDPRtpMap(payloadType: pt, codec: "VP8", clockRate: 90_000).attributeValue
        )
        if !audio {
            media.add("rtcp-fb", SDPRtcpFeedback(payloadType: pt, type: "nack", parameter: "pli").attributeValue)
        }
        if let ssrc { media.add("ssrc", "\(ssrc) cname:\(name)") }
        if let candidatePort {
            media.add("candidate", "1 1 udp 2130706431 127.0.0.1 \(candidatePort) typ host")
            media.add("end-of-candidates")
        }
        return media
    }

    /// Takes the peer's transport; call on the event loop.
    func connect(to peer: PeerTransport) throws {
        try connect(to: peer.address, ufrag: peer.ufrag, password: peer.password, fingerprint: peer.fingerprint)
    }
}
