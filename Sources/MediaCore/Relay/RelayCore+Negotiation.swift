/// The outcome of an offer/answer exchange for one participant.
struct Negotiation {
    var remoteUfrag: String
    var remotePassword: String
    var remoteFingerprint: DtlsFingerprint
    var audio: PublishedStream?
    var video: PublishedStream?
    var slots: [ReceiveSlot]
    var answerSDP: String
    /// The transport-wide sequence number's extension id (one per bundle), if agreed in either direction.
    var transportSequenceExtension: UInt8?
    /// Whether it was agreed on what the participant sends (we give feedback) ...
    var uplinkTransportCC = false
    /// ... and on what we send it (it gives feedback, our estimator runs).
    var downlinkTransportCC = false
}

extension RelayCore {
    /// The codecs the relay accepts per kind, most preferred first (RTP encoding names, RFC 8866 §6.6).
    static let acceptedCodecs: [String: [(name: String, clockRate: UInt32)]] = [
        "audio": [("opus", 48_000)],
        "video": [("VP8", 90_000)],
    ]

    static let transportSequenceURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    /// RFC 8843 §15 (MID) and RFC 8852 §3 (RtpStreamId, RepairedRtpStreamId): what a simulcast
    /// sender marks its encodings with until it knows we have their SSRCs.
    static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
    static let ridURI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    static let repairedRidURI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

