/// A STUN message to write (RFC 8489 §5), with the attributes ICE uses, in the order §14 and
/// RFC 8445 expect: USERNAME, SOFTWARE, ERROR-CODE, XOR-MAPPED-ADDRESS, PRIORITY, USE-CANDIDATE,
/// ICE-CONTROLLING/-CONTROLLED, then MESSAGE-INTEGRITY and FINGERPRINT last.
///
/// `encode(into:)` writes into the caller's buffer and feeds HMAC-SHA1 and CRC-32 as it appends, so
/// it needs no second pass and allocates nothing (strings are read through `withUTF8`).
public struct STUNMessage: Sendable {
    public var type: STUNMessageType
    public var transactionID: STUNTransactionID
    public var username: String?
    public var software: String?
    /// ERROR-CODE (300...699) and its reason phrase.
    public var error: (code: UInt16, reason: String)?
    public var xorMappedAddress: STUNAddress?
    public var priority: UInt32?
    public var useCandidate = false
    public var iceControlling: UInt64?
    public var iceControlled: UInt64?
    /// The short-term password MESSAGE-INTEGRITY is keyed with; nil writes none.
    public var integrityPassword: String?
    public var fingerprint = true

    public init(type: STUNMessageType, transactionID: STUNTransactionID) {
        self.type = type
        self.transactionID = transactionID
    }

    private static func padded(_ length: Int) -> Int { 4 + (length + 3) & ~3 }

    public var encodedSize: Int {
        var size = STUNMessageView.headerSize
        if let username { size += Self.padded(username.utf8.count) }
        if let software { size += Self.padded(software.utf8.count) }
        if let error { size += Self.padded(4 + error.reason.utf8.count) }
        if let xorMappedAddress { size += 4 + xorMappedAddress.valueLength }
        if priority != nil { size += 8 }
        if useCandidate { size += 4 }
        if iceControlling != nil { size += 12 }
        if iceControlled != nil { size += 12 }
        if integrityPassword != nil { size += 24 }
        if fingerprint { size += 8 }
        return size
    }

