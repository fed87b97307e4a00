/// A borrowed view of an H.264 RTP payload (RFC 6184 §5.6 single NAL, §5.7.1 STAP-A, §5.8 FU-A).
///
/// ```
/// NAL header:  |F|NRI|  Type   |      FU header: |S|E|R|  Type   |
/// STAP-A: header(24) | size(16) NALU | size(16) NALU | ...
/// ```
public struct H264PayloadView: ~Escapable {
    /// NAL type of a STAP-A packet.
    public static let stapA: UInt8 = 24
    /// NAL type of an FU-A packet.
    public static let fuA: UInt8 = 28
    /// IDR slice NAL type.
    public static let idr: UInt8 = 5
    /// Sequence parameter set NAL type.
    public static let sps: UInt8 = 7
    /// Picture parameter set NAL type.
    public static let pps: UInt8 = 8

    /// The RTP payload, borrowed.
    public let bytes: RawSpan

    /// Validates the packetization: FU-A needs its FU header; STAP-A sizes must fit exactly.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(H264ParseError) {
        let n = bytes.byteCount
        guard n >= 1 else { throw .truncated(needed: 1, available: n) }
        let type = bytes.unsafeLoad(fromByteOffset: 0, as: UInt8.self) & 0x1F
        if type == Self.fuA {
            guard n >= 2 else { throw .truncated(needed: 2, available: n) }
        } else if type == Self.stapA {
            var o = 1
            while o < n {
                guard o + 2 <= n else { throw .truncated(needed: o + 2, available: n) }
                let size = Int(UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: o, as: UInt16.self)))
                guard size > 0 else { throw .emptyAggregatedNAL(offset: o) }
                guard o + 2 + size <= n else { throw .truncated(needed: o + 2 + size, available: n) }
                o += 2 + size
            }
        }
        self.bytes = bytes
    }

    private func u8(_ o: Int) -> UInt8 { bytes.unsafeLoad(fromByteOffset: o, as: UInt8.self) }

    /// The packet's NAL unit type (1...23 single NAL, 24 STAP-A, 28 FU-A).
    public var nalType: UInt8 { u8(0) & 0x1F }
    /// FU-A: S bit (first fragment).
    public var fuStart: Bool { nalType == Self.fuA && u8(1) & 0x80 != 0 }
    /// FU-A: E bit (last fragment).
    public var fuEnd: Bool { nalType == Self.fuA && u8(1) & 0x40 != 0 }
    /// FU-A: type of the fragmented NAL unit, or nil for other packets.
    public var fuOriginalType: UInt8? { nalType == Self.fuA ? u8(1) & 0x1F : nil }

    /// Calls `body` with the (type, byte range) of each NAL unit carried whole or started here:
    /// the single NAL, each STAP-A NAL, or the FU-A's original type (range of the fragment).
    public func forEachNAL(_ body: (_ type: UInt8, _ range: Range<Int>) -> Void) {
        let n = bytes.byteCount
        switch nalType {
        case Self.stapA:
            var o = 1
            while o < n {
                let size = Int(UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: o, as: UInt16.self)))
                body(u8(o + 2) & 0x1F, (o + 2)..<(o + 2 + size))
                o += 2 + size
            }
        case Self.fuA:
            body(u8(1) & 0x1F, 2..<n)
        default:
            body(nalType, 0..<n)
        }
    }

    /// True when the payload contains an IDR slice or an SPS (start of a decodable picture).
    public var isKeyframe: Bool {
        var key = false
        forEachNAL { type, _ in if type == Self.idr || type == Self.sps { key = true } }
        if nalType == Self.fuA, !fuStart { return false }
        return key
    }
    /// True when this packet starts a frame: any non-FU packet, or an FU-A with S set.
    public var startsFrame: Bool { nalType != Self.fuA || fuStart }
}

/// Why an H.264 payload was rejected (RFC 6184 §5).
public enum H264ParseError: Error, Equatable, Sendable {
    /// Fewer bytes than the structure needs.
    case truncated(needed: Int, available: Int)
    /// A STAP-A NAL size of zero at `offset`.
    case emptyAggregatedNAL(offset: Int)
}
