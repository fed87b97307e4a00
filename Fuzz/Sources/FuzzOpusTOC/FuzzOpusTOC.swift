@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let span = RawSpan(_unsafeBytes: UnsafeRawBufferPointer(start: data, count: size))
    if let d = OpusTOC.durationSamples48k(packet: span) { precondition(d > 0 && d <= 63 * 2880) }
    // The in-band FEC flag reads at most the first two bytes, and says nothing of CELT-only packets.
    if let fec = OpusInbandFEC.present(packet: span) {
        precondition(size >= 2 && data[0] >> 3 < 16)
        _ = fec
    }
    if size > 0 {
        let toc = OpusTOC(data[0])
        _ = (toc.mode, toc.bandwidth, toc.isStereo, toc.frameCountCode)
        precondition([120, 240, 480, 960, 1920, 2880].contains(toc.frameSamples48k))
    }
    return 0
}
