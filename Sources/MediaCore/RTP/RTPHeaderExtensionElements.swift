/// RFC 8285 header extension elements inside an RTP packet: one-byte (profile 0xBEDE, §4.2) and
/// two-byte (profile 0x100X, §4.3) forms.
///
/// ```
/// one-byte:  0xBE 0xDE | length (32-bit words) | ID(4) L(4) data(L+1) ... | 0 padding
/// two-byte:  0x10 0x0X | length (32-bit words) | ID(8) | L(8) | data(L) ... | 0 padding
/// ```
/// Zero bytes between elements are padding. In the one-byte form ID 15 stops parsing (§4.2).
/// Walking never allocates; element values are reported as byte ranges into the packet.
public enum RTPHeaderExtensionElements {
    /// The one-byte header profile (RFC 8285 §4.2).
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// The two-byte header profile with appbits 0 (RFC 8285 §4.3); the low 4 bits are appbits.
    public static let twoByteProfile: UInt16 = 0x1000

    /// Checks every element of the block at `blockOffset` lies inside the block.
    static func validate(_ bytes: RawSpan, blockOffset: Int) throws(RTPParseError) {
        var bad: Int? = nil
        walk(bytes, blockOffset: blockOffset) { _, _ in
            true
        } onError: {
            bad = $0
        }
        if let bad { throw .invalidExtensionElement(offset: bad) }
    }

    /// Visits each element (id, value byte range) until `body` returns false. Unknown profiles have
    /// no elements. `onError` receives the offset of an element that overruns the block.
    static func walk(
        _ bytes: RawSpan,
        blockOffset: Int,
        _ body: (UInt8, Range<Int>) -> Bool,
        onError: (Int) -> Void = { _ in }
    ) {
        let profile = UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: blockOffset, as: UInt16.self))
        let words = Int(UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: blockOffset + 2, as: UInt16.self)))
        var offset = blockOffset + 4
        let end = offset + words * 4
        if profile == oneByteProfile {
            while offset < end {
                let header = bytes.unsafeLoad(fromByteOffset: offset, as: UInt8.self)
                if header == 0 {
                    offset += 1
                    continue
                }
                let id = header >> 4
                if id == 15 { return }
                let length = Int(header & 0x0F) + 1
                guard offset + 1 + length <= end else {
                    onError(offset)
                    return
                }
                // ID 0 with a non-zero length is reserved: skip it, report nothing.
                if id != 0, !body(id, (offset + 1)..<(offset + 1 + length)) { return }
                offset += 1 + length
            }
        } else if profile & 0xFFF0 == twoByteProfile {
            while offset < end {
                let id = bytes.unsafeLoad(fromByteOffset: offset, as: UInt8.self)
                if id == 0 {
                    offset += 1
                    continue
                }
                guard offset + 2 <= end else {
                    onError(offset)
                    return
                }
                let length = Int(bytes.unsafeLoad(fromByteOffset: offset + 1, as: UInt8.self))
                guard offset + 2 + length <= end else {
                    onError(offset)
                    return
                }
                if !body(id, (offset + 2)..<(offset + 2 + length)) { return }
                offset += 2 + length
            }
        }
    }
}

extension RTPPacketView {
    /// Calls `body` with (id, value byte range) for each RFC 8285 element, in order, until it returns
    /// false. Does nothing when the X bit is clear. Non-allocating.
    public func forEachExtension(_ body: (_ id: UInt8, _ value: Range<Int>) -> Bool) {
        guard let offset = extensionOffset else { return }
        RTPHeaderExtensionElements.walk(bytes, blockOffset: offset, body)
    }

    /// Byte range of the value of the first element with `id`, or nil if absent.
    public func extensionRange(id: UInt8) -> Range<Int>? {
        var found: Range<Int>? = nil
        forEachExtension { elementID, range in
            if elementID == id {
                found = range
                return false
            }
            return true
        }
        return found
    }
}
