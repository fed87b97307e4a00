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
        /// The RTX stream paired with `ssrc` (RFC 4588 §8.7: `a=ssrc-group:FID`), if any.
        var rtxSSRC: UInt32? = nil
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
        /// Header extensions answered (RFC 8285 §8), with the offerer's ids.
        var extensions: [SDPExtMap] = []
        /// Simulcast rids received in this section (RFC 8851 §4, RFC 8853 §5.1), if any.
        var simulcastRids: [String] = []
    }

    var sessionID: UInt64
    var ice: IceCredentials
    var fingerprint: DtlsFingerprint
    var candidate: TransportAddress
    /// The passive ICE-TCP candidate, if the relay listens for ICE-TCP.
    var tcpCandidate: TransportAddress? = nil
    var sections: [AnsweredSection]

    /// The answer as SDP text, built as a `SessionDescription` from the typed attribute values.
    var text: String { description.text }

    /// The dummy connection address of every section (JSEP RFC 9429 §5.3.1: ICE finds the real one),
    /// in the family of the relay's candidate: `IN IP4 0.0.0.0`, or `IN IP6 ::` for an IPv6 relay,
    /// which browsers read as the family of the default candidate.
    var connectionAddress: String { candidate.isIPv4 ? "IN IP4 0.0.0.0" : "IN IP6 ::" }

    var description: SessionDescription {
        var sdp = SessionDescription(origin: "- \(sessionID) 2 IN IP4 127.0.0.1")
        sdp.timings = ["0 0"]
        let bundled = sections.filter { !$0.rejected }.map(\.section.mid)
        if !bundled.isEmpty { sdp.add("group", "BUNDLE " + bundled.joined(separator: " ")) }
        sdp.add("ice-lite")
        sdp.add("msid-semantic", " WMS *")
        for answered in sections {
            let section = answered.section
            if answered.rejected {
                var media = SDPMediaSection(
                    kind: section.kind,
                    port: 0,
                    proto: section.proto,
                    formats: [section.kind == "application" ? "webrtc-datachannel" : "0"],
                    connection: connectionAddress
                )
                media.add("mid", section.mid)
                media.add("inactive")
                sdp.media.append(media)
                continue
            }
            var media = SDPMediaSection(
                kind: section.kind,
                port: 9,
                proto: section.proto,
                formats: answered.codecs.map { String($0.payloadType) },
                connection: connectionAddress
            )
            media.add("rtcp", "9 \(connectionAddress)")
            media.add("ice-ufrag", ice.ufrag)
            media.add("ice-pwd", ice.pwd)
            media.add("fingerprint", fingerprint.sdpValue)
            media.add("setup", "passive")
            media.add("mid", section.mid)
            media.add(answered.direction)
            media.add("rtcp-mux")
            if section.rtcpRsize { media.add("rtcp-rsize") }
            for extensionMap in answered.extensions { media.add("extmap", "\(extensionMap.id) \(extensionMap.uri)") }
            for codec in answered.codecs {
                let channels = codec.channels.flatMap { UInt8(exactly: $0) }
                media.add(
                    "rtpmap",
                    SDPRtpMap(
                        payloadType: codec.payloadType,
                        codec: codec.name,
                        clockRate: codec.clockRate,
                        channels: channels
                    ).attributeValue
                )
                if let fmtp = codec.fmtp { media.add("fmtp", "\(codec.payloadType) \(fmtp)") }
                for feedback in codec.feedback where answered.feedback.contains(feedback) {
                    let parts = feedback.split(separator: " ", maxSplits: 1)
                    media.add(
                        "rtcp-fb",
                        SDPRtcpFeedback(
                            payloadType: codec.payloadType,
                            type: String(parts[0]),
                            parameter: parts.count > 1 ? String(parts[1]) : nil
                        ).attributeValue
                    )
                }
            }
            if !answered.simulcastRids.isEmpty {
                for rid in answered.simulcastRids { media.add("rid", "\(rid) recv") }
                media.add("simulcast", "recv " + answered.simulcastRids.joined(separator: ";"))
            }
            if let sending = answered.sending {
                media.add("msid", "\(sending.streamID) \(sending.trackID)")
                if let rtx = sending.rtxSSRC { media.add("ssrc-group", "FID \(sending.ssrc) \(rtx)") }
                media.add("ssrc", "\(sending.ssrc) cname:visit-relay")
                media.add("ssrc", "\(sending.ssrc) msid:\(sending.streamID) \(sending.trackID)")
                if let rtx = sending.rtxSSRC {
                    media.add("ssrc", "\(rtx) cname:visit-relay")
                    media.add("ssrc", "\(rtx) msid:\(sending.streamID) \(sending.trackID)")
                }
            }
            media.add(
                "candidate",
                SDPCandidate(
                    foundation: "1",
                    transport: "udp",
                    priority: IceCandidatePriority.udpHost,
                    address: candidate.host,
                    port: candidate.port
                ).attributeValue
            )
            if let tcp = tcpCandidate {
                // RFC 6544 §4.5: a passive candidate announces the listening port; RFC 8839 §5.1.
                media.add(
                    "candidate",
                    SDPCandidate(
                        foundation: "2",
                        transport: "tcp",
                        priority: IceCandidatePriority.tcpPassiveHost,
                        address: tcp.host,
                        port: tcp.port,
                        tcpType: "passive"
                    ).attributeValue
                )
            }
            media.add("end-of-candidates")
            sdp.media.append(media)
        }
        return sdp
    }
}
