import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Logging
import MediaCore
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import RelayDaemon

@Suite("Join-flood limits")
struct JoinRateLimiterTests {
    static let now = ContinuousClock.now

    @Test("one address gets its joins a minute, then 429 with Retry-After; another address is unaffected")
    func perAddress() throws {
        let limiter = JoinRateLimiter(perAddressPerMinute: 30, relayPerSecond: 0)
        let flooder = JoinRateLimiter.client(
            peer: try SocketAddress(ipAddress: "198.51.100.9", port: 50_000),
            forwardedFor: nil
        )
        let samePortless = JoinRateLimiter.client(
            peer: try SocketAddress(ipAddress: "198.51.100.9", port: 50_001),
            forwardedFor: nil
        )
        let other = JoinRateLimiter.client(
            peer: try SocketAddress(ipAddress: "198.51.100.10", port: 50_000),
            forwardedFor: nil
        )
        var refusals: [JoinRateLimiter.Refusal] = []
        for i in 0..<40 {
            if let refusal = limiter.admitAddress(client: i % 2 == 0 ? flooder : samePortless, now: Self.now) {
                refusals.append(refusal)
            }
        }
        #expect(refusals.count == 10)
        #expect(refusals.first == JoinRateLimiter.Refusal(retryAfterSeconds: 2, scope: .address))
        #expect(limiter.admitAddress(client: other, now: Self.now) == nil)
        #expect(limiter.admitAddress(client: flooder, now: Self.now + .seconds(2)) == nil)  // one more every 2 s
    }

    @Test("the relay-wide budget refuses any join once spent, and refills at its rate")
    func relayWide() throws {
        let limiter = JoinRateLimiter(perAddressPerMinute: 0, relayPerSecond: 5)
        let results = (0..<8).map { _ in limiter.admitRelay(now: Self.now) }
        #expect(results.prefix(5).allSatisfy { $0 == nil })
        #expect(results.suffix(3).allSatisfy { $0 == JoinRateLimiter.Refusal(retryAfterSeconds: 1, scope: .relay) })
        #expect(limiter.admitRelay(now: Self.now + .seconds(1)) == nil)
    }

