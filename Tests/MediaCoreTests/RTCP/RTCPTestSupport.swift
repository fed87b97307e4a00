import MediaCore

/// Encodes with an `OutputRawSpan` over a fresh array (tests only).
func rtcpEncode(capacity: Int, _ body: (inout OutputRawSpan) -> Void) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let n = buffer.withUnsafeMutableBytes { raw in
        var out = OutputRawSpan(buffer: raw, initializedCount: 0)
        body(&out)
        return out.finalize(for: raw)
    }
    return Array(buffer.prefix(n))
}

/// Copies borrowed bytes out (tests only).
func rtcpBytes(_ span: RawSpan) -> [UInt8] {
    span.withUnsafeBytes { Array($0) }
}

/// Types an inline fixture as bytes (an untyped literal would be [Int]).
func rtcpBytes(_ bytes: [UInt8]) -> [UInt8] { bytes }
