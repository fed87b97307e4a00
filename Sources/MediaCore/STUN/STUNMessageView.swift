/// A borrowed, validated view of one STUN message (RFC 8489 §5), as ICE (RFC 8445) exchanges them.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Magic Cookie                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Transaction ID (96 bits)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          attributes: type (16), length (16), value, padded to 4 |
/// ```
/// `init(validating:)` checks the header, walks every attribute once (lengths, the fixed lengths
/// the RFCs set, address families, FINGERPRINT last and correct). Attributes after
/// MESSAGE-INTEGRITY other than FINGERPRINT are ignored by the accessors, as §14.5 requires.
/// MESSAGE-INTEGRITY itself is checked by `verifyIntegrity(key:)`, since only the caller knows the
/// password. Nothing here allocates.
public struct STUNMessageView: ~Escapable {
    public static let headerSize = 20
    public static let magicCookie: UInt32 = 0x2112_A442
    static let fingerprintXor: UInt32 = 0x5354_554E

    public let bytes: RawSpan
    /// Offset of the MESSAGE-INTEGRITY attribute header, if present.
    public let integrityOffset: Int?
    /// Offset of the FINGERPRINT attribute header, if present (always the last attribute).
    public let fingerprintOffset: Int?

    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(STUNParseError) {
        let count = bytes.byteCount
        guard count >= Self.headerSize else { throw .truncated(needed: Self.headerSize, available: count) }
        let first = bytes.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        guard first & 0xC0 == 0 else { throw .notSTUN(firstByte: first) }
        let cookie = Self.u32(bytes, 4)
        guard cookie == Self.magicCookie else { throw .badMagicCookie(cookie) }
        let declared = Int(Self.u16(bytes, 2))
        guard declared + Self.headerSize == count else {
            throw .lengthMismatch(declared: declared, available: count - Self.headerSize)
        }
        guard declared % 4 == 0 else { throw .unalignedLength(declared) }

        var integrity: Int?
        var fingerprint: Int?
        var offset = Self.headerSize
        while offset < count {
            guard offset + 4 <= count else { throw .truncated(needed: offset + 4, available: count) }
            let type = Self.u16(bytes, offset)
            let length = Int(Self.u16(bytes, offset + 2))
            guard offset + 4 + (length + 3) & ~3 <= count else {
                throw .attributeOverrun(type: type, offset: offset, length: length)
            }
            if fingerprint != nil { throw .attributeAfterFingerprint(type: type) }
            if let fixed = STUNAttributeType.fixedLength(type), fixed != length {
                throw .badAttributeLength(type: type, length: length)
            }
            switch type {
            case STUNAttributeType.messageIntegrity where integrity == nil: integrity = offset
            case STUNAttributeType.fingerprint: fingerprint = offset
            case STUNAttributeType.xorMappedAddress, STUNAttributeType.mappedAddress:
                let family = length >= 2 ? bytes.unsafeLoad(fromByteOffset: offset + 5, as: UInt8.self) : 0
                guard
                    (family == STUNAddress.familyIPv4 && length == 8)
                        || (family == STUNAddress.familyIPv6 && length == 20)
                else {
                    throw .badAddress(family: family, length: length)
                }
            case STUNAttributeType.errorCode:
                guard length >= 4 else { throw .badAttributeLength(type: type, length: length) }
                let code = Self.errorCode(bytes, offset + 4)
                guard (300...699).contains(code) else { throw .badErrorCode(code) }
            default: break
            }
            offset += 4 + (length + 3) & ~3
        }
        if let fingerprint {
            let found = Self.u32(bytes, fingerprint + 4)
            let expected =
                bytes.withUnsafeBytes { raw in
                    Crc32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<fingerprint]))
                } ^ Self.fingerprintXor
            guard found == expected else { throw .fingerprintMismatch(expected: expected, found: found) }
        }
        self.bytes = bytes
        self.integrityOffset = integrity
        self.fingerprintOffset = fingerprint
    }

    public var messageType: STUNMessageType { STUNMessageType(rawValue: Self.u16(bytes, 0)) }
    public var transactionID: STUNTransactionID {
        STUNTransactionID(Self.u32(bytes, 8), Self.u32(bytes, 12), Self.u32(bytes, 16))
    }

    /// Where accessors stop: MESSAGE-INTEGRITY, else FINGERPRINT, else the end.
    private var readableEnd: Int { integrityOffset ?? fingerprintOffset ?? bytes.byteCount }

    /// The byte range of the first value of `type` before MESSAGE-INTEGRITY.
    public func valueRange(of type: UInt16) -> Range<Int>? {
        var offset = Self.headerSize
        let end = readableEnd
        while offset < end {
            let length = Int(Self.u16(bytes, offset + 2))
            if Self.u16(bytes, offset) == type { return (offset + 4)..<(offset + 4 + length) }
            offset += 4 + (length + 3) & ~3
        }
        return nil
    }

    /// The first comprehension-required attribute (type < 0x8000) this code does not know; a server
    /// answers a request carrying one with 420 and UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
    public var firstUnknownRequiredAttribute: UInt16? {
        var offset = Self.headerSize
        let end = readableEnd
        while offset < end {
            let type = Self.u16(bytes, offset)
            if type < 0x8000, !STUNAttributeType.isKnownRequired(type) { return type }
            offset += 4 + (Int(Self.u16(bytes, offset + 2)) + 3) & ~3
        }
        return nil
    }

    /// USERNAME (§14.3): for ICE "receiver-ufrag:sender-ufrag" (RFC 8445 §7.2.2).
    public var username: RawSpan? {
        @_lifetime(copy self) get {
            guard let range = valueRange(of: STUNAttributeType.username) else { return nil }
            return bytes.extracting(range)
        }
    }

    /// The two ICE ufrags in USERNAME, split at the first colon, as ranges into `bytes`.
    public var iceUsername: (receiver: Range<Int>, sender: Range<Int>)? {
        guard let range = valueRange(of: STUNAttributeType.username) else { return nil }
        for index in range where bytes.unsafeLoad(fromByteOffset: index, as: UInt8.self) == UInt8(ascii: ":") {
            return (range.lowerBound..<index, (index + 1)..<range.upperBound)
        }
        return nil
    }

    /// PRIORITY (RFC 8445 §7.1.1).
    public var priority: UInt32? { valueRange(of: STUNAttributeType.priority).map { Self.u32(bytes, $0.lowerBound) } }
    /// USE-CANDIDATE (RFC 8445 §7.1.2): the controlling agent nominates this pair.
    public var useCandidate: Bool { valueRange(of: STUNAttributeType.useCandidate) != nil }
    /// ICE-CONTROLLING's tie-breaker (RFC 8445 §7.1.3).
    public var iceControlling: UInt64? {
        valueRange(of: STUNAttributeType.iceControlling).map { Self.u64(bytes, $0.lowerBound) }
    }
    /// ICE-CONTROLLED's tie-breaker.
    public var iceControlled: UInt64? {
        valueRange(of: STUNAttributeType.iceControlled).map { Self.u64(bytes, $0.lowerBound) }
    }

    /// XOR-MAPPED-ADDRESS (§14.2), un-XORed with the magic cookie and transaction ID.
    public var xorMappedAddress: STUNAddress? {
        guard let range = valueRange(of: STUNAttributeType.xorMappedAddress) else { return nil }
        let v = range.lowerBound
        let port = Self.u16(bytes, v + 2) ^ UInt16(Self.magicCookie >> 16)
        if bytes.unsafeLoad(fromByteOffset: v + 1, as: UInt8.self) == STUNAddress.familyIPv4 {
            return .ipv4(Self.u32(bytes, v + 4) ^ Self.magicCookie, port: port)
        }
        // IPv6: XORed with the cookie followed by the transaction ID, i.e. header bytes 4..<20.
        return .ipv6(
            high: Self.u64(bytes, v + 4) ^ Self.u64(bytes, 4),
            low: Self.u64(bytes, v + 12) ^ Self.u64(bytes, 12),
            port: port
        )
    }

    /// MAPPED-ADDRESS (§14.1), as old servers send it.
    public var mappedAddress: STUNAddress? {
        guard let range = valueRange(of: STUNAttributeType.mappedAddress) else { return nil }
        let v = range.lowerBound
        let port = Self.u16(bytes, v + 2)
        if bytes.unsafeLoad(fromByteOffset: v + 1, as: UInt8.self) == STUNAddress.familyIPv4 {
            return .ipv4(Self.u32(bytes, v + 4), port: port)
        }
        return .ipv6(high: Self.u64(bytes, v + 4), low: Self.u64(bytes, v + 12), port: port)
    }

    /// ERROR-CODE's number, 300...699 (§14.8), e.g. 487 Role Conflict (RFC 8445 §7.3.1.1).
    public var errorCode: UInt16? {
        valueRange(of: STUNAttributeType.errorCode).map { Self.errorCode(bytes, $0.lowerBound) }
    }
    /// ERROR-CODE's reason phrase (UTF-8).
    public var errorReason: RawSpan? {
        @_lifetime(copy self) get {
            guard let range = valueRange(of: STUNAttributeType.errorCode) else { return nil }
            return bytes.extracting((range.lowerBound + 4)..<range.upperBound)
        }
    }

    /// Checks MESSAGE-INTEGRITY (§14.5): HMAC-SHA1 keyed with `key` (for ICE's short-term
    /// credentials, the password's bytes, §9.1.1) over the message up to the attribute, with the
    /// header's length counting through it. Compared in constant time; false when absent.
    public func verifyIntegrity(key: UnsafeRawBufferPointer) -> Bool {
        guard let integrityOffset else { return false }
        return bytes.withUnsafeBytes { raw in
            var mac: (UInt64, UInt64, UInt32) = (0, 0, 0)
            withUnsafeMutableBytes(of: &mac) { Self.authenticate(raw, upTo: integrityOffset, key: key, into: $0) }
            var difference: UInt8 = 0
            withUnsafeBytes(of: mac) { computed in
                for i in 0..<20 { difference |= computed[i] ^ raw[integrityOffset + 4 + i] }
            }
            return difference == 0
        }
    }

    /// `verifyIntegrity(key:)` with a password's UTF-8 bytes.
    public func verifyIntegrity(password: String) -> Bool {
        var password = password
        return password.withUTF8 { verifyIntegrity(key: UnsafeRawBufferPointer($0)) }
    }

    /// HMAC-SHA1 of `message[0..<integrityOffset]` with the header length patched to end just after
    /// a MESSAGE-INTEGRITY attribute at `integrityOffset`; the MAC goes to `mac[0..<20]`.
    static func authenticate(
        _ message: UnsafeRawBufferPointer,
        upTo integrityOffset: Int,
        key: UnsafeRawBufferPointer,
        into mac: UnsafeMutableRawBufferPointer
    ) {
        var hmac = HmacSha1(key: key)
        var header: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { h in
            for i in 0..<headerSize { h[i] = message[i] }
            let length = UInt16(integrityOffset + 24 - headerSize)
            h[2] = UInt8(length >> 8)
            h[3] = UInt8(length & 0xFF)
        }
        withUnsafeBytes(of: header) { hmac.update(UnsafeRawBufferPointer(rebasing: $0[0..<headerSize])) }
        hmac.update(UnsafeRawBufferPointer(rebasing: message[headerSize..<integrityOffset]))
        hmac.finalize(into: mac)
    }

    static func errorCode(_ bytes: RawSpan, _ value: Int) -> UInt16 {
        let hundreds = UInt16(bytes.unsafeLoad(fromByteOffset: value + 2, as: UInt8.self) & 0x07)
        let number = UInt16(bytes.unsafeLoad(fromByteOffset: value + 3, as: UInt8.self))
        return number < 100 ? hundreds * 100 + number : 0
    }

    static func u16(_ bytes: RawSpan, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    static func u32(_ bytes: RawSpan, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    static func u64(_ bytes: RawSpan, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// The 96-bit transaction ID (RFC 8489 §5), as three big-endian words.
public struct STUNTransactionID: Equatable, Hashable, Sendable {
    public var words: (UInt32, UInt32, UInt32)

    public init(_ a: UInt32, _ b: UInt32, _ c: UInt32) { words = (a, b, c) }

    /// A random ID from `generator` (callers pass a seeded one in tests, a system one in clients).
    public static func random(using generator: inout some RandomNumberGenerator) -> STUNTransactionID {
        STUNTransactionID(generator.next(), generator.next(), generator.next())
    }

    public static func == (l: Self, r: Self) -> Bool { l.words == r.words }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
    }
}