    /// Parses an offer and builds our answer for the fixed-slot layout of docs/signaling.md: the
    /// first sending audio and video sections are what the participant publishes; later receiving
    /// sections pair up (audio, video) into receive slots, at most `receiveSlots` of them.
    mutating func negotiate(
        offer: String,
        local: IceCredentials,
        receiveSlots: Int,
        existing: Participant? = nil,
        now: ContinuousClock.Instant
    ) throws(JoinError) -> Negotiation {
        let summary = try OfferSummary.parse(offer)
        guard summary.setup == "actpass" || summary.setup == "active" else {
            throw .badOffer("a=setup:\(summary.setup): the relay is always the DTLS server (passive)")
        }
        var answered: [AnswerWriter.AnsweredSection] = []
        var audio: PublishedStream?
        var video: PublishedStream?
        var receivingAudio: [Int] = []
        var receivingVideo: [Int] = []
        let videoFeedback: Set<String> =
            configuration.relayNack ? ["nack", "nack pli", "ccm fir"] : ["nack pli", "ccm fir"]
        // Transport-wide congestion control on what the participant sends: the extension with the
        // offerer's id (one id across the bundle) and transport-cc feedback on its codecs.
        var transportSequenceExtension: UInt8?
        var uplinkTransportCC = false
        var downlinkTransportCC = false
        func transportCC(
            _ section: OfferSummary.Section,
            enabled: Bool
        ) -> (extensions: [SDPExtMap], feedback: Set<String>) {
            guard enabled,
                let map = section.extMaps.first(where: { $0.uri == Self.transportSequenceURI }),
                transportSequenceExtension == nil || transportSequenceExtension == map.id
            else { return ([], []) }
            transportSequenceExtension = map.id
            return ([SDPExtMap(id: map.id, direction: nil, uri: map.uri)], ["transport-cc"])
        }
        // The same, on what the participant sends us.
        func congestion(
            _ section: OfferSummary.Section,
            enabled: Bool
        ) -> (extensions: [SDPExtMap], feedback: Set<String>) {
            let agreed = transportCC(section, enabled: enabled)
            uplinkTransportCC = uplinkTransportCC || !agreed.extensions.isEmpty
            return agreed
        }
        for section in summary.sections {
            var accepted = Self.accept(section)
            guard section.port != 0 || section.bundleOnly, section.proto.contains("SAVPF"), !accepted.isEmpty else {
                answered.append(
                    .init(section: section, codecs: [], direction: "inactive", sending: nil, rejected: true)
                )
                continue
            }
            let sends = section.direction == "sendonly" || section.direction == "sendrecv"
            let receives = section.direction == "recvonly" || section.direction == "sendrecv"
            if section.kind == "audio" && configuration.audioRepair {
                accepted += Self.redCodecs(section, around: accepted)
            }
            if sends && section.kind == "audio" && audio == nil {
                var stream = Self.published(section, accepted: accepted)
                var feedback = congestion(section, enabled: configuration.transportFeedback)
                if configuration.audioRepair {
                    // RED first: the answer's order is the sender's choice, and RED repeats each
                    // packet in the next, which repairs an uplink loss with no round trip.
                    accepted =
                        accepted.filter { $0.name.lowercased() == "red" }
                        + accepted.filter { $0.name.lowercased() != "red" }
                    stream.answersNack = accepted.contains {
                        $0.name.lowercased() == "opus" && $0.feedback.contains("nack")
                    }
                    if stream.answersNack { feedback.feedback.insert("nack") }
                    stream.encodings[0].nack = NackGenerator(now: now, inTimeHorizon: Self.audioRepairHorizon)
                }
                audio = stream
                answered.append(
                    .init(
                        section: section,
                        codecs: accepted,
                        direction: "recvonly",
                        sending: nil,
                        rejected: false,
                        feedback: feedback.feedback,
                        extensions: feedback.extensions
                    )
                )
            } else if sends && section.kind == "video" && video == nil {
                // With relay-side repair the sender may retransmit to us with RTX (RFC 4588).
                if configuration.relayNack { accepted += Self.rtxCodecs(section, repairing: accepted) }
                var stream = Self.published(section, accepted: accepted)
                let simulcast = configuration.simulcast ? Self.simulcast(section, into: &stream) : nil
                for index in stream.encodings.indices {
                    if configuration.relayNack { stream.encodings[index].nack = NackGenerator(now: now) }
                    stream.encodings[index].frames = FrameAssembler()
                }
                video = stream
                // goog-remb: the relay caps this sender with REMB (operator limits, and without
                // simulcast its receivers' estimates).
                let congestion = congestion(section, enabled: configuration.transportFeedback)
                answered.append(
                    .init(
                        section: section,
                        codecs: accepted,
                        direction: "recvonly",
                        sending: nil,
                        rejected: false,
                        feedback: videoFeedback.union(["goog-remb"]).union(congestion.feedback),
                        extensions: congestion.extensions + (simulcast?.extensions ?? []),
                        simulcastRids: simulcast?.rids ?? []
                    )
                )
            } else if receives {
                if section.kind == "audio" {
                    receivingAudio.append(answered.count)
                } else {
                    receivingVideo.append(answered.count)
                }
                // Transport-wide numbers on what we send it: its feedback drives our estimator for it.
                let congestion = transportCC(section, enabled: configuration.downlinkEstimation)
                downlinkTransportCC = downlinkTransportCC || !congestion.extensions.isEmpty
                let audioFeedback: Set<String> = configuration.audioRepair ? ["nack"] : []
                // RTX for the bandwidth probes (padding-only packets on the RTX stream, RFC 4588 §4),
                // where the receiver offers it for the codec the relay sends and NACKs what it
                // misses (relay-side repair on): padding on the media stream would be NACKed.
                if section.kind == "video" && configuration.downlinkEstimation && configuration.relayNack {
                    accepted += Self.rtxCodecs(section, repairing: accepted)
                }
                answered.append(
                    .init(
                        section: section,
                        codecs: accepted,
                        direction: "inactive",
                        sending: nil,
                        rejected: false,
                        feedback: (section.kind == "video" ? videoFeedback : audioFeedback).union(congestion.feedback),
                        extensions: congestion.extensions
                    )
                )
            } else {
                answered.append(
                    .init(section: section, codecs: accepted, direction: "inactive", sending: nil, rejected: false)
                )
            }
        }
        let slotCount = min(receiveSlots, receivingAudio.count, receivingVideo.count)
        var slots: [ReceiveSlot] = []
        for index in 0..<slotCount {
            let a = receivingAudio[index]
            let v = receivingVideo[index]
            var slot: ReceiveSlot
            if let existing, index < existing.slots.count {
                slot = existing.slots[index]
            } else {
                slot = ReceiveSlot(
                    index: index,
                    audioMid: answered[a].section.mid,
                    videoMid: answered[v].section.mid,
                    audioPayloadTypes: Self.payloadTypes(answered[a].codecs),
                    videoPayloadTypes: Self.payloadTypes(answered[v].codecs),
                    audio: OutgoingStreamRewriter(
                        ssrc: UInt32.random(in: 1...UInt32.max, using: &random),
                        clockRate: 48_000,
                        initialSequence: UInt16.random(in: 0...UInt16.max, using: &random),
                        initialTimestamp: UInt32.random(in: 0...UInt32.max, using: &random)
                    ),
                    video: OutgoingStreamRewriter(
                        ssrc: UInt32.random(in: 1...UInt32.max, using: &random),
                        clockRate: 90_000,
                        initialSequence: UInt16.random(in: 0...UInt16.max, using: &random),
                        initialTimestamp: UInt32.random(in: 0...UInt32.max, using: &random)
                    ),
                    source: nil
                )
                if configuration.relayNack { slot.videoCache = RtxCache() }
                if configuration.audioRepair { slot.audioCache = RtxCache(capacity: RtxCache.audioCapacity) }
                if let vp8 = slot.videoPayloadTypes[.vp8],
                    let rtx = answered[v].codecs.first(where: { $0.name.lowercased() == "rtx" && Self.apt($0) == vp8 })
                {
                    slot.paddingRTX = PaddingRTXStream(
                        ssrc: UInt32.random(in: 1...UInt32.max, using: &random),
                        payloadType: rtx.payloadType,
                        sequence: UInt16.random(in: 0...UInt16.max, using: &random)
                    )
                }
            }
            answered[a].direction = "sendonly"
            answered[a].sending = .init(ssrc: slot.audio.ssrc, streamID: "slot\(index)", trackID: "slot\(index)-audio")
            answered[v].direction = "sendonly"
            answered[v].sending = .init(
                ssrc: slot.video.ssrc,
                streamID: "slot\(index)",
                trackID: "slot\(index)-video",
                rtxSSRC: slot.paddingRTX?.ssrc
            )
            slots.append(slot)
        }
        guard answered.contains(where: { !$0.rejected }) else {
            throw .badOffer("no audio or video section with a codec the relay forwards (Opus, VP8)")
        }
        let writer = AnswerWriter(
            sessionID: random.next() >> 1,
            ice: local,
            fingerprint: identity.fingerprint,
            candidate: configuration.announcedAddress,
            tcpCandidate: configuration.announcedTCPAddress,
            sections: answered
        )
        return Negotiation(
            remoteUfrag: summary.iceUfrag,
            remotePassword: summary.icePassword,
            remoteFingerprint: summary.fingerprint,
            audio: audio,
            video: video,
            slots: slots,
            answerSDP: writer.text,
            transportSequenceExtension: transportSequenceExtension,
            uplinkTransportCC: uplinkTransportCC,
            downlinkTransportCC: downlinkTransportCC
        )
    }

