/// RED payloads (RFC 2198): the view must refuse or accept any bytes without trapping, every block
/// it accepts lies inside the payload, and what it reads writes back to the same bytes.

@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let view = try? REDPayloadView(validating: input.bytes) else { return 0 }
    let count = view.redundantCount
    precondition(count <= REDPayloadView.maxRedundantBlocks)
    var blocks: [REDWriter.Redundancy] = []
    var end = 4 * count + 1  // the data blocks start after every header
    for index in 0..<count {
        let block = view.redundant(index)
        precondition(block.range.lowerBound >= end && block.range.upperBound <= size && block.distance == count - index)
        precondition(block.timestampOffset <= REDWriter.maxTimestampOffset && block.payloadType < 128)
        end = block.range.upperBound
        blocks.append(
            .init(
                payloadType: block.payloadType,
                timestampOffset: block.timestampOffset,
                bytes: UnsafeRawBufferPointer(rebasing: input[block.range])
            )
        )
    }
    let primary = view.primaryRange
    precondition(primary.lowerBound == end && primary.upperBound == size)
    // Written back, the payload is the input (the F bit aside, which the primary header never has).
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 1, alignment: 1)
    defer { out.deallocate() }
    let written = blocks.withUnsafeBufferPointer { list in
        REDWriter.write(
            redundant: list,
            primaryPayloadType: view.primaryPayloadType,
            primary: UnsafeRawBufferPointer(rebasing: input[primary]),
            into: out
        )
    }
    precondition(written == size && UnsafeRawBufferPointer(rebasing: out[0..<size]).elementsEqual(input))
    return 0
}
