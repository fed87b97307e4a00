/// Typed header-extension values, read from a packet view and written into a value byte range.
extension RTPPacketView {
    private func u8(_ o: Int) -> UInt8 { bytes.unsafeLoad(fromByteOffset: o, as: UInt8.self) }

    /// abs-send-time (webrtc.org): 24-bit 6.18 fixed-point seconds, or nil if absent or not 3 bytes.
    public func absSendTime(id: UInt8) -> UInt32? {
        guard let r = extensionRange(id: id), r.count == 3 else { return nil }
        return UInt32(u8(r.lowerBound)) << 16 | UInt32(u8(r.lowerBound + 1)) << 8 | UInt32(u8(r.lowerBound + 2))
    }

    /// Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), 16 bits.
    public func transportWideSequenceNumber(id: UInt8) -> UInt16? {
        guard let r = extensionRange(id: id), r.count == 2 else { return nil }
        return UInt16(u8(r.lowerBound)) << 8 | UInt16(u8(r.lowerBound + 1))
    }

    /// Audio level (RFC 6464 §3): voice-activity bit and level in -dBov (0...127), or nil.
    public func audioLevel(id: UInt8) -> (voiceActivity: Bool, level: UInt8)? {
        guard let r = extensionRange(id: id), r.count >= 1 else { return nil }
        let b = u8(r.lowerBound)
        return (b & 0x80 != 0, b & 0x7F)
    }

    /// Playout delay (webrtc.org playout-delay): 12-bit min and max, in units of 10 ms, or nil.
    public func playoutDelay(id: UInt8) -> (min: UInt16, max: UInt16)? {
        guard let r = extensionRange(id: id), r.count == 3 else { return nil }
        let a = UInt16(u8(r.lowerBound))
        let b = UInt16(u8(r.lowerBound + 1))
        let c = UInt16(u8(r.lowerBound + 2))
        return (a << 4 | b >> 4, (b & 0x0F) << 8 | c)
    }

    /// True when the ASCII value of element `id` (sdes:mid, rid, repaired-rid; RFC 8843 §15,
    /// RFC 8852 §3) equals `expected`, without creating a String.
    public func extensionValue(id: UInt8, equals expected: UnsafeRawBufferPointer) -> Bool {
        guard let r = extensionRange(id: id), r.count == expected.count else { return false }
        for i in 0..<r.count where u8(r.lowerBound + i) != expected[i] { return false }
        return true
    }
}

/// Encoders for typed extension values (same formats as the readers on `RTPPacketView`).
public enum RTPExtensionValue {
    /// abs-send-time from a 6.18 fixed-point value (only the low 24 bits are sent).
    public static func absSendTime(_ value: UInt32) -> (UInt8, UInt8, UInt8) {
        (
            UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
            UInt8(truncatingIfNeeded: value)
        )
    }
    /// abs-send-time from a time in microseconds: seconds in 6.18 fixed point, modulo 64 s.
    public static func absSendTime(micros: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ((micros << 18) / 1_000_000)) & 0x00FF_FFFF
    }
    /// RFC 6464 audio-level byte.
    public static func audioLevel(voiceActivity: Bool, level: UInt8) -> UInt8 {
        (voiceActivity ? 0x80 : 0) | (level & 0x7F)
    }
    /// Playout-delay bytes from 12-bit min and max (10 ms units; higher bits are dropped).
    public static func playoutDelay(min: UInt16, max: UInt16) -> (UInt8, UInt8, UInt8) {
        (
            UInt8(truncatingIfNeeded: min >> 4), UInt8(truncatingIfNeeded: (min & 0x0F) << 4 | (max >> 8) & 0x0F),
            UInt8(truncatingIfNeeded: max)
        )
    }
}
