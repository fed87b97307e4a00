import Testing

@testable import MediaCore

@Suite("STUN messages (RFC 8489) as ICE uses them")
struct STUNMessageTests {
    /// RFC 5769 §2.1 sample request (password "VOkJxbRl1RmTxUk/WvJxBt", username "evtj:h6vY").
    static let sampleRequest: [UInt8] = [
        0x00, 0x01, 0x00, 0x58,  // Binding request, length 88
        0x21, 0x12, 0xa4, 0x42,  // magic cookie
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,  // transaction ID
        0x80, 0x22, 0x00, 0x10,  // SOFTWARE "STUN test client"
        0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
        0x00, 0x24, 0x00, 0x04,  // PRIORITY
        0x6e, 0x00, 0x01, 0xff,
        0x80, 0x29, 0x00, 0x08,  // ICE-CONTROLLED, tie breaker
        0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
        0x00, 0x06, 0x00, 0x09,  // USERNAME "evtj:h6vY" + 3 bytes padding
        0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20,
        0x00, 0x08, 0x00, 0x14,  // MESSAGE-INTEGRITY
        0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
        0xc1, 0xb5, 0x71, 0xa2,
        0x80, 0x28, 0x00, 0x04,  // FINGERPRINT
        0xe5, 0x7a, 0x3b, 0xcf,
    ]
    static let samplePassword = "VOkJxbRl1RmTxUk/WvJxBt"

    /// RFC 5769 §2.2 sample IPv4 response (192.0.2.1:32853), same password.
    static let sampleIPv4Response: [UInt8] = [
        0x01, 0x01, 0x00, 0x3c,  // Binding success, length 60
        0x21, 0x12, 0xa4, 0x42,
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        0x80, 0x22, 0x00, 0x0b,  // SOFTWARE "test vector" + 1 byte padding
        0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
        0x00, 0x20, 0x00, 0x08,  // XOR-MAPPED-ADDRESS
        0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x08, 0x00, 0x14,  // MESSAGE-INTEGRITY
        0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53,
        0xf0, 0x6b, 0xe7, 0xd7,
        0x80, 0x28, 0x00, 0x04,  // FINGERPRINT
        0xc0, 0x7d, 0x4c, 0x96,
    ]

    /// RFC 5769 §2.3 sample IPv6 response ([2001:db8:1234:5678:11:2233:4455:6677]:32853).
    static let sampleIPv6Response: [UInt8] = [
        0x01, 0x01, 0x00, 0x48,  // Binding success, length 72
        0x21, 0x12, 0xa4, 0x42,
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        0x80, 0x22, 0x00, 0x0b,  // SOFTWARE "test vector"
        0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
        0x00, 0x20, 0x00, 0x14,  // XOR-MAPPED-ADDRESS, IPv6
        0x00, 0x02, 0xa1, 0x47,
        0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        0x00, 0x08, 0x00, 0x14,  // MESSAGE-INTEGRITY
        0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
        0xbf, 0xe3, 0xed, 0x41,
        0x80, 0x28, 0x00, 0x04,  // FINGERPRINT
        0xc8, 0xfb, 0x0b, 0x4c,
    ]

    static let sampleTransaction = STUNTransactionID(0xb7e7_a701, 0xbc34_d686, 0xfa87_dfae)

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func parse(_ bytes: [UInt8]) -> STUNParseError? {
        do {
            _ = try STUNMessageView(validating: bytes.span.bytes)
            return nil
        } catch {
            return error
        }
    }

