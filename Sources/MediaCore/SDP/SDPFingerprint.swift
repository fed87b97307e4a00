/// `a=fingerprint:<hash-func> <XX:XX:...>` (RFC 8122 §5): the certificate fingerprint of a DTLS peer.
public struct SDPFingerprint: Equatable, Sendable {
    /// Hash function name, lowercased, e.g. `sha-256`.
    public var hashFunction: String
    /// Fingerprint bytes decoded from the colon-separated hex.
    public var bytes: [UInt8]

    /// Parses an attribute value; nil when it is not `<name> <hex>(:<hex>)*`.
    public init?(attributeValue: String) {
        let parts = attributeValue.split(separator: " ")
        guard parts.count == 2 else { return nil }
        var decoded: [UInt8] = []
        for pair in parts[1].split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.utf8.count == 2, let byte = UInt8(pair, radix: 16) else { return nil }
            decoded.append(byte)
        }
        hashFunction = parts[0].lowercased()
        bytes = decoded
    }
}

extension SessionDescription {
    /// The fingerprint that applies to media section `index` (media level, else session level; RFC 9429 §5.8).
    public func fingerprint(media index: Int) -> SDPFingerprint? {
        resolvedValue(of: "fingerprint", media: index).flatMap { SDPFingerprint(attributeValue: $0) }
    }
}
