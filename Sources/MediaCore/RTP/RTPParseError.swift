/// Why an RTP packet or one of its header extensions was rejected (RFC 3550 §5.1, RFC 8285 §4).
public enum RTPParseError: Error, Equatable, Sendable {
    /// Fewer bytes than the header, CSRC list, extension or padding claims.
    case truncated(needed: Int, available: Int)
    /// The version field (top two bits) is not 2.
    case unsupportedVersion(UInt8)
    /// The padding count (last byte) is zero or exceeds the bytes after the header.
    case invalidPadding(count: Int, available: Int)
    /// An extension element runs past the end of its block (RFC 8285 §4.2/§4.3).
    case invalidExtensionElement(offset: Int)
}