    static func encode(_ message: STUNMessage) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: message.encodedSize)
        let written = bytes.withUnsafeMutableBytes { buffer in
            var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
            message.encode(into: &out)
            return out.finalize(for: buffer)
        }
        #expect(written == message.encodedSize)
        return bytes
    }

    @Test func sha1AndHmacAndCrcKnownAnswers() {
        var sha = Sha1()
        Array("abc".utf8).withUnsafeBytes { sha.update($0) }
        var digest = sha.finalize()
        var out = [UInt8](repeating: 0, count: 20)
        out.withUnsafeMutableBytes { o in withUnsafeBytes(of: &digest) { HmacSha1.writeDigest($0, into: o) } }
        #expect(Self.hex(out) == "a9993e364706816aba3e25717850c26c9cd0d89d")  // FIPS 180-2 appendix A

        var mac = [UInt8](repeating: 0, count: 20)
        var hmac = Array("Jefe".utf8).withUnsafeBytes { HmacSha1(key: $0) }
        Array("what do ya want for nothing?".utf8).withUnsafeBytes { hmac.update($0) }
        mac.withUnsafeMutableBytes { hmac.finalize(into: $0) }
        #expect(Self.hex(mac) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")  // RFC 2202 test case 2

        var longKey = [UInt8](repeating: 0xAA, count: 80)
        var hmac2 = longKey.withUnsafeMutableBytes { HmacSha1(key: UnsafeRawBufferPointer($0)) }
        Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8).withUnsafeBytes { hmac2.update($0) }
        mac.withUnsafeMutableBytes { hmac2.finalize(into: $0) }
        #expect(Self.hex(mac) == "aa4ae5e15272d00e95705637ce8a3b55ed402112")  // RFC 2202 test case 6

        #expect(Array("123456789".utf8).withUnsafeBytes { Crc32.checksum($0) } == 0xCBF4_3926)
        var pieces = Crc32()
        Array("1234".utf8).withUnsafeBytes { pieces.update($0) }
        Array("56789".utf8).withUnsafeBytes { pieces.update($0) }
        #expect(pieces.value == 0xCBF4_3926, "fed in pieces, the same CRC")
    }

    @Test("RFC 5769 §2.1 request: every attribute, integrity and fingerprint")
    func sampleRequest() throws {
        let message = try STUNMessageView(validating: Self.sampleRequest.span.bytes)
        #expect(message.messageType == .bindingRequest)
        #expect(message.transactionID == Self.sampleTransaction)
        #expect(message.priority == 0x6e00_01ff)
        #expect(message.iceControlled == 0x932f_f9b1_5126_3b36 && message.iceControlling == nil)
        do {
            let result = message.useCandidate
            #expect(!result)
        }
        let usernameParts = message.iceUsername
        let names = try #require(usernameParts)
        #expect(Array(Self.sampleRequest[names.receiver]) == Array("evtj".utf8))
        #expect(Array(Self.sampleRequest[names.sender]) == Array("h6vY".utf8))
        #expect(message.integrityOffset == 76 && message.fingerprintOffset == 100)
        do {
            let result = message.verifyIntegrity(password: Self.samplePassword)
            #expect(result)
        }
        do {
            let result = message.verifyIntegrity(password: "VOkJxbRl1RmTxUk/WvJxBu")
            #expect(!result)
        }
        #expect(message.firstUnknownRequiredAttribute == nil)
    }

    @Test("RFC 5769 §2.2 and §2.3 responses: XOR-MAPPED-ADDRESS for IPv4 and IPv6")
    func sampleResponses() throws {
        let v4 = try STUNMessageView(validating: Self.sampleIPv4Response.span.bytes)
        #expect(v4.messageType == .bindingSuccess && v4.transactionID == Self.sampleTransaction)
        #expect(v4.xorMappedAddress == .ipv4(0xC000_0201, port: 32853))
        do {
            let result = v4.verifyIntegrity(password: Self.samplePassword)
            #expect(result)
        }

        let v6 = try STUNMessageView(validating: Self.sampleIPv6Response.span.bytes)
        #expect(v6.xorMappedAddress == .ipv6(high: 0x2001_0db8_1234_5678, low: 0x0011_2233_4455_6677, port: 32853))
        do {
            let result = v6.verifyIntegrity(password: Self.samplePassword)
            #expect(result)
        }
    }

    @Test("the message type interleaves class bits with the method (RFC 8489 §5)")
    func messageTypes() {
        #expect(STUNMessageType.bindingRequest.rawValue == 0x0001)
        #expect(STUNMessageType.bindingIndication.rawValue == 0x0011)
        #expect(STUNMessageType.bindingSuccess.rawValue == 0x0101)
        #expect(STUNMessageType.bindingError.rawValue == 0x0111)
        for method: UInt16 in [0x001, 0x003, 0x00A, 0x07F, 0xFFF] {
            for c in [STUNMessageClass.request, .indication, .successResponse, .errorResponse] {
                let type = STUNMessageType(method: method, messageClass: c)
                #expect(STUNMessageType(rawValue: type.rawValue) == type && type.rawValue < 0x4000)
            }
        }
    }

    @Test("what the writer writes reads back, integrity and fingerprint included", arguments: [false, true])
    func roundTrip(ipv6: Bool) throws {
        var message = STUNMessage(type: .bindingSuccess, transactionID: Self.sampleTransaction)
        message.software = "test vector"
        message.xorMappedAddress =
            ipv6
            ? .ipv6(high: 0x2001_0db8_1234_5678, low: 0x0011_2233_4455_6677, port: 32853)
            : .ipv4(0xC000_0201, port: 32853)
        message.integrityPassword = Self.samplePassword
        let bytes = Self.encode(message)
        // The RFC 5769 responses differ only in padding (spaces there, zeros here) and what covers it.
        let sample = ipv6 ? Self.sampleIPv6Response : Self.sampleIPv4Response
        #expect(bytes.count == sample.count)
        #expect(Array(bytes[0..<35]) == Array(sample[0..<35]))
        #expect(
            Array(bytes[36..<(ipv6 ? 60 : 48)]) == Array(sample[36..<(ipv6 ? 60 : 48)]),
            "XOR-MAPPED-ADDRESS as in RFC 5769"
        )
        let view = try STUNMessageView(validating: bytes.span.bytes)
        #expect(view.xorMappedAddress == message.xorMappedAddress && view.transactionID == Self.sampleTransaction)
        do {
            let result = view.verifyIntegrity(password: Self.samplePassword)
            #expect(result)
        }

        var request = STUNMessage(type: .bindingRequest, transactionID: STUNTransactionID(1, 2, 3))
        request.username = "abcd:efghi"
        request.priority = 1_853_766_143
        request.useCandidate = true
        request.iceControlling = 0xFEDC_BA98_7654_3210
        request.integrityPassword = "a-password-of-22-chars"
        let requestBytes = Self.encode(request)
        let parsed = try STUNMessageView(validating: requestBytes.span.bytes)
        #expect(parsed.messageType == .bindingRequest && parsed.useCandidate && parsed.priority == 1_853_766_143)
        #expect(parsed.iceControlling == 0xFEDC_BA98_7654_3210 && parsed.iceControlled == nil)
        #expect(parsed.iceUsername.map { Array(requestBytes[$0.sender]) } == Array("efghi".utf8))
        do {
            let result = parsed.verifyIntegrity(password: "a-password-of-22-chars")
            #expect(result)
        }
    }

    @Test("an error response carries its code and reason (487 Role Conflict, RFC 8445 §7.3.1.1)")
    func errorResponse() throws {
        var message = STUNMessage(type: .bindingError, transactionID: Self.sampleTransaction)
        message.error = (487, "Role Conflict")
        let bytes = Self.encode(message)
        let view = try STUNMessageView(validating: bytes.span.bytes)
        let type = view.messageType
        let code = view.errorCode
        #expect(type == .bindingError && code == 487)
        var text: String?
        if let reason = view.errorReason { text = reason.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
        #expect(text == "Role Conflict")
        let verifies = view.verifyIntegrity(password: "x")
        #expect(view.integrityOffset == nil && !verifies, "no MESSAGE-INTEGRITY, nothing verifies")
    }

    @Test("malformed messages get exact typed errors")
    func malformed() {
        let request = Self.sampleRequest
        #expect(Self.parse(Array(request.prefix(19))) == .truncated(needed: 20, available: 19))
        #expect(Self.parse([0x80] + request.dropFirst()) == .notSTUN(firstByte: 0x80))
        var cookie = request
        cookie[4] = 0x22
        #expect(Self.parse(cookie) == .badMagicCookie(0x2212_A442))
        #expect(Self.parse(request + [0, 0, 0, 0]) == .lengthMismatch(declared: 88, available: 92))
        var unaligned = Array(request.prefix(22))
        unaligned[3] = 2
        #expect(Self.parse(unaligned) == .unalignedLength(2))
        var overrun = request
        overrun[23] = 0xFF  // SOFTWARE claims 255 bytes
        #expect(Self.parse(overrun) == .attributeOverrun(type: 0x8022, offset: 20, length: 255))
        var priority = request
        priority[43] = 8  // PRIORITY claims 8 bytes (it then swallows the next attribute's header)
        #expect(Self.parse(priority) == .badAttributeLength(type: 0x0024, length: 8))
        var tampered = request
        tampered[30] ^= 1  // inside SOFTWARE: the CRC no longer matches what FINGERPRINT says
        let expected =
            tampered.withUnsafeBytes { Crc32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<100])) } ^ 0x5354_554E
        #expect(Self.parse(tampered) == .fingerprintMismatch(expected: expected, found: 0xe57a_3bcf))
        var afterFingerprint = request + [0x80, 0x22, 0x00, 0x00]
        afterFingerprint[3] += 4
        #expect(Self.parse(afterFingerprint) == .attributeAfterFingerprint(type: 0x8022))
        var family = Self.sampleIPv4Response
        family[41] = 0x03
        #expect(Self.parse(family) == .badAddress(family: 0x03, length: 8))
        var code = Self.encode(
            {
                var m = STUNMessage(type: .bindingError, transactionID: Self.sampleTransaction)
                m.error = (487, "x")
                m.fingerprint = false
                return m
            }()
        )
        code[26] = 0x02  // class 2: 287
        #expect(Self.parse(code) == .badErrorCode(287))
    }

    @Test("a tampered message no longer verifies, whatever byte changed")
    func integrityCoversEverything() throws {
        var message = STUNMessage(type: .bindingRequest, transactionID: STUNTransactionID(7, 8, 9))
        message.username = "ufrag:other"
        message.priority = 5
        message.integrityPassword = "secret-secret-secret-1"
        message.fingerprint = false
        let bytes = Self.encode(message)
        let integrity = try STUNMessageView(validating: bytes.span.bytes).integrityOffset!
        for index in 0..<integrity where index != 2 && index != 3 {  // the length is checked by parsing
            var tampered = bytes
            tampered[index] ^= 0x40
            guard let view = try? STUNMessageView(validating: tampered.span.bytes) else { continue }
            do {
                let result = view.verifyIntegrity(password: "secret-secret-secret-1")
                #expect(!result, "byte \(index)")
            }
        }
    }

    @Test("comprehension-required attributes we do not know are found; optional ones are not")
    func unknownAttributes() throws {
        var bytes = Self.encode(STUNMessage(type: .bindingRequest, transactionID: STUNTransactionID(1, 1, 1)))
        bytes.removeLast(8)  // drop FINGERPRINT, append attributes
        bytes += [0xC0, 0x57, 0x00, 0x04, 0, 0, 0, 0]  // GOOG-NETWORK-INFO: optional
        bytes += [0x00, 0x2F, 0x00, 0x00]  // an unknown required type
        bytes[3] = UInt8(bytes.count - 20)
        let view = try STUNMessageView(validating: bytes.span.bytes)
        #expect(view.firstUnknownRequiredAttribute == 0x002F)
    }
}
