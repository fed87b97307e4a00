import Testing

@testable import MediaCore

@Suite("Building SDP from typed attribute values")
struct SDPBuilderTests {
    @Test("each typed value written reads back equal")
    func roundTrips() throws {
        var media = SDPMediaSection(
            kind: "video",
            port: 9,
            proto: "UDP/TLS/RTP/SAVPF",
            formats: ["96", "97"],
            connection: "IN IP4 0.0.0.0"
        )
        let vp8 = SDPRtpMap(payloadType: 96, codec: "VP8", clockRate: 90_000)
        let opus = SDPRtpMap(payloadType: 111, codec: "opus", clockRate: 48_000, channels: 2)
        let feedback = [
            SDPRtcpFeedback(payloadType: 96, type: "nack", parameter: "pli"),
            SDPRtcpFeedback(payloadType: nil, type: "transport-cc"),
        ]
        let group = SDPSsrcGroup(semantics: "FID", ssrcs: [1, 4_294_967_295])
        let candidates = [
            SDPCandidate(
                foundation: "1",
                transport: "udp",
                priority: 2_130_706_431,
                address: "192.0.2.7",
                port: 40_000
            ),
            SDPCandidate(
                foundation: "2",
                transport: "tcp",
                priority: 1_516_240_895,
                address: "2001:db8::7",
                port: 443,
                tcpType: "passive"
            ),
        ]
        for map in [vp8, opus] { media.add("rtpmap", map.attributeValue) }
        for item in feedback { media.add("rtcp-fb", item.attributeValue) }
        media.add("ssrc-group", group.attributeValue)
        for candidate in candidates { media.add("candidate", candidate.attributeValue) }
        media.add("simulcast", "send l;~m,h")
        let fingerprint = SDPFingerprint(hashFunction: "sha-256", bytes: Array(0..<32))
        var sdp = SessionDescription(origin: "- 1 2 IN IP4 127.0.0.1")
        sdp.timings = ["0 0"]
        sdp.add("fingerprint", fingerprint.attributeValue)
        sdp.media = [media]

        let text = sdp.text
        let parsed = try SDPParser().parse(text)
        #expect(parsed == sdp, "parse(text) gives back the same description")
        #expect(parsed.text == text)
        let section = parsed.media[0]
        #expect(section.rtpMaps == [vp8, opus])
        #expect(section.rtcpFeedback() == feedback)
        #expect(section.rtcpFeedback(for: 96) == feedback, "a * line applies to every payload type")
        #expect(section.ssrcGroups == [group])
        #expect(section.candidates == candidates)
        #expect(parsed.fingerprint(media: 0) == fingerprint)
        let simulcast = try #require(section.simulcast)
        #expect(
            simulcast.send == [
                [.init(rid: "l", paused: false)], [.init(rid: "m", paused: true), .init(rid: "h", paused: false)],
            ]
        )
    }

    @Test("the relay's answer to a captured Chromium offer reads back through the typed accessors")
    func relayAnswer() throws {
        var core = RelayCore(
            configuration: RelayCoreConfiguration(
                announcedAddress: TransportAddress(ipv4: 0xC000_0207, port: 40_000),
                announcedTCPAddress: TransportAddress(ipv4: 0xC000_0207, port: 443, transport: .tcp)
            ),
            identity: try DtlsIdentity(commonName: "relay"),
            seed: 1
        )
        let offer = try BrowserFixtures.text("chromium-audio-video-offer.sdp")
        let text = try core.join(room: "answer", role: .citizen, offer: offer, now: .now).answerSDP
        let answer = try SDPParser().parse(text)
        #expect(answer.text == text, "the answer is exactly what the serializer writes")
        #expect(answer.value(of: "ice-lite") != nil)
        let offered = try SDPParser().parse(offer)
        for (index, section) in answer.media.enumerated() {
            #expect(section.mid == offered.media[index].mid)
            #expect(section.value(of: "setup") == "passive" && answer.fingerprint(media: index) != nil)
            #expect(
                section.candidates.map(\.transport) == ["udp", "tcp"] && section.candidates[1].tcpType == "passive"
            )
            #expect(section.candidates.allSatisfy { $0.address == "192.0.2.7" })
            // Every answered payload type was offered with the same codec.
            for map in section.rtpMaps {
                #expect(offered.media[index].rtpMaps.contains(map), "pt \(map.payloadType)")
            }
        }
        let video = answer.media[1]
        let vp8 = try #require(video.rtpMaps.first { $0.codec == "VP8" })
        let feedback = video.rtcpFeedback(for: vp8.payloadType).map(\.type)
        #expect(feedback.contains("nack") && feedback.contains("goog-remb"))
    }

    @Test("an offer with a bad line is refused naming the line")
    func badLine() {
        #expect(throws: JoinError.badOffer("line 3: expected <type>=<value>, got \"garbage\"")) {
            _ = try OfferSummary.parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ngarbage\r\n")
        }
        #expect(throws: JoinError.badOffer("the offer has no media sections")) {
            _ = try OfferSummary.parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n")
        }
    }
}
