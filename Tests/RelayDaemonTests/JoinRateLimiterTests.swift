import MediaCore
import NIOCore
import Testing

@testable import RelayDaemon

@Suite("Join-flood limits")
struct JoinRateLimiterTests {
    static let now = ContinuousClock.now

    @Test("one address gets its joins a minute, then 429 with Retry-After; another address is unaffected")
    func perAddress() throws {
        let limiter = JoinRateLimiter(perAddressPerMinute: 30, relayPerSecond: 0)
        let flooder = JoinRateLimiter.client(peer: try SocketAddress(ipAddress: "198.51.100.9", port: 50_000), forwardedFor: nil)
        let samePortless = JoinRateLimiter.client(peer: try SocketAddress(ipAddress: "198.51.100.9", port: 50_001), forwardedFor: nil)
        let other = JoinRateLimiter.client(peer: try SocketAddress(ipAddress: "198.51.100.10", port: 50_000), forwardedFor: nil)
        var refusals: [JoinRateLimiter.Refusal] = []
        for i in 0..<40 {
            if let refusal = limiter.admit(client: i % 2 == 0 ? flooder : samePortless, now: Self.now) { refusals.append(refusal) }
        }
        #expect(refusals.count == 10)
        #expect(refusals.first == JoinRateLimiter.Refusal(retryAfterSeconds: 2, scope: .address))
        #expect(limiter.admit(client: other, now: Self.now) == nil)
        #expect(limiter.admit(client: flooder, now: Self.now + .seconds(2)) == nil)  // one more every 2 s
    }

    @Test("the relay-wide budget refuses any address once spent")
    func relayWide() throws {
        let limiter = JoinRateLimiter(perAddressPerMinute: 0, relayPerSecond: 5)
        let results = (0..<8).map { i in
            limiter.admit(client: TransportAddress(ipv4: 0xC633_6400 + UInt32(i), port: 1), now: Self.now)
        }
        #expect(results.prefix(5).allSatisfy { $0 == nil })
        #expect(results.suffix(3).allSatisfy { $0?.scope == .relay })
        #expect(limiter.admit(client: TransportAddress(ipv4: 1, port: 1), now: Self.now + .seconds(1)) == nil)
    }

    @Test("X-Forwarded-For names the client only when the peer is a proxy on loopback")
    func forwardedFor() throws {
        let proxy = try SocketAddress(ipAddress: "127.0.0.1", port: 40_000)
        let viaProxy = JoinRateLimiter.client(peer: proxy, forwardedFor: "10.0.0.1, 203.0.113.7")
        #expect(viaProxy == TransportAddress(ipv4: 0xCB00_7107, port: 0))
        let v6 = JoinRateLimiter.client(peer: proxy, forwardedFor: "2001:db8::5")
        #expect(v6.ipv4 == nil && v6.low == 5)
        let outsider = try SocketAddress(ipAddress: "198.51.100.9", port: 1234)
        #expect(JoinRateLimiter.client(peer: outsider, forwardedFor: "203.0.113.7").ipv4 == 0xC633_6409)
        #expect(JoinRateLimiter.client(peer: proxy, forwardedFor: "not an address").ipv4 == 0x7F00_0001)
    }
}
