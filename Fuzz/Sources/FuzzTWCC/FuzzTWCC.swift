@testable import MediaCore

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    // 1. Parse the input as one TWCC packet and walk every entry.
    if let fb = try? RTCPTransportFeedbackView(validating: raw.bytes) {
        var entries = fb.packets
        var count = 0
        var seq = fb.baseSequenceNumber
        while let e = entries.next() {
            precondition(e.sequenceNumber == seq && (e.arrivalTimeUs == nil) == (e.status == .notReceived))
            seq &+= 1
            count += 1
        }
        precondition(count == fb.packetStatusCount)
        _ = (fb.senderSSRC, fb.mediaSSRC, fb.referenceTimeUs, fb.feedbackPacketCount)
    }
    // 2. Build from fuzz-chosen arrivals, parse back, and demand an exact round trip.
    guard size >= 3 else { return 0 }
    var arrivals: [RTCPTransportFeedbackArrival] = []
    var seq = UInt16(data[0]) << 8 | UInt16(data[1])
    let maxSize = RTCPTransportFeedback.minimumMaxSize + Int(data[2]) * 8
    var t: Int64 = 1_000_000_000
    var i = 3
    while i + 4 <= size {
        let step = Int(data[i] & 0x0F)
        let lost = data[i] & 0x80 != 0
        let magnitude = Int64(Int16(bitPattern: UInt16(data[i + 1]) << 8 | UInt16(data[i + 2])))
        let scale: Int64 = data[i + 3] & 0x80 != 0 ? 1000 : 1
        t = max(0, t + magnitude * scale + Int64(data[i + 3] & 0x7F))
        if !arrivals.isEmpty { seq &+= UInt16(1 + step) }
        arrivals.append(.init(sequenceNumber: seq, arrivalTimeUs: lost ? nil : t))
        i += 4
    }
    guard !arrivals.isEmpty else { return 0 }
    var buffer = [UInt8](repeating: 0, count: 1 << 18)
    let written = buffer.withUnsafeMutableBytes { out in
        var o = OutputRawSpan(buffer: out, initializedCount: 0)
        var rest = arrivals.span
        var n: UInt8 = 0
        while !rest.isEmpty {
            let fb = RTCPTransportFeedback(
                senderSSRC: 1,
                mediaSSRC: 2,
                feedbackPacketCount: n,
                arrivals: rest,
                maxSize: maxSize
            )
            precondition(fb.encodedSize <= maxSize && fb.encodedSize % 4 == 0 && fb.consumedCount > 0)
            fb.encode(into: &o)
            rest = rest.extracting(droppingFirst: fb.consumedCount)
            n &+= 1
        }
        return o.finalize(for: out)
    }
    var next = 0
    buffer.withUnsafeBytes { bytes in
        var it = RTCPCompoundIterator(bytes.bytes.extracting(0..<written))
        while let packet = try! it.next() {
            var previous: UInt16? = nil
            let fb = try! RTCPTransportFeedbackView(validating: packet.bytes)
            var entries = fb.packets
            while let e = entries.next() {
                if let p = previous { precondition(e.sequenceNumber == p &+ 1) }
                previous = e.sequenceNumber
                if next < arrivals.count && e.sequenceNumber == arrivals[next].sequenceNumber {
                    let a = arrivals[next]
                    precondition(e.arrivalTimeUs == (a.isReceived ? a.arrivalTimeUs / 250 * 250 : nil))
                    next += 1
                } else {
                    precondition(e.status == .notReceived)
                }
            }
        }
    }
    precondition(next == arrivals.count)
    return 0
}
