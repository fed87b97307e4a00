/// RTP retransmission payload format (RFC 4588 §4): the RTX packet carries the original header
/// fields except PT, SSRC and sequence number, and its payload starts with the 2-byte original
/// sequence number (OSN).
///
/// ```
/// | RTP header (RTX PT, RTX SSRC, RTX seq) | OSN (16) | original payload ... |
/// ```
public enum RTX {
    /// Errors from wrapping or unwrapping.
    public enum Error: Swift.Error, Equatable, Sendable {
        /// The output buffer is smaller than needed.
        case outputTooSmall(needed: Int, available: Int)
        /// The RTX payload is shorter than the 2-byte OSN.
        case payloadTooShort(length: Int)
    }

    /// Wraps the validated `original` into `out` (size = original size + 2); returns bytes written.
    /// Padding of the original is dropped (the P bit is cleared).
    public static func wrap(
        _ original: borrowing RTPPacketView,
        payloadType: UInt8,
        ssrc: UInt32,
        sequenceNumber: UInt16,
        into out: UnsafeMutableRawBufferPointer
    ) throws(RTX.Error) -> Int {
        let headerEnd = original.payloadOffset
        let total = headerEnd + 2 + original.payloadLength
        guard out.count >= total else { throw .outputTooSmall(needed: total, available: out.count) }
        for i in 0..<headerEnd { out[i] = original.bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self) }
        out[0] &= ~0x20
        out[1] = (out[1] & 0x80) | (payloadType & 0x7F)
        out.storeBytes(of: sequenceNumber.bigEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        out.storeBytes(of: original.sequenceNumber.bigEndian, toByteOffset: headerEnd, as: UInt16.self)
        for i in 0..<original.payloadLength {
            out[headerEnd + 2 + i] = original.bytes.unsafeLoad(fromByteOffset: headerEnd + i, as: UInt8.self)
        }
        return total
    }

    /// Unwraps the validated RTX packet `rtx` into `out`, restoring the original payload type, SSRC
    /// and the OSN as sequence number; returns bytes written. Padding is dropped.
    public static func unwrap(
        _ rtx: borrowing RTPPacketView,
        originalPayloadType: UInt8,
        originalSSRC: UInt32,
        into out: UnsafeMutableRawBufferPointer
    ) throws(RTX.Error) -> Int {
        guard rtx.payloadLength >= 2 else { throw .payloadTooShort(length: rtx.payloadLength) }
        let headerEnd = rtx.payloadOffset
        let total = headerEnd + rtx.payloadLength - 2
        guard out.count >= total else { throw .outputTooSmall(needed: total, available: out.count) }
        let osn = UInt16(bigEndian: rtx.bytes.unsafeLoadUnaligned(fromByteOffset: headerEnd, as: UInt16.self))
        for i in 0..<headerEnd { out[i] = rtx.bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self) }
        out[0] &= ~0x20
        out[1] = (out[1] & 0x80) | (originalPayloadType & 0x7F)
        out.storeBytes(of: osn.bigEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: originalSSRC.bigEndian, toByteOffset: 8, as: UInt32.self)
        for i in 0..<(rtx.payloadLength - 2) {
            out[headerEnd + i] = rtx.bytes.unsafeLoad(fromByteOffset: headerEnd + 2 + i, as: UInt8.self)
        }
        return total
    }
}
