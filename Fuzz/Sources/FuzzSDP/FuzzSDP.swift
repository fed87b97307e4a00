@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let sdp = try? SDPParser().parse(text) else { return 0 }
    _ = sdp.bundleMids
    for index in sdp.media.indices {
        let section = sdp.media[index]
        _ = (sdp.resolvedValue(of: "ice-ufrag", media: index), sdp.fingerprint(media: index))
        _ = (section.direction, section.extMaps, section.rids.count, section.ssrcs)
        for map in section.rtpMaps {
            _ = (section.formatParameters(for: map.payloadType), section.formatParameterText(for: map.payloadType))
            // A typed value written back parses to itself.
            var probe = SDPMediaSection(kind: "video", port: 9, proto: "RTP/AVP", formats: [])
            probe.add("rtpmap", map.attributeValue)
            precondition(probe.rtpMaps == [map], "rtpmap round trip")
        }
        for candidate in section.candidates {
            var probe = SDPMediaSection(kind: "audio", port: 9, proto: "RTP/AVP", formats: [])
            probe.add("candidate", candidate.attributeValue)
            precondition(probe.candidates == [candidate] || candidate.address.contains(" "), "candidate round trip")
        }
        for feedback in section.rtcpFeedback() {
            var probe = SDPMediaSection(kind: "video", port: 9, proto: "RTP/AVP", formats: [])
            probe.add("rtcp-fb", feedback.attributeValue)
            precondition(probe.rtcpFeedback() == [feedback], "rtcp-fb round trip")
        }
        _ = (section.ssrcGroups, section.simulcast)
    }
    let again = try? SDPParser(maxBytes: Int.max, maxLines: Int.max).parse(sdp.text)
    precondition(again == sdp, "SDP round trip changed the model")
    return 0
}
