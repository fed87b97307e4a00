/// A borrowed view of an RTP payload for redundant audio data (RFC 2198 §3): header blocks for the
/// redundant encodings, oldest first, then the primary's one-byte header, then the data blocks in
/// the same order, the primary's last.
///
/// ```
/// redundant block header:          primary block header:
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1      0 1 2 3 4 5 6 7
/// |F|   block PT  |  timestamp offset         |   block length    |    |0|   Block PT  |
/// ```
///
/// The redundant blocks carry no sequence numbers: as in every WebRTC RED sender and receiver, the
/// block `distance` places before the primary is the packet `distance` sequence numbers earlier.
public struct REDPayloadView: ~Escapable {
    /// More redundant blocks than any sender uses (libwebrtc sends at most 9): the view refuses a
    /// payload that claims more, so a hostile header cannot make every packet a long walk.
    public static let maxRedundantBlocks = 16

    /// The RTP payload, borrowed (after the RTP header, before any padding).
    public let bytes: RawSpan
    /// How many redundant blocks precede the primary.
    public let redundantCount: Int
    /// Where the data blocks start (after the primary's header byte).
    private let dataStart: Int

    /// Validates the block headers and that their lengths fit the payload.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(REDParseError) {
        let n = bytes.byteCount
        var offset = 0
        var count = 0
        var declared = 0
        while true {
            guard offset < n else { throw .truncated(needed: offset + 1, available: n) }
            let first = bytes.unsafeLoad(fromByteOffset: offset, as: UInt8.self)
            if first & 0x80 == 0 { break }  // F = 0: the primary's header
            guard offset + 4 <= n else { throw .truncated(needed: offset + 4, available: n) }
            guard count < Self.maxRedundantBlocks else { throw .tooManyBlocks(limit: Self.maxRedundantBlocks) }
            let low = bytes.unsafeLoad(fromByteOffset: offset + 2, as: UInt8.self)
            let last = bytes.unsafeLoad(fromByteOffset: offset + 3, as: UInt8.self)
            declared += Int(low & 0x03) << 8 | Int(last)
            count += 1
            offset += 4
        }
        let dataStart = offset + 1
        guard dataStart + declared <= n else {
            throw .blocksExceedPayload(declared: declared, available: n - dataStart)
        }
        self.bytes = bytes
        self.redundantCount = count
        self.dataStart = dataStart
    }

    private func u8(_ o: Int) -> UInt8 { bytes.unsafeLoad(fromByteOffset: o, as: UInt8.self) }

    /// One redundant block: its payload type, how far its timestamp lies before the primary's, how
    /// many packets before the primary it was sent, and where its data sits in `bytes`.
    public struct Block: Sendable, Equatable {
        public let payloadType: UInt8
        public let timestampOffset: UInt32
        public let distance: Int
        public let range: Range<Int>
    }

    /// Redundant block `index`, 0 being the oldest.
    public func redundant(_ index: Int) -> Block {
        precondition(index >= 0 && index < redundantCount, "block \(index) of \(redundantCount)")
        var start = dataStart
        for earlier in 0..<index { start += length(of: earlier) }
        let o = index * 4
        let offset = UInt32(u8(o + 1)) << 6 | UInt32(u8(o + 2) >> 2)
        return Block(
            payloadType: u8(o) & 0x7F,
            timestampOffset: offset,
            distance: redundantCount - index,
            range: start..<(start + length(of: index))
        )
    }

    private func length(of index: Int) -> Int {
        let o = index * 4
        return Int(u8(o + 2) & 0x03) << 8 | Int(u8(o + 3))
    }

    /// The primary encoding's payload type.
    public var primaryPayloadType: UInt8 { u8(dataStart - 1) & 0x7F }

    /// Where the primary's data sits in `bytes`: after every redundant block's.
    public var primaryRange: Range<Int> {
        var start = dataStart
        for index in 0..<redundantCount { start += length(of: index) }
        return start..<bytes.byteCount
    }
}

/// Why a RED payload was refused, with the offending sizes.
public enum REDParseError: Error, Equatable, Sendable {
    case truncated(needed: Int, available: Int)
    /// The redundant blocks' lengths add up to more than the payload holds after the headers.
    case blocksExceedPayload(declared: Int, available: Int)
    case tooManyBlocks(limit: Int)
}

/// Writes a RED payload (RFC 2198 §3) from a primary and the redundant blocks before it, into
/// caller-owned memory: no allocation, for the per-packet path.
public enum REDWriter {
    /// The largest timestamp offset and block length the 14- and 10-bit fields can say.
    public static let maxTimestampOffset: UInt32 = (1 << 14) - 1
    public static let maxBlockLength = (1 << 10) - 1

    /// One redundant encoding to carry: its payload type, timestamp offset and bytes.
    public struct Redundancy {
        public var payloadType: UInt8
        public var timestampOffset: UInt32
        public var bytes: UnsafeRawBufferPointer

        public init(payloadType: UInt8, timestampOffset: UInt32, bytes: UnsafeRawBufferPointer) {
            self.payloadType = payloadType
            self.timestampOffset = timestampOffset
            self.bytes = bytes
        }

        /// Whether the header fields can say it (RFC 2198 §3: 14-bit offset, 10-bit length).
        public var fits: Bool {
            timestampOffset <= REDWriter.maxTimestampOffset && bytes.count <= REDWriter.maxBlockLength
                && payloadType < 128
        }
    }

    /// The payload's size with `redundant` blocks (oldest first) before a primary of `primaryLength`.
    public static func size(redundant: UnsafeBufferPointer<Redundancy>, primaryLength: Int) -> Int {
        var size = 1 + primaryLength
        for block in redundant { size += 4 + block.bytes.count }
        return size
    }

    /// Writes headers and data at the start of `out`; returns the bytes written, or nil if it does
    /// not fit or a block cannot be said in the header fields. The primary's bytes may already lie
    /// in `out` at `primaryAt` (they are moved, overlapping copies allowed); otherwise pass them.
    public static func write(
        redundant: UnsafeBufferPointer<Redundancy>,
        primaryPayloadType: UInt8,
        primary: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let total = size(redundant: redundant, primaryLength: primary.count)
        guard total <= out.count, primaryPayloadType < 128, redundant.allSatisfy(\.fits) else { return nil }
        // The primary first (it may overlap where the headers go), then headers and blocks before it.
        let primaryStart = total - primary.count
        if let source = primary.baseAddress, !primary.isEmpty {
            (out.baseAddress! + primaryStart).copyMemory(from: source, byteCount: primary.count)
        }
        var o = 0
        for block in redundant {
            out[o] = 0x80 | block.payloadType
            out[o + 1] = UInt8(truncatingIfNeeded: block.timestampOffset >> 6)
            out[o + 2] = UInt8(truncatingIfNeeded: block.timestampOffset << 2) | UInt8(block.bytes.count >> 8)
            out[o + 3] = UInt8(truncatingIfNeeded: block.bytes.count)
            o += 4
        }
        out[o] = primaryPayloadType
        o += 1
        for block in redundant where !block.bytes.isEmpty {
            (out.baseAddress! + o).copyMemory(from: block.bytes.baseAddress!, byteCount: block.bytes.count)
            o += block.bytes.count
        }
        return total
    }
}
