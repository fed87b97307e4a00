@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    guard let view = try? STUNMessageView(validating: RawSpan(_unsafeBytes: buffer)) else { return 0 }
    var sum = Int(view.messageType.rawValue) &+ Int(view.priority ?? 0) &+ Int(view.errorCode ?? 0)
    sum &+= Int(truncatingIfNeeded: (view.iceControlling ?? 0) &+ (view.iceControlled ?? 0))
    sum &+= view.useCandidate ? 1 : 0
    sum &+= Int(view.firstUnknownRequiredAttribute ?? 0)
    if let names = view.iceUsername { precondition(names.sender.upperBound <= size && names.receiver.lowerBound >= 20) }
    if let integrity = view.integrityOffset { precondition(integrity + 24 <= size) }
    _ = view.verifyIntegrity(password: "fuzz-password-22-chars")
    _ = view.mappedAddress
    // Whatever parsed re-encodes to a message with the same fields, and that parses again.
    var message = STUNMessage(type: view.messageType, transactionID: view.transactionID)
    message.priority = view.priority
    message.useCandidate = view.useCandidate
    message.iceControlling = view.iceControlling
    message.xorMappedAddress = view.xorMappedAddress
    message.integrityPassword = "fuzz-password-22-chars"
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: message.encodedSize, alignment: 1)
    defer { out.deallocate() }
    var span = OutputRawSpan(buffer: out, initializedCount: 0)
    message.encode(into: &span)
    let written = span.finalize(for: out)
    precondition(written == message.encodedSize)
    let again = try! STUNMessageView(validating: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(out)))
    precondition(again.xorMappedAddress == view.xorMappedAddress && again.priority == view.priority)
    precondition(again.verifyIntegrity(password: "fuzz-password-22-chars"))
    return CInt(truncatingIfNeeded: sum & 0)
}
