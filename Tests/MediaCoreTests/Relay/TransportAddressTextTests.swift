import Foundation
import Testing

@testable import MediaCore

/// Address text as the configuration (`media.udp`, `media.announce`) and SDP candidates write it.
@Suite("Transport addresses: IPv4 and IPv6 text")
struct TransportAddressTextTests {
    @Test(
        "IPv4 and bracketed IPv6 with a port parse to the address",
        arguments: [
            ("127.0.0.1:40000", TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            ("198.51.100.7:0", TransportAddress(ipv4: 0xC633_6407, port: 0)),
            ("[::1]:40000", TransportAddress(ipv6High: 0, low: 1, port: 40_000)),
            ("[::]:9", TransportAddress(ipv6High: 0, low: 0, port: 9)),
            ("[2001:db8::7]:443", TransportAddress(ipv6High: 0x2001_0DB8_0000_0000, low: 7, port: 443)),
            (
                "[2001:DB8:0:0:1:0:0:1]:1",
                TransportAddress(ipv6High: 0x2001_0DB8_0000_0000, low: 0x0001_0000_0000_0001, port: 1)
            ),
            ("[fe80::]:2", TransportAddress(ipv6High: 0xFE80_0000_0000_0000, low: 0, port: 2)),
            ("[::ffff:192.0.2.1]:3", TransportAddress(ipv4: 0xC000_0201, port: 3)),
            ("[64:ff9b::192.0.2.33]:4", TransportAddress(ipv6High: 0x0064_FF9B_0000_0000, low: 0xC000_0221, port: 4)),
        ]
    )
    func parses(text: String, expected: TransportAddress) {
        #expect(TransportAddress(text) == expected)
    }

    @Test(
        "malformed text is refused, not guessed",
        arguments: [
            "::1:40000", "[::1]", "[::1]40000", "[::1]:70000", "[1::2::3]:1", "[:::1]:1", "[1:2:3:4:5:6:7:8:9]:1",
            "[1:2:3:4:5:6:7]:1", "[12345::]:1", "[g::1]:1", "[::1.2.3]:1", "[1.2.3.4::]:1", "localhost:40000",
            "1.2.3:4", "1.2.3.256:4", "01.2.3.4:5", "1.2.3.4", "1.2.3.4:", "[+1::]:1",
        ]
    )
    func refuses(text: String) {
        #expect(TransportAddress(text) == nil, "\(text)")
    }

    @Test("IPv6 text comes out in RFC 5952 form: lower case, the longest zero run as ::")
    func canonicalText() {
        #expect(TransportAddress("[2001:DB8:0:0:1:0:0:1]:1")?.host == "2001:db8::1:0:0:1")
        #expect(TransportAddress("[::1]:1")?.host == "::1")
        #expect(TransportAddress("[::]:1")?.host == "::")
        #expect(TransportAddress("[fe80::]:1")?.host == "fe80::")
        #expect(TransportAddress("[2001:db8:0:1:1:1:1:1]:1")?.host == "2001:db8:0:1:1:1:1:1", "one zero group stays")
        #expect(TransportAddress("[::1]:40000")?.description == "[::1]:40000")
        #expect(TransportAddress("127.0.0.1:40000")?.description == "127.0.0.1:40000")
    }

    @Test("an IPv6 relay answers with IPv6 host candidates and IN IP6 connection lines")
    func ipv6Answer() throws {
        let identity = try DtlsIdentity(commonName: "relay")
        let udp = try #require(TransportAddress("[::1]:40000"))
        let tcp = try #require(TransportAddress("[::1]:40000")).on(.tcp)
        var core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: udp, announcedTCPAddress: tcp),
            identity: identity,
            seed: 1
        )
        let client = try RelayTestClient(port: 50_001, relayFingerprint: identity.fingerprint, seed: 1)
        let result = try core.join(
            room: "v6",
            role: .citizen,
            offer: client.offer(slots: 1, audioPT: 111, videoPT: 96),
            now: .now
        )
        let lines = result.answerSDP.components(separatedBy: "\r\n")
        #expect(
            lines.contains { $0.hasPrefix("a=candidate:1 1 udp ") && $0.hasSuffix(" ::1 40000 typ host") },
            "\(lines)"
        )
        #expect(
            lines.contains {
                $0.hasPrefix("a=candidate:2 1 tcp ") && $0.contains(" ::1 40000 typ host tcptype passive")
            },
            "\(lines)"
        )
        #expect(lines.filter { $0.hasPrefix("c=") }.allSatisfy { $0 == "c=IN IP6 ::" })
        #expect(!lines.filter { $0.hasPrefix("c=") }.isEmpty)
        #expect(lines.filter { $0.hasPrefix("a=rtcp:") }.allSatisfy { $0 == "a=rtcp:9 IN IP6 ::" })
        #expect(!result.answerSDP.contains("IN IP4 0.0.0.0"))

        var v4 = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: identity,
            seed: 1
        )
        let answer4 = try v4.join(
            room: "v4",
            role: .citizen,
            offer: client.offer(slots: 1, audioPT: 111, videoPT: 96),
            now: .now
        ).answerSDP
        #expect(answer4.contains("c=IN IP4 0.0.0.0\r\n") && !answer4.contains("IN IP6"))
    }
}
