@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    guard let d = try? VP8PayloadDescriptorView(validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(copy))) else {
        return 0
    }
    precondition(d.descriptorLength < size)
    _ = (d.isNonReference, d.isFrameStart, d.isKeyframe, d.tl0PicIdx, d.temporalLayerID, d.layerSync, d.keyIndex)
    let oldID = d.pictureID
    let long = d.hasLongPictureID
    var m = MutableRawSpan(_unsafeBytes: copy)
    d.setPictureID(0x1234, in: &m)
    d.setTL0PicIdx(9, in: &m)
    let again = try! VP8PayloadDescriptorView(validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(copy)))
    precondition(again.descriptorLength == d.descriptorLength && again.hasLongPictureID == long)
    if oldID != nil { precondition(again.pictureID == (long ? 0x1234 : 0x34)) }
    return 0
}
