/// The class of a STUN message (RFC 8489 §5): two bits interleaved with the method in the type field.
public enum STUNMessageClass: UInt8, Sendable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// A STUN message type: method and class (RFC 8489 §5, Figure 3).
///
/// ```
///  0                 1
///  2  3  4 5 6 7 8 9 0 1 2 3 4 5
/// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
/// |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
/// |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
/// +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct STUNMessageType: Equatable, Hashable, Sendable {
    /// The 12-bit method; Binding is 0x001 (RFC 8489 §18.2).
    public var method: UInt16
    public var messageClass: STUNMessageClass

    public static let bindingMethod: UInt16 = 0x001
    public static let bindingRequest = STUNMessageType(method: bindingMethod, messageClass: .request)
    public static let bindingIndication = STUNMessageType(method: bindingMethod, messageClass: .indication)
    public static let bindingSuccess = STUNMessageType(method: bindingMethod, messageClass: .successResponse)
    public static let bindingError = STUNMessageType(method: bindingMethod, messageClass: .errorResponse)

    public init(method: UInt16, messageClass: STUNMessageClass) {
        precondition(method < 0x1000, "STUN methods have 12 bits")
        self.method = method
        self.messageClass = messageClass
    }

    /// Decodes the 14 low bits of the type field (the two top bits are zero in a valid message).
    public init(rawValue: UInt16) {
        let c = (rawValue >> 7) & 0b10 | (rawValue >> 4) & 0b01
        method = rawValue & 0x000F | (rawValue & 0x00E0) >> 1 | (rawValue & 0x3E00) >> 2
        messageClass = STUNMessageClass(rawValue: UInt8(c))!  // two bits: always a case
    }

    public var rawValue: UInt16 {
        let c = UInt16(messageClass.rawValue)
        return method & 0x000F | (method & 0x0070) << 1 | (method & 0x0F80) << 2 | (c & 0b01) << 4 | (c & 0b10) << 7
    }
}