    /// The offered codecs the relay accepts, in the offerer's order.
    static func accept(_ section: OfferSummary.Section) -> [OfferSummary.Codec] {
        guard let accepted = acceptedCodecs[section.kind] else { return [] }
        return section.codecs.filter { codec in
            accepted.contains { $0.name.lowercased() == codec.name.lowercased() && $0.clockRate == codec.clockRate }
        }
    }

    /// The offered RED codecs (RFC 2198, `red/48000/2`) whose every block is one of the accepted
    /// Opus payload types (the fmtp `111/111` of RFC 2198 §5 names them).
    static func redCodecs(
        _ section: OfferSummary.Section,
        around accepted: [OfferSummary.Codec]
    ) -> [OfferSummary.Codec] {
        let opus = Set(accepted.filter { $0.name.lowercased() == "opus" }.map(\.payloadType))
        return section.codecs.filter { codec in
            guard codec.name.lowercased() == "red", codec.clockRate == 48_000, let fmtp = codec.fmtp else {
                return false
            }
            let blocks = fmtp.split(separator: "/").map { UInt8(String($0.filter { $0 != " " })) }
            return !blocks.isEmpty && blocks.allSatisfy { $0.map(opus.contains) ?? false }
        }
    }

    /// The offered RTX codecs whose `apt` (RFC 4588 §8.6) is one of the accepted payload types.
    static func rtxCodecs(
        _ section: OfferSummary.Section,
        repairing accepted: [OfferSummary.Codec]
    ) -> [OfferSummary.Codec] {
        section.codecs.filter { codec in
            guard codec.name.lowercased() == "rtx", let apt = Self.apt(codec) else { return false }
            return accepted.contains { $0.payloadType == apt }
        }
    }

