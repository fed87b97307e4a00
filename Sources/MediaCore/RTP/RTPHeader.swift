/// An RTP header to write (RFC 3550 §5.1) with optional RFC 8285 extensions, for tools, tests and
/// the load harness. One-byte form (0xBEDE) when every id is 1...14 and value 1...16 bytes,
/// otherwise the two-byte form (0x1000). The extension block is zero-padded to 32 bits.
public struct RTPHeader: Sendable, Equatable {
    /// Marker bit.
    public var marker: Bool
    /// 7-bit payload type.
    public var payloadType: UInt8
    /// Sequence number.
    public var sequenceNumber: UInt16
    /// Media timestamp (clock-rate units).
    public var timestamp: UInt32
    /// SSRC.
    public var ssrc: UInt32
    /// CSRCs (at most 15).
    public var csrcs: [UInt32]
    /// Extension elements as (id, value), held by the caller.
    public var extensions: [(id: UInt8, value: [UInt8])]

    /// Creates a header; `csrcs.count <= 15`.
    public init(
        marker: Bool = false,
        payloadType: UInt8,
        sequenceNumber: UInt16,
        timestamp: UInt32,
        ssrc: UInt32,
        csrcs: [UInt32] = [],
        extensions: [(id: UInt8, value: [UInt8])] = []
    ) {
        precondition(csrcs.count <= 15)
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.extensions = extensions
    }

    public static func == (a: RTPHeader, b: RTPHeader) -> Bool {
        a.marker == b.marker && a.payloadType == b.payloadType && a.sequenceNumber == b.sequenceNumber
            && a.timestamp == b.timestamp && a.ssrc == b.ssrc && a.csrcs == b.csrcs
            && a.extensions.elementsEqual(b.extensions) { $0.id == $1.id && $0.value == $1.value }
    }

    private var usesOneByteForm: Bool {
        extensions.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.value.count) }
    }
    private var extensionDataSize: Int {
        let header = usesOneByteForm ? 1 : 2
        let raw = extensions.reduce(0) { $0 + header + $1.value.count }
        return (raw + 3) / 4 * 4
    }
    /// Encoded header size in bytes.
    public var encodedSize: Int { 12 + csrcs.count * 4 + (extensions.isEmpty ? 0 : 4 + extensionDataSize) }

    /// Writes the header; precondition: `out` has `encodedSize` bytes of room.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= encodedSize, "RTPHeader.encode: output too small")
        out.append(UInt8(0x80 | (extensions.isEmpty ? 0 : 0x10) | UInt8(csrcs.count)))
        out.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        out.append(sequenceNumber.bigEndian, as: UInt16.self)
        out.append(timestamp.bigEndian, as: UInt32.self)
        out.append(ssrc.bigEndian, as: UInt32.self)
        for c in csrcs { out.append(c.bigEndian, as: UInt32.self) }
        guard !extensions.isEmpty else { return }
        let one = usesOneByteForm
        let size = extensionDataSize
        out.append(
            (one ? RTPHeaderExtensionElements.oneByteProfile : RTPHeaderExtensionElements.twoByteProfile).bigEndian,
            as: UInt16.self
        )
        out.append(UInt16(size / 4).bigEndian, as: UInt16.self)
        var written = 0
        for e in extensions {
            if one {
                out.append(e.id << 4 | UInt8(e.value.count - 1))
                written += 1
            } else {
                out.append(e.id)
                out.append(UInt8(e.value.count))
                written += 2
            }
            for b in e.value { out.append(b) }
            written += e.value.count
        }
        while written < size {
            out.append(UInt8(0))
            written += 1
        }
    }

    /// Allocating convenience: the header followed by `payload`.
    public func encoded(payload: [UInt8] = []) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: encodedSize)
        result.withUnsafeMutableBytes { raw in
            var out = OutputRawSpan(buffer: raw, initializedCount: 0)
            encode(into: &out)
            _ = out.finalize(for: raw)
        }
        return result + payload
    }
}
