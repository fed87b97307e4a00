/// In-place rewriting of a validated RTP packet for forwarding (RFC 3550 §5.1, RFC 8285).
///
/// The caller validates the packet with `RTPPacketView` first; the functions here then only
/// check the ranges they write (`precondition`). Nothing allocates.
public enum RTPPacketRewriter {
    /// Sets the SSRC (bytes 8..<12).
    public static func setSSRC(_ ssrc: UInt32, in p: inout MutableRawSpan) {
        p.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
    }
    /// Sets the 16-bit sequence number.
    public static func setSequenceNumber(_ seq: UInt16, in p: inout MutableRawSpan) {
        p.storeBytes(of: seq.bigEndian, toByteOffset: 2, as: UInt16.self)
    }
    /// Sets the 32-bit timestamp.
    public static func setTimestamp(_ ts: UInt32, in p: inout MutableRawSpan) {
        p.storeBytes(of: ts.bigEndian, toByteOffset: 4, as: UInt32.self)
    }
    /// Sets the 7-bit payload type, keeping the marker bit.
    public static func setPayloadType(_ pt: UInt8, in p: inout MutableRawSpan) {
        let b = p.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: (b & 0x80) | (pt & 0x7F), toByteOffset: 1, as: UInt8.self)
    }
    /// Sets or clears the marker bit.
    public static func setMarker(_ marker: Bool, in p: inout MutableRawSpan) {
        let b = p.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: (b & 0x7F) | (marker ? 0x80 : 0), toByteOffset: 1, as: UInt8.self)
    }
    /// Writes a 16-bit transport-wide sequence number into the value range (from
    /// `RTPPacketView.extensionRange(id:)`, which must be 2 bytes).
    public static func setTransportWideSequenceNumber(
        _ seq: UInt16,
        valueRange r: Range<Int>,
        in p: inout MutableRawSpan
    ) {
        precondition(r.count == 2 && r.upperBound <= p.byteCount)
        p.storeBytes(of: seq.bigEndian, toByteOffset: r.lowerBound, as: UInt16.self)
    }
    /// Writes a 24-bit abs-send-time into the value range (3 bytes).
    public static func setAbsSendTime(_ value: UInt32, valueRange r: Range<Int>, in p: inout MutableRawSpan) {
        precondition(r.count == 3 && r.upperBound <= p.byteCount)
        let (a, b, c) = RTPExtensionValue.absSendTime(value)
        p.storeBytes(of: a, toByteOffset: r.lowerBound, as: UInt8.self)
        p.storeBytes(of: b, toByteOffset: r.lowerBound + 1, as: UInt8.self)
        p.storeBytes(of: c, toByteOffset: r.lowerBound + 2, as: UInt8.self)
    }

    /// Remaps one-byte/two-byte extension ids for a receiver: `table[id - 1]` is the new id (1...14
    /// one-byte) or 0 to strip the element, overwriting its header and value with zero padding
    /// bytes (RFC 8285 §4.2 allows padding between elements). `blockOffset` is
    /// `RTPPacketView.extensionOffset`. The packet must have been validated.
    public static func remapExtensionIDs(
        _ table: InlineArray<15, UInt8>,
        blockOffset: Int,
        in p: inout MutableRawSpan
    ) {
        let words = Int(
            UInt16(p.unsafeLoad(fromByteOffset: blockOffset + 2, as: UInt8.self)) << 8
                | UInt16(p.unsafeLoad(fromByteOffset: blockOffset + 3, as: UInt8.self))
        )
        var offset = blockOffset + 4
        let end = offset + words * 4
        let profile =
            UInt16(p.unsafeLoad(fromByteOffset: blockOffset, as: UInt8.self)) << 8
            | UInt16(p.unsafeLoad(fromByteOffset: blockOffset + 1, as: UInt8.self))
        while offset < end {
            let header = p.unsafeLoad(fromByteOffset: offset, as: UInt8.self)
            if header == 0 {
                offset += 1
                continue
            }
            let id: UInt8
            let headerSize: Int
            let length: Int
            if profile == RTPHeaderExtensionElements.oneByteProfile {
                id = header >> 4
                if id == 15 { return }
                headerSize = 1
                length = Int(header & 0x0F) + 1
            } else if profile & 0xFFF0 == RTPHeaderExtensionElements.twoByteProfile {
                id = header
                headerSize = 2
                length = Int(p.unsafeLoad(fromByteOffset: offset + 1, as: UInt8.self))
            } else {
                return
            }
            let newID: UInt8 = id == 0 ? 0 : id <= 15 ? table[Int(id) - 1] : 0
            if id == 0 {
                // reserved ID 0 with a length: leave as is (readers skip it)
            } else if newID == 0 {
                for i in offset..<(offset + headerSize + length) {
                    p.storeBytes(of: 0, toByteOffset: i, as: UInt8.self)
                }
            } else if headerSize == 1 {
                p.storeBytes(of: newID << 4 | (header & 0x0F), toByteOffset: offset, as: UInt8.self)
            } else {
                p.storeBytes(of: newID, toByteOffset: offset, as: UInt8.self)
            }
            offset += headerSize + length
        }
    }
}