    /// The order the join route follows: the address's budget, then (for what passed) the relay's.
    /// With the defaults, a flooder spends at most its own burst of the relay-wide budget; once that
    /// burst is over, every join from another address is admitted while the flood goes on.
    @Test("a flood from one address, charged address-first, leaves another address admitted")
    func floodLeavesOthersAdmitted() throws {
        let limiter = JoinRateLimiter(perAddressPerMinute: 30, relayPerSecond: 20)
        let flooder = TransportAddress(ipv4: 0xCB00_7107, port: 0)  // 203.0.113.7
        let other = TransportAddress(ipv4: 0xCB00_7108, port: 0)  // 203.0.113.8
        func join(_ client: TransportAddress, at now: ContinuousClock.Instant) -> JoinRateLimiter.Refusal? {
            limiter.admitAddress(client: client, now: now) ?? limiter.admitRelay(now: now)
        }
        var otherRefusals = 0
        var flooderAdmitted = 0
        // 800 a second from the flooder for 3 s; the other address joins every 100 ms after the first second.
        for step in 0..<2400 {
            let now = Self.now + .microseconds(1250 * step)
            if join(flooder, at: now) == nil { flooderAdmitted += 1 }
            if step >= 800 && step % 80 == 0, join(other, at: now) != nil { otherRefusals += 1 }
        }
        #expect(otherRefusals == 0)
        // Its burst of 30 at most (the relay's 20 at once and what refilled meanwhile), then one per 2 s.
        #expect(flooderAdmitted >= 20 && flooderAdmitted <= 30 + 2)
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

/// The join route's limits through the real router (`SignalingRoutes` on a `Router`), with one media
/// worker that is never bound to a socket: a join that gets past every limit reaches its core and, with
/// the offer `v=0`, comes back 400 bad-offer, so 400 means "admitted" and 429 "rate-limited". Requests go
/// straight to the router's responder with a testing channel per request, so each can come from its
/// own client address (hummingbird's `.router` test client gives every request the same one).
@Suite("Join route: limits and tokens in order")
struct JoinRouteLimitTests {
    static let secret = "a-shared-secret-of-at-least-32-bytes!"

    struct Relay {
        let responder: RouterResponder<RelayRequestContext>
        let metrics: RelayMetrics

        func join(
            from address: String,
            room: String = "visit-1",
            role: String = "staff",
            authorization: String? = nil
        )
            async throws -> HTTPResponse.Status
        {
            var fields = HTTPFields()
            fields[.contentType] = "application/sdp"
            if let authorization { fields[.authorization] = authorization }
            let head = HTTPRequest(
                method: .post,
                scheme: "http",
                authority: "relay",
                path: "/api/rooms/\(room)/participants?role=\(role)",
                headerFields: fields
            )
            let channel = NIOAsyncTestingChannel()
            channel.remoteAddress = try SocketAddress(ipAddress: address, port: 50_000)
            let context = RelayRequestContext(
                source: ApplicationRequestContextSource(channel: channel, logger: Logger(label: "test"))
            )
            let response = try await responder.respond(
                to: Request(head: head, body: RequestBody(buffer: ByteBuffer(string: "v=0"))),
                context: context
            )
            return response.status
        }

        var rateLimitedCount: Int {
            let line = metrics.render([]).split(separator: "\n").first {
                $0.hasPrefix(#"visitrelay_joins_total{outcome="rate-limited"}"#)
            }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
    }

    static func relay(tokens: JoinTokenVerifier, perAddressPerMinute: Int, relayPerSecond: Int) -> Relay {
        let core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: IceTcpEdgeTests.identity,
            seed: 1
        )
        let worker = MediaWorker(
            index: 0,
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            core: core,
            boundAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000),
            logger: Logger(label: "test")
        )
        let metrics = RelayMetrics()
        let router = Router(context: RelayRequestContext.self)
        SignalingRoutes(
            workers: [worker],
            directory: SessionDirectory(),
            maxParticipants: 4,
            simulcast: true,
            runtime: RuntimeSettings(tokens: tokens, turn: nil, logLevel: .info),
            metrics: metrics,
            limits: LimitController(LimitPolicy()),
            joinLimiter: JoinRateLimiter(perAddressPerMinute: perAddressPerMinute, relayPerSecond: relayPerSecond),
            logger: Logger(label: "test")
        ).register(on: router)
        return Relay(responder: router.buildResponder(), metrics: metrics)
    }

    @Test("failed token checks spend no relay-wide budget: after 50 of them a valid token is admitted")
    func failedTokensCostTheRelayNothing() async throws {
        let relay = Self.relay(
            tokens: try await JoinTokenVerifier.make(hs256Secret: Self.secret, es256PublicKeyPEM: nil),
            perAddressPerMinute: 0,
            relayPerSecond: 5
        )
        for i in 0..<50 {
            #expect(
                try await relay.join(from: "198.51.100.\(i % 5 + 1)", authorization: "Bearer not.a.jwt")
                    == .unauthorized
            )
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let token = try await keys.sign(
            JoinClaims(room: "visit-1", role: "staff", exp: ExpirationClaim(value: Date().addingTimeInterval(600)))
        )
        // Past every limit:
        #expect(try await relay.join(from: "198.51.100.9", authorization: "Bearer \(token)") == .badRequest)
        #expect(relay.rateLimitedCount == 0)
    }

    @Test("with the default limits, a flood from one address leaves every join from another admitted")
    func floodLeavesOtherAddressAdmitted() async throws {
        let relay = Self.relay(
            tokens: try await JoinTokenVerifier.make(hs256Secret: nil, es256PublicKeyPEM: nil),
            perAddressPerMinute: RelayConfiguration().joinsPerMinutePerAddress,
            relayPerSecond: RelayConfiguration().joinsPerSecond
        )
        var flood: [HTTPResponse.Status] = []
        var other: [HTTPResponse.Status] = []
        let start = ContinuousClock.now
        // The flooder's burst (30 past its address budget) takes the relay budget once: 30 joins at
        // 20 a second put the relay's schedule up to 1.5 s ahead, so it is whole again 1.6 s after
        // the burst ended (counted from its end: on a loaded machine the burst itself takes a while).
        // Then the flood goes on, 50 requests (more than the relay's 20 a second) before each of three
        // joins from the other address. Counts, not durations, so load only slows the test down.
        for _ in 0..<60 { flood.append(try await relay.join(from: "203.0.113.7")) }
        try await Task.sleep(for: .milliseconds(1600))
        for _ in 0..<3 {
            for _ in 0..<50 { flood.append(try await relay.join(from: "203.0.113.7")) }
            other.append(try await relay.join(from: "203.0.113.8"))
        }
        let elapsedSeconds = Int((ContinuousClock.now - start).components.seconds)
        #expect(other == [.badRequest, .badRequest, .badRequest], "elapsed \(ContinuousClock.now - start)")
        let admitted = flood.filter { $0 == .badRequest }.count
        // At least the relay's 20 at once; at most the address's 30 and one more per 2 s since.
        #expect(
            admitted >= 20 && admitted <= 30 + elapsedSeconds / 2 + 1,
            "the flooder got past the limits \(admitted) times"
        )
        #expect(flood.allSatisfy { $0 == .badRequest || $0 == .tooManyRequests })
        #expect(relay.rateLimitedCount == flood.count - admitted)
    }
}
