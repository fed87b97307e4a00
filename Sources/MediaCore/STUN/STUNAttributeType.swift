/// STUN attribute types the ICE agent and the relay read or write (RFC 8489 §18.3, RFC 8445 §16.1).
/// Types below 0x8000 are comprehension-required; an agent must reject a request carrying one it
/// does not know (RFC 8489 §7.3.1), which `STUNMessageView.firstUnknownRequiredAttribute` finds.
public enum STUNAttributeType {
    public static let mappedAddress: UInt16 = 0x0001
    public static let username: UInt16 = 0x0006
    public static let messageIntegrity: UInt16 = 0x0008
    public static let errorCode: UInt16 = 0x0009
    public static let unknownAttributes: UInt16 = 0x000A
    public static let realm: UInt16 = 0x0014
    public static let nonce: UInt16 = 0x0015
    public static let messageIntegritySHA256: UInt16 = 0x001C
    public static let xorMappedAddress: UInt16 = 0x0020
    public static let priority: UInt16 = 0x0024
    public static let useCandidate: UInt16 = 0x0025
    public static let software: UInt16 = 0x8022
    public static let fingerprint: UInt16 = 0x8028
    public static let iceControlled: UInt16 = 0x8029
    public static let iceControlling: UInt16 = 0x802A

    /// The comprehension-required types this code understands.
    static func isKnownRequired(_ type: UInt16) -> Bool {
        switch type {
        case mappedAddress, username, messageIntegrity, errorCode, unknownAttributes, realm, nonce,
            messageIntegritySHA256, xorMappedAddress, priority, useCandidate:
            true
        default: false
        }
    }

    /// The exact value length a type must have, where the RFCs fix one.
    static func fixedLength(_ type: UInt16) -> Int? {
        switch type {
        case messageIntegrity: 20
        case messageIntegritySHA256: 32
        case fingerprint, priority: 4
        case useCandidate: 0
        case iceControlled, iceControlling: 8
        default: nil
        }
    }
}
