@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let sdp = try? SDPParser().parse(text) else { return 0 }
    _ = sdp.bundleMids
    for index in sdp.media.indices {
        let section = sdp.media[index]
        _ = (sdp.resolvedValue(of: "ice-ufrag", media: index), sdp.fingerprint(media: index))
        _ = (section.direction, section.extMaps, section.rids.count, section.ssrcs)
        for map in section.rtpMaps { _ = section.formatParameters(for: map.payloadType) }
    }
    let again = try? SDPParser(maxBytes: Int.max, maxLines: Int.max).parse(sdp.text)
    precondition(again == sdp, "SDP round trip changed the model")
    return 0
}
