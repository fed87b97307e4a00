@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    let span = RawSpan(_unsafeBytes: buffer)
    guard let view = try? RTPPacketView(validating: span) else { return 0 }
    var sum = Int(view.sequenceNumber) &+ Int(view.timestamp) &+ Int(view.ssrc) &+ Int(view.payloadType)
    for i in 0..<view.csrcCount { sum &+= Int(view.csrc(at: i)) }
    precondition(view.payloadRange.upperBound + view.paddingLength == size)
    view.forEachExtension { id, range in
        precondition(range.upperBound <= view.payloadOffset)
        sum &+= Int(id) &+ range.count
        return true
    }
    for id: UInt8 in 1...14 {
        _ = view.absSendTime(id: id)
        _ = view.transportWideSequenceNumber(id: id)
        _ = view.audioLevel(id: id)
        _ = view.playoutDelay(id: id)
    }
    // Rewrite a copy in place and re-parse.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: buffer)
    var mspan = MutableRawSpan(_unsafeBytes: copy)
    RTPPacketRewriter.setSSRC(0x1234_5678, in: &mspan)
    RTPPacketRewriter.setSequenceNumber(0xFFFF, in: &mspan)
    if let block = view.extensionOffset {
        RTPPacketRewriter.remapExtensionIDs(
            [2, 0, 4, 0, 6, 0, 8, 0, 10, 0, 12, 0, 14, 0, 1],
            blockOffset: block,
            in: &mspan
        )
    }
    let again = try! RTPPacketView(validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(copy)))
    precondition(again.ssrc == 0x1234_5678 && again.sequenceNumber == 0xFFFF && again.payloadRange == view.payloadRange)
    return CInt(truncatingIfNeeded: sum & 0)
}
