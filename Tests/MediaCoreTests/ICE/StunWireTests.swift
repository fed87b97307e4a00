@testable import MediaCore
import Testing

@Suite("STUN for the ICE-lite responder")
struct StunWireTests {
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
        0x21, 0x12, 0xa4, 0x42,  // magic cookie
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,  // transaction ID
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

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
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

        let crc = Array("123456789".utf8).withUnsafeBytes { Crc32.checksum($0) }
        #expect(crc == 0xCBF4_3926)
    }

    @Test func rfc5769SampleRequestParsesAndVerifies() throws {
        try Self.sampleRequest.withUnsafeBytes { packet in
            let summary = try StunWire.bindingRequest(packet).get()
            #expect(summary.localUfrag == "evtj" && summary.remoteUfrag == "h6vY")
            #expect(!summary.useCandidate)
            #expect(StunWire.verifyIntegrity(packet, password: Self.samplePassword))
            #expect(!StunWire.verifyIntegrity(packet, password: "wrong-password-000000"))
        }
        Self.sampleIPv4Response.withUnsafeBytes { packet in
            #expect(StunWire.verifyIntegrity(packet, password: Self.samplePassword))
            let crc = Crc32.checksum(UnsafeRawBufferPointer(rebasing: packet[0..<72])) ^ 0x5354_554E
            #expect(crc == 0xc07d_4c96)
        }
        var tampered = Self.sampleRequest
        tampered[30] ^= 1
        tampered.withUnsafeBytes { #expect(!StunWire.verifyIntegrity($0, password: Self.samplePassword)) }
    }

    @Test("malformed STUN is rejected with the right reason")
    func malformed() {
        func reason(_ bytes: [UInt8]) -> DropReason? {
            bytes.withUnsafeBytes { packet in
                if case .failure(let error) = StunWire.bindingRequest(packet) { return error.reason }
                return nil
            }
        }
        #expect(reason(Array(Self.sampleRequest.prefix(19))) == .stunMalformed)
        var badLength = Self.sampleRequest
        badLength[3] = 0x54
        #expect(reason(badLength) == .stunMalformed)
        var response = Self.sampleRequest
        response[1] = 0x01
        response[0] = 0x01
        #expect(reason(response) == .stunNotRequest)
        var overrun = Self.sampleRequest
        overrun[23] = 0xFF  // SOFTWARE claims 255 bytes
        #expect(reason(overrun) == .stunMalformed)
    }

    @Test("success response: XOR-MAPPED-ADDRESS, integrity and fingerprint check out", arguments: [true, false])
    func successResponse(ipv4: Bool) throws {
        let address =
            ipv4
            ? TransportAddress(ipv4: 0xC000_0201, port: 32853)
            : TransportAddress(ipv6: [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77], port: 32853)
        var buffer = [UInt8](repeating: 0, count: 200)
        let length = Self.sampleRequest.withUnsafeBytes { request in
            buffer.withUnsafeMutableBytes {
                StunWire.bindingSuccess(for: request, mappedAddress: address, password: Self.samplePassword, into: $0)
            }
        }
        #expect(length == (ipv4 ? 64 : 76))
        let response = Array(buffer[0..<length])
        #expect(response[0] == 0x01 && response[1] == 0x01)
        #expect(Array(response[8..<20]) == Array(Self.sampleRequest[8..<20]))
        // XOR-MAPPED-ADDRESS decodes back (RFC 8489 §14.2).
        #expect(response[20] == 0x00 && response[21] == 0x20)
        let port = (UInt16(response[26]) << 8 | UInt16(response[27])) ^ 0x2112
        #expect(port == 32853)
        if ipv4 {
            let raw = UInt32(response[28]) << 24 | UInt32(response[29]) << 16 | UInt32(response[30]) << 8 | UInt32(response[31])
            #expect(raw ^ 0x2112_A442 == 0xC000_0201)
        }
        // Our own integrity check accepts it; the fingerprint covers all before it.
        response.withUnsafeBytes { #expect(StunWire.verifyIntegrity($0, password: Self.samplePassword)) }
        let crc = response.withUnsafeBytes { Crc32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(length - 8)])) } ^ 0x5354_554E
        let stored = UInt32(response[length - 4]) << 24 | UInt32(response[length - 3]) << 16 | UInt32(response[length - 2]) << 8 | UInt32(response[length - 1])
        #expect(crc == stored)
    }
}
