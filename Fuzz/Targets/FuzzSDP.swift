@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let sdp = try? SDPParser().parse(text) else { return 0 }
    for index in sdp.media.indices { _ = sdp.resolvedValue(of: "ice-ufrag", media: index) }
    let again = try? SDPParser(maxBytes: Int.max, maxLines: Int.max).parse(sdp.text)
    precondition(again == sdp, "SDP round trip changed the model")
    return 0
}
