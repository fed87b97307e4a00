import Testing

@testable import MediaCore

/// A hand-written Chromium-shaped offer; real captures are in Tests/Fixtures (BrowserOfferTests).
let chromiumShapedOffer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=extmap-allow-mixed
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63
    c=IN IP4 0.0.0.0
    a=ice-ufrag:abcd
    a=ice-pwd:0123456789abcdef012345
    a=fingerprint:sha-256 AB:CD:EF
    a=setup:actpass
    a=mid:0
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=fmtp:111 minptime=10;useinbandfec=1
    m=video 9 UDP/TLS/RTP/SAVPF 96 97
    c=IN IP4 0.0.0.0
    a=mid:1
    a=rtpmap:96 VP8/90000
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=rid:q send
    a=simulcast:send q

    """

@Suite struct SDPParserTests {
    @Test func parsesSectionsAndAttributes() throws {
        let sdp = try SDPParser().parse(chromiumShapedOffer)
        #expect(sdp.media.count == 2)
        #expect(sdp.value(of: "group") == "BUNDLE 0 1")
        #expect(sdp.media[0].kind == "audio")
        #expect(sdp.media[0].formats == ["111", "63"])
        #expect(sdp.media[0].value(of: "rtcp-mux") == "")
        #expect(sdp.media[1].mid == "1")
        #expect(sdp.media[1].values(of: "rtpmap") == ["96 VP8/90000", "97 rtx/90000"])
        #expect(sdp.media[1].value(of: "simulcast") == "send q")
    }

    @Test func crlfAndLFGiveTheSameModel() throws {
        let crlf = chromiumShapedOffer.split(separator: "\n").joined(separator: "\r\n")
        #expect(try SDPParser().parse(crlf) == SDPParser().parse(chromiumShapedOffer))
    }

    @Test func roundTrip() throws {
        let first = try SDPParser().parse(chromiumShapedOffer)
        let second = try SDPParser().parse(first.text)
        #expect(first == second)
        #expect(first.text.contains("\r\n"))
    }

    @Test func malformedLineCarriesLineNumber() {
        #expect(throws: SDPParseError.malformedLine(line: 3, text: "m=video")) {
            try SDPParser().parse("v=0\no=- 1 1 IN IP4 0.0.0.0\nm=video\n")
        }
        #expect(throws: SDPParseError.malformedLine(line: 2, text: "garbage")) {
            try SDPParser().parse("v=0\ngarbage\n")
        }
    }

    @Test func unknownLineTypesAreIgnored() throws {
        let sdp = try SDPParser().parse("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nz=whatever\nt=0 0\n")
        #expect(sdp.timings == ["0 0"])
    }

    @Test func limits() {
        #expect(throws: SDPParseError.tooLarge(size: chromiumShapedOffer.utf8.count, limit: 100)) {
            try SDPParser(maxBytes: 100).parse(chromiumShapedOffer)
        }
        #expect(throws: SDPParseError.tooManyLines(limit: 5)) {
            try SDPParser(maxLines: 5).parse(chromiumShapedOffer)
        }
        #expect(throws: SDPParseError.missingVersion) { try SDPParser().parse("o=x\n") }
    }

    @Test func sessionLevelIceAppliesToEverySection() throws {
        let sdp = try SDPParser().parse(
            "v=0\no=-\ns=-\nt=0 0\na=ice-ufrag:u\nm=audio 9 RTP/AVP 0\nm=video 9 RTP/AVP 96\na=ice-ufrag:v\n"
        )
        #expect(sdp.resolvedValue(of: "ice-ufrag", media: 0) == "u")
        #expect(sdp.resolvedValue(of: "ice-ufrag", media: 1) == "v")
    }
}

@Suite struct SDPTypedAccessorTests {
    @Test func typedAttributes() throws {
        let sdp = try SDPParser().parse(chromiumShapedOffer)
        #expect(sdp.bundleMids == ["0", "1"])
        #expect(sdp.media[0].direction == .sendrecv)
        #expect(sdp.media[0].rtpMaps == [SDPRtpMap(payloadType: 111, codec: "opus", clockRate: 48000, channels: 2)])
        #expect(sdp.media[0].formatParameters(for: 111).map(\.key) == ["minptime", "useinbandfec"])
        #expect(sdp.media[1].formatParameters(for: 97).first?.value == "96")
        #expect(sdp.media[1].rids.map(\.id) == ["q"])
    }
}

@Suite struct SDPFingerprintTests {
    @Test func decodesColonHex() throws {
        let sdp = try SDPParser().parse(chromiumShapedOffer)
        #expect(sdp.fingerprint(media: 0) == SDPFingerprint(attributeValue: "sha-256 ab:cd:ef"))
        #expect(sdp.fingerprint(media: 0)?.bytes == [0xAB, 0xCD, 0xEF])
        #expect(sdp.fingerprint(media: 1) == nil)
        #expect(SDPFingerprint(attributeValue: "sha-256 AB:C") == nil)
    }
}
