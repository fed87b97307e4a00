/// Why bytes are not a valid STUN message (RFC 8489 §5, §14); each case carries the offending value.
public enum STUNParseError: Error, Equatable, Sendable {
    /// Fewer bytes than the 20-byte header or than an attribute header needs.
    case truncated(needed: Int, available: Int)
    /// The two top bits of the first byte are not zero (RFC 8489 §5): not STUN (RTP, DTLS, ...).
    case notSTUN(firstByte: UInt8)
    case badMagicCookie(UInt32)
    /// The header's length field disagrees with the datagram's size.
    case lengthMismatch(declared: Int, available: Int)
    /// Message lengths are multiples of 4 (RFC 8489 §5).
    case unalignedLength(Int)
    /// An attribute's value runs past the end of the message.
    case attributeOverrun(type: UInt16, offset: Int, length: Int)
    /// An attribute whose length the RFCs fix has another one.
    case badAttributeLength(type: UInt16, length: Int)
    /// Something after FINGERPRINT, which must be last (RFC 8489 §14.7).
    case attributeAfterFingerprint(type: UInt16)
    /// FINGERPRINT does not match the CRC-32 of the message (RFC 8489 §14.7).
    case fingerprintMismatch(expected: UInt32, found: UInt32)
    /// An address family other than 0x01 (IPv4) or 0x02 (IPv6), or a length that does not fit it.
    case badAddress(family: UInt8, length: Int)
    /// ERROR-CODE with a class outside 3...6 or a number above 99 (RFC 8489 §14.8).
    case badErrorCode(UInt16)
}
