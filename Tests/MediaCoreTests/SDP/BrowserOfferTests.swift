import Foundation
import Testing

@testable import MediaCore

/// Offers captured from headless Chromium and Firefox ESR by `scripts/capture-fixtures.py`.
enum BrowserFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// The hex lines of a capture file, as bytes.
    static func datagrams(_ name: String) throws -> [[UInt8]] {
        try text(name).split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            var bytes: [UInt8] = []
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                bytes.append(UInt8(line[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
    }
}

@Suite("SDP offers captured from Chromium and Firefox")
struct BrowserOfferTests {
    static let offers = ["chromium-audio-video", "chromium-simulcast", "firefox-audio-video", "firefox-simulcast"]

    @Test("each parses: BUNDLE, ICE, DTLS, codecs, feedback, extensions, candidates", arguments: offers)
    func parses(name: String) throws {
        let text = try BrowserFixtures.text("\(name)-offer.sdp")
        #expect(text.contains("\r\n"), "captured with CRLF line ends, as browsers write them")
        let sdp = try SDPParser().parse(text)
        #expect(sdp.bundleMids == sdp.media.compactMap(\.mid) && sdp.media.count == 2)
        #expect(sdp.media.map(\.kind) == ["audio", "video"])
        for (index, section) in sdp.media.enumerated() {
            #expect(
                sdp.resolvedValue(of: "ice-ufrag", media: index) != nil
                    && sdp.resolvedValue(of: "ice-pwd", media: index) != nil
            )
            #expect(
                sdp.fingerprint(media: index)?.hashFunction == "sha-256"
                    && sdp.fingerprint(media: index)?.bytes.count == 32
            )
            #expect(sdp.resolvedValue(of: "setup", media: index) == "actpass")
            #expect(section.values(of: "rtcp-mux").count == 1 && section.direction == .sendrecv)
            let candidates = section.candidates
            if index == 0 || name.hasPrefix("chromium") {  // Firefox puts candidates on the first section only (bundle)
                #expect(
                    candidates.contains { $0.type == "host" && $0.transport == "udp" && $0.component == 1 },
                    "\(name) m=\(section.kind)"
                )
            }
        }
        let audio = sdp.media[0]
        let video = sdp.media[1]
        let opus = try #require(audio.rtpMaps.first { $0.codec.lowercased() == "opus" })
        #expect(opus.clockRate == 48_000 && opus.channels == 2)
        #expect(audio.extMaps.contains { $0.uri == "urn:ietf:params:rtp-hdrext:ssrc-audio-level" })
        let vp8 = try #require(video.rtpMaps.first { $0.codec == "VP8" })
        let feedback = video.rtcpFeedback(for: vp8.payloadType).map { $0.type + ($0.parameter.map { " " + $0 } ?? "") }
        #expect(feedback.contains("nack") && feedback.contains("nack pli") && feedback.contains("ccm fir"))
        #expect(feedback.contains("transport-cc"), "both browsers offer transport-wide congestion control")
        #expect(video.extMaps.contains { $0.uri.hasSuffix("transport-wide-cc-extensions-01") })
        #expect(video.extMaps.contains { $0.uri == "urn:ietf:params:rtp-hdrext:sdes:mid" })
        // RTX for VP8: an rtx rtpmap whose apt points at VP8.
        let rtx = video.rtpMaps.filter { $0.codec.lowercased() == "rtx" }
        #expect(
            rtx.contains { pt in
                video.formatParameters(for: pt.payloadType).contains { $0 == ("apt", "\(vp8.payloadType)") }
            }
        )
    }

    @Test("simulcast offers name three rids to send; the others none", arguments: offers)
    func simulcast(name: String) throws {
        let video = try SDPParser().parse(BrowserFixtures.text("\(name)-offer.sdp")).media[1]
        if name.hasSuffix("simulcast") {
            let simulcast = try #require(video.simulcast)
            #expect(simulcast.send.flatMap { $0.map(\.rid) } == ["l", "m", "h"] && simulcast.receive.isEmpty)
            #expect(video.rids.map(\.id) == ["l", "m", "h"] && video.rids.allSatisfy { $0.direction == "send" })
            #expect(video.extMaps.contains { $0.uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" })
        } else {
            #expect(video.simulcast == nil && video.rids.isEmpty)
            if name.hasPrefix("chromium") {
                // Chromium announces its SSRCs and pairs media with RTX by FID (RFC 5576 §4.2).
                let fid = try #require(video.ssrcGroups.first { $0.semantics == "FID" })
                #expect(fid.ssrcs.count == 2 && fid.ssrcs.allSatisfy(video.ssrcs.contains))
            }
        }
    }

    @Test("the relay answers each browser's own offer", arguments: offers)
    func relayAnswers(name: String) throws {
        let offer = try BrowserFixtures.text("\(name)-offer.sdp")
        let summary = try OfferSummary.parse(offer)
        #expect(summary.sections.count == 2)
        var core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: try DtlsIdentity(commonName: "relay"),
            seed: 1
        )
        let result = try core.join(room: "fixture", role: .citizen, offer: offer, now: .now)
        let answer = try SDPParser().parse(result.answerSDP)
        #expect(answer.media.count == 2 && answer.bundleMids == ["0", "1"])
        #expect(answer.media[0].rtpMaps.contains { $0.codec.lowercased() == "opus" })
        #expect(answer.media[1].rtpMaps.contains { $0.codec == "VP8" })
    }

    @Test("every parser takes each captured offer with lines cut anywhere without crashing")
    func truncations() throws {
        for name in Self.offers {
            let text = try BrowserFixtures.text("\(name)-offer.sdp")
            for cut in stride(from: 0, to: text.utf8.count, by: 97) {
                let prefix = String(decoding: text.utf8.prefix(cut), as: UTF8.self)
                _ = try? SDPParser().parse(prefix)
                _ = try? OfferSummary.parse(prefix)
            }
        }
    }
}