    static func apt(_ codec: OfferSummary.Codec) -> UInt8? {
        guard let fmtp = codec.fmtp else { return nil }
        for parameter in fmtp.split(separator: ";") {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingPrefix(" ") == "apt" { return UInt8(pair[1]) }
        }
        return nil
    }

    /// The sender's payload types of a section it publishes, by codec: what the answer accepted.
    static func published(_ section: OfferSummary.Section, accepted: [OfferSummary.Codec]) -> PublishedStream {
        var codecs: [UInt8: MediaCodec] = [:]
        for codec in accepted {
            if let known = MediaCodec(encodingName: codec.name) { codecs[codec.payloadType] = known }
        }
        let primary = section.fidGroups.first?.0 ?? section.ssrcs.first
        var stream = PublishedStream(
            mid: section.mid,
            ssrc: primary,
            rtxSSRC: section.fidGroups.first?.1,
            codecs: codecs
        )
        // With several FID groups and no simulcast rids, the first pair is the stream (the rest are
        // legacy SIM layers the relay does not pick from).
        for codec in accepted where codec.name.lowercased() == "rtx" {
            if let apt = apt(codec) { stream.rtxPayloadTypes[codec.payloadType] = apt }
        }
        return stream
    }

    /// Simulcast (RFC 8853 §5.1): when the section sends two or more rids and offers the RtpStreamId
    /// extension, `stream` gets one encoding per rid (at most `maxSimulcastEncodings`), and the answer
    /// receives them (`a=rid:<id> recv`, `a=simulcast:recv`) with the MID and rid extensions.
    /// Nil when the offer has no simulcast the relay can take; the sender then sends one stream.
    static func simulcast(
        _ section: OfferSummary.Section,
        into stream: inout PublishedStream
    ) -> (rids: [String], extensions: [SDPExtMap])? {
        let rids = Array(section.simulcastSendRids.prefix(RelayCoreConfiguration.maxSimulcastEncodings))
        guard rids.count >= 2, let rid = section.extMaps.first(where: { $0.uri == ridURI }) else { return nil }
        stream.encodings = rids.map { PublishedEncoding(rid: $0) }
        stream.ridExtension = rid.id
        var extensions = [SDPExtMap(id: rid.id, direction: nil, uri: rid.uri)]
        if let repaired = section.extMaps.first(where: { $0.uri == repairedRidURI }) {
            stream.repairedRidExtension = repaired.id
            extensions.append(SDPExtMap(id: repaired.id, direction: nil, uri: repaired.uri))
        }
        if let mid = section.extMaps.first(where: { $0.uri == midURI }) {
            extensions.insert(SDPExtMap(id: mid.id, direction: nil, uri: mid.uri), at: 0)
        }
        return (rids, extensions)
    }

    static func payloadTypes(_ codecs: [OfferSummary.Codec]) -> [MediaCodec: UInt8] {
        var map: [MediaCodec: UInt8] = [:]
        for codec in codecs {
            if let known = MediaCodec(encodingName: codec.name), map[known] == nil { map[known] = codec.payloadType }
        }
        return map
    }
}
