@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard
        let v = try? H264PayloadView(
            validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(start: data, count: size))
        )
    else { return 0 }
    var covered = 0
    v.forEachNAL { _, range in
        precondition(range.upperBound <= size)
        covered &+= range.count
    }
    _ = (v.isKeyframe, v.startsFrame, v.fuStart, v.fuEnd, v.fuOriginalType)
    return CInt(covered & 0)
}