    /// Appends the message to `out`, which must have `encodedSize` bytes free.
    public func encode(into out: inout OutputRawSpan) {
        let total = encodedSize
        var sink = Sink()
        if var password = integrityPassword {
            sink.hmac = password.withUTF8 { HmacSha1(key: UnsafeRawBufferPointer($0)) }
        }
        // Header: the final length for the wire and the CRC; for the HMAC the length through
        // MESSAGE-INTEGRITY (§14.5), which differs only when FINGERPRINT follows.
        let integrityLength = UInt16(total - STUNMessageView.headerSize - (fingerprint ? 8 : 0))
        var header: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { h in
            Self.store(type.rawValue, h, 0)
            Self.store(UInt16(total - STUNMessageView.headerSize), h, 2)
            Self.store(STUNMessageView.magicCookie, h, 4)
            Self.store(transactionID.words.0, h, 8)
            Self.store(transactionID.words.1, h, 12)
            Self.store(transactionID.words.2, h, 16)
            let wire = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(h)[0..<20])
            for byte in wire { out.append(byte, as: UInt8.self) }
            sink.crc.update(wire)
            Self.store(integrityLength, h, 2)
            sink.hmac?.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(h)[0..<20]))
        }
        if var username {
            username.withUTF8 { sink.attribute(STUNAttributeType.username, UnsafeRawBufferPointer($0), into: &out) }
        }
        if var software {
            software.withUTF8 { sink.attribute(STUNAttributeType.software, UnsafeRawBufferPointer($0), into: &out) }
        }
        if var error {
            var head: UInt32 = UInt32(error.code / 100) << 8 | UInt32(error.code % 100)
            head = head.bigEndian
            error.reason.withUTF8 { reason in
                withUnsafeBytes(of: head) {
                    sink.attribute(STUNAttributeType.errorCode, $0, extra: UnsafeRawBufferPointer(reason), into: &out)
                }
            }
        }
        if let xorMappedAddress { sink.xorAddress(xorMappedAddress, transactionID: transactionID, into: &out) }
        if let priority { sink.attribute(STUNAttributeType.priority, value: priority, into: &out) }
        if useCandidate {
            sink.attribute(STUNAttributeType.useCandidate, UnsafeRawBufferPointer(start: nil, count: 0), into: &out)
        }
        if let iceControlling { sink.attribute(STUNAttributeType.iceControlling, value: iceControlling, into: &out) }
        if let iceControlled { sink.attribute(STUNAttributeType.iceControlled, value: iceControlled, into: &out) }
        if var hmac = sink.hmac {
            var attributeHeader = (STUNAttributeType.messageIntegrity.bigEndian, UInt16(20).bigEndian)
            withUnsafeBytes(of: &attributeHeader) { sink.emit($0, into: &out) }
            var mac: (UInt64, UInt64, UInt32) = (0, 0, 0)
            withUnsafeMutableBytes(of: &mac) { hmac.finalize(into: $0) }
            withUnsafeBytes(of: &mac) { sink.emit(UnsafeRawBufferPointer(rebasing: $0[0..<20]), into: &out) }
        }
        if fingerprint {
            let crc = sink.crc.value ^ STUNMessageView.fingerprintXor
            sink.hmac = nil
            sink.attribute(STUNAttributeType.fingerprint, value: crc, into: &out)
        }
    }

    static func store<T: FixedWidthInteger>(_ value: T, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int) {
        buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }

    /// Appends bytes to the output and feeds them to the digests.
    private struct Sink {
        var hmac: HmacSha1?
        var crc = Crc32()

        mutating func emit(_ bytes: UnsafeRawBufferPointer, into out: inout OutputRawSpan) {
            for byte in bytes { out.append(byte, as: UInt8.self) }
            hmac?.update(bytes)
            crc.update(bytes)
        }

        mutating func attribute(
            _ type: UInt16,
            _ value: UnsafeRawBufferPointer,
            extra: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
            into out: inout OutputRawSpan
        ) {
            let length = value.count + extra.count
            var attributeHeader = (type.bigEndian, UInt16(length).bigEndian)
            withUnsafeBytes(of: &attributeHeader) { emit($0, into: &out) }
            emit(value, into: &out)
            emit(extra, into: &out)
            let zeros: UInt32 = 0
            withUnsafeBytes(of: zeros) {
                emit(UnsafeRawBufferPointer(rebasing: $0[0..<((4 - length % 4) % 4)]), into: &out)
            }
        }

        mutating func attribute(_ type: UInt16, value: some FixedWidthInteger, into out: inout OutputRawSpan) {
            withUnsafeBytes(of: value.bigEndian) { attribute(type, $0, into: &out) }
        }

        mutating func xorAddress(
            _ address: STUNAddress,
            transactionID: STUNTransactionID,
            into out: inout OutputRawSpan
        ) {
            var value: (UInt64, UInt64, UInt32) = (0, 0, 0)
            withUnsafeMutableBytes(of: &value) { v in
                Self.storeAddressHead(address, v)
                switch address {
                case .ipv4(let ip, _):
                    STUNMessage.store(ip ^ STUNMessageView.magicCookie, v, 4)
                case .ipv6(let high, let low, _):
                    let t = transactionID.words
                    STUNMessage.store(high ^ (UInt64(STUNMessageView.magicCookie) << 32 | UInt64(t.0)), v, 4)
                    STUNMessage.store(low ^ (UInt64(t.1) << 32 | UInt64(t.2)), v, 12)
                }
            }
            withUnsafeBytes(of: &value) {
                attribute(
                    STUNAttributeType.xorMappedAddress,
                    UnsafeRawBufferPointer(rebasing: $0[0..<address.valueLength]),
                    into: &out
                )
            }
        }

        static func storeAddressHead(_ address: STUNAddress, _ v: UnsafeMutableRawBufferPointer) {
            v[0] = 0
            if case .ipv4 = address { v[1] = STUNAddress.familyIPv4 } else { v[1] = STUNAddress.familyIPv6 }
            STUNMessage.store(address.port ^ UInt16(STUNMessageView.magicCookie >> 16), v, 2)
        }
    }
}
