/// A borrowed view of the VP8 payload descriptor at the start of an RTP payload (RFC 7741 §4.2).
///
/// ```
///       0 1 2 3 4 5 6 7
///      +-+-+-+-+-+-+-+-+
///      |X|R|N|S|R| PID | (REQUIRED)
///      +-+-+-+-+-+-+-+-+
/// X:   |I|L|T|K| RSV   | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// I:   |M| PictureID   | (OPTIONAL, 7 or 15 bits)
///      +-+-+-+-+-+-+-+-+
/// L:   |   TL0PICIDX   | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// T/K: |TID|Y| KEYIDX  | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// ```
public struct VP8PayloadDescriptorView: ~Escapable {
    /// The RTP payload, borrowed.
    public let bytes: RawSpan
    /// Descriptor length in bytes; the VP8 payload starts here.
    public let descriptorLength: Int
    /// Byte offset of the picture ID, or nil when I is clear.
    public let pictureIDOffset: Int?
    /// Byte offset of TL0PICIDX, or nil when L is clear.
    public let tl0PicIdxOffset: Int?
    /// Byte offset of the TID/Y/KEYIDX byte, or nil when T and K are clear.
    public let tidKeyIdxOffset: Int?

    /// Validates the descriptor lengths; at least one payload byte must follow.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(VP8ParseError) {
        let n = bytes.byteCount
        guard n >= 1 else { throw .truncated(needed: 1, available: n) }
        let b0 = bytes.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        var o = 1
        var pid: Int? = nil
        var tl0: Int? = nil
        var tk: Int? = nil
        if b0 & 0x80 != 0 {
            guard n >= 2 else { throw .truncated(needed: 2, available: n) }
            let x = bytes.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
            o = 2
            if x & 0x80 != 0 {
                guard n >= o + 1 else { throw .truncated(needed: o + 1, available: n) }
                pid = o
                o += bytes.unsafeLoad(fromByteOffset: o, as: UInt8.self) & 0x80 != 0 ? 2 : 1
            }
            if x & 0x40 != 0 {
                tl0 = o
                o += 1
            }
            if x & 0x30 != 0 {
                tk = o
                o += 1
            }
        }
        guard n >= o + 1 else { throw .truncated(needed: o + 1, available: n) }
        self.bytes = bytes
        self.descriptorLength = o
        self.pictureIDOffset = pid
        self.tl0PicIdxOffset = tl0
        self.tidKeyIdxOffset = tk
    }

    private func u8(_ o: Int) -> UInt8 { bytes.unsafeLoad(fromByteOffset: o, as: UInt8.self) }

    /// X: extended control bits present.
    public var hasExtension: Bool { u8(0) & 0x80 != 0 }
    /// N: non-reference frame (may be discarded).
    public var isNonReference: Bool { u8(0) & 0x20 != 0 }
    /// S: start of a VP8 partition.
    public var isPartitionStart: Bool { u8(0) & 0x10 != 0 }
    /// PID: partition index 0...7.
    public var partitionIndex: UInt8 { u8(0) & 0x07 }
    /// True at the start of partition 0, i.e. the first packet of a frame.
    public var isFrameStart: Bool { isPartitionStart && partitionIndex == 0 }
    /// Picture ID (7 or 15 bits), or nil.
    public var pictureID: UInt16? {
        guard let o = pictureIDOffset else { return nil }
        let a = u8(o)
        return a & 0x80 != 0 ? UInt16(a & 0x7F) << 8 | UInt16(u8(o + 1)) : UInt16(a)
    }
    /// M bit: the picture ID is 15 bits wide.
    public var hasLongPictureID: Bool { pictureIDOffset.map { u8($0) & 0x80 != 0 } ?? false }
    /// TL0PICIDX, or nil.
    public var tl0PicIdx: UInt8? { tl0PicIdxOffset.map { u8($0) } }
    /// Temporal layer index (TID, 0...3), or nil when T/K are absent.
    public var temporalLayerID: UInt8? { tidKeyIdxOffset.map { u8($0) >> 6 } }
    /// Y: layer sync bit, or nil.
    public var layerSync: Bool? { tidKeyIdxOffset.map { u8($0) & 0x20 != 0 } }
    /// KEYIDX (5 bits), or nil.
    public var keyIndex: UInt8? { tidKeyIdxOffset.map { u8($0) & 0x1F } }
    /// Keyframe detection (RFC 7741 §4.3): at the start of partition 0, the P bit of the first VP8
    /// payload header byte is 0 for a key frame. False elsewhere.
    public var isKeyframe: Bool { isFrameStart && u8(descriptorLength) & 0x01 == 0 }

    /// Rewrites the picture ID in place keeping its width (7 or 15 bits; higher bits are dropped).
    /// `payload` is the same bytes this view was made from.
    public func setPictureID(_ id: UInt16, in payload: inout MutableRawSpan) {
        guard let o = pictureIDOffset else { return }
        if hasLongPictureID {
            payload.storeBytes(of: 0x80 | UInt8(truncatingIfNeeded: id >> 8) & 0x7F, toByteOffset: o, as: UInt8.self)
            payload.storeBytes(of: UInt8(truncatingIfNeeded: id), toByteOffset: o + 1, as: UInt8.self)
        } else {
            payload.storeBytes(of: UInt8(truncatingIfNeeded: id) & 0x7F, toByteOffset: o, as: UInt8.self)
        }
    }
    /// Rewrites TL0PICIDX in place (no-op when absent).
    public func setTL0PicIdx(_ value: UInt8, in payload: inout MutableRawSpan) {
        guard let o = tl0PicIdxOffset else { return }
        payload.storeBytes(of: value, toByteOffset: o, as: UInt8.self)
    }
}

/// Why a VP8 payload descriptor was rejected (RFC 7741 §4.2).
public enum VP8ParseError: Error, Equatable, Sendable {
    /// The descriptor (plus one payload byte) needs more bytes than the payload has.
    case truncated(needed: Int, available: Int)
}
