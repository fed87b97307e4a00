/// Writes the relay's SDP answer (RFC 8866 syntax, JSEP RFC 9429 §5.3 rules) for the fixed-slot
/// layout of docs/signaling.md: the participant's own audio and video sections are answered
/// `recvonly`, each receive slot's sections `sendonly` with the SSRC the relay will send with, and
/// anything else (data channels) is rejected with port 0.
struct AnswerWriter {
    /// What the relay sends in one answered section, if anything.
    struct Sending {
        var ssrc: UInt32
        var streamID: String
        var trackID: String
    }

    struct AnsweredSection {
        var section: OfferSummary.Section
        /// Codecs accepted, in the offerer's order (payload types kept).
        var codecs: [OfferSummary.Codec]
        var direction: String
        var sending: Sending?
        var rejected: Bool
        /// The rtcp-fb values answered for this section (RFC 4585 §4.2, RFC 5104 §7.1).
        var feedback: Set<String> = []
    }

    var sessionID: UInt64
    var ice: IceCredentials
    var fingerprint: DtlsFingerprint
    var candidate: TransportAddress
    /// The passive ICE-TCP candidate, if the relay listens for ICE-TCP.
    var tcpCandidate: TransportAddress? = nil
    var sections: [AnsweredSection]

    var text: String {
        var lines: [String] = [
            "v=0",
            "o=- \(sessionID) 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
        ]
        let bundled = sections.filter { !$0.rejected }.map(\.section.mid)
        if !bundled.isEmpty { lines.append("a=group:BUNDLE " + bundled.joined(separator: " ")) }
        lines.append("a=ice-lite")
        lines.append("a=msid-semantic: WMS *")
        for answered in sections {
            let section = answered.section
            if answered.rejected {
                let formats = section.kind == "application" ? "webrtc-datachannel" : "0"
                lines.append("m=\(section.kind) 0 \(section.proto) \(formats)")
                lines.append("c=IN IP4 0.0.0.0")
                lines.append("a=mid:\(section.mid)")
                lines.append("a=inactive")
                continue
            }
            let payloadTypes = answered.codecs.map { String($0.payloadType) }.joined(separator: " ")
            lines.append("m=\(section.kind) 9 \(section.proto) \(payloadTypes)")
            lines.append("c=IN IP4 0.0.0.0")
            lines.append("a=rtcp:9 IN IP4 0.0.0.0")
            lines.append("a=ice-ufrag:\(ice.ufrag)")
            lines.append("a=ice-pwd:\(ice.pwd)")
            lines.append("a=fingerprint:\(fingerprint.sdpValue)")
            lines.append("a=setup:passive")
            lines.append("a=mid:\(section.mid)")
            lines.append("a=\(answered.direction)")
            lines.append("a=rtcp-mux")
            if section.rtcpRsize { lines.append("a=rtcp-rsize") }
            for codec in answered.codecs {
                let channels = codec.channels.map { "/\($0)" } ?? ""
                lines.append("a=rtpmap:\(codec.payloadType) \(codec.name)/\(codec.clockRate)\(channels)")
                if let fmtp = codec.fmtp { lines.append("a=fmtp:\(codec.payloadType) \(fmtp)") }
                for feedback in codec.feedback where answered.feedback.contains(feedback) {
                    lines.append("a=rtcp-fb:\(codec.payloadType) \(feedback)")
                }
            }
            if let sending = answered.sending {
                lines.append("a=msid:\(sending.streamID) \(sending.trackID)")
                lines.append("a=ssrc:\(sending.ssrc) cname:visit-relay")
                lines.append("a=ssrc:\(sending.ssrc) msid:\(sending.streamID) \(sending.trackID)")
            }
            lines.append(
                "a=candidate:1 1 udp \(IceCandidatePriority.udpHost) \(candidate.host) \(candidate.port) typ host generation 0")
            if let tcp = tcpCandidate {
                // RFC 6544 §4.5: a passive candidate announces the listening port; RFC 8839 §5.1.
                lines.append(
                    "a=candidate:2 1 tcp \(IceCandidatePriority.tcpPassiveHost) \(tcp.host) \(tcp.port) typ host tcptype passive generation 0")
            }
            lines.append("a=end-of-candidates")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