/// Safari cannot run here, so `Tests/Fixtures/safari-shaped-offer.sdp` is hand-written in the shape
/// iPad Safari (WebKit's libwebrtc) offers: H.264 High and Constrained Baseline before VP8, RED,
/// ULPFEC, G.722/PCMU, a public srflx candidate.
@Suite("An iPad-Safari-shaped offer (hand-written)")
struct SafariShapedOfferTests {
    /// The relay forwards without transcoding, so one video codec serves the whole room; it is VP8,
    /// which Safari offers too (after H.264).
    @Test("the relay answers it with VP8 and its RTX, and Opus")
    func answersH264() throws {
        let offer = try BrowserFixtures.text("safari-shaped-offer.sdp")
        let sdp = try SDPParser().parse(offer)
        #expect(sdp.media[0].candidates.map(\.type) == ["host", "srflx"])
        #expect(sdp.media[1].ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [3_340_281_177, 1_949_628_401])])
        var core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: try DtlsIdentity(commonName: "relay"),
            seed: 1
        )
        let answer = try SDPParser().parse(
            try core.join(room: "ipad", role: .citizen, offer: offer, now: .now).answerSDP
        )
        #expect(
            answer.media[0].rtpMaps.map(\.codec) == ["red", "opus"],
            "RED around Opus first (issue: audio repair); no G.722, PCMU or DTMF"
        )
        let video = answer.media[1].rtpMaps
        #expect(
            video.map(\.codec) == ["VP8", "rtx"] && video.map(\.payloadType) == [100, 101],
            "Safari's payload types kept"
        )
        #expect(answer.media[1].formatParameterText(for: 101) == "apt=100", "RTX for VP8")
        #expect(answer.media[1].values(of: "rtcp-rsize").count == 1, "rtcp-rsize echoed")
    }
}
