import Testing

@testable import MediaCore

@Suite("Per-source rate limit")
struct SourceRateLimiterTests {
    static let origin = ContinuousClock.now
    static func address(_ port: UInt16, ip: UInt32 = 0xC000_0207) -> TransportAddress {
        TransportAddress(ipv4: ip, port: port)
    }

    @Test("a quiet source gets its burst at once, then the rate")
    func burstThenRate() {
        var limiter = SourceRateLimiter(rate: 50, burst: 10, seed: 1)
        let source = Self.address(5000)
        let admittedAtOnce = (0..<30).filter { _ in limiter.admit(source, now: Self.origin) }.count
        #expect(admittedAtOnce == 10)
        // One second of 1000 packets/s: 50 more get through (one per 20 ms).
        var admitted = 0
        for ms in 1...1000 where limiter.admit(source, now: Self.origin + .milliseconds(ms)) { admitted += 1 }
        #expect(admitted == 50)
        // After a quiet second the whole burst is back.
        let later = Self.origin + .seconds(3)
        let afterQuiet = (0..<30).filter { _ in limiter.admit(source, now: later) }.count
        #expect(afterQuiet == 10)
    }

    @Test("one source's flood does not spend another's budget")
    func independentSources() {
        var limiter = SourceRateLimiter(rate: 50, burst: 10, seed: 7)
        let flood = Self.address(6000)
        for _ in 0..<10_000 { _ = limiter.admit(flood, now: Self.origin) }
        let client = Self.address(6001, ip: 0xC633_6401)
        let clientAdmitted = (0..<10).allSatisfy { _ in limiter.admit(client, now: Self.origin) }
        #expect(clientAdmitted)
    }

    @Test("a flood from many ports gets no more than the table's slots allow, however many ports it uses")
    func manyPortsBounded() {
        let slots = 64
        var limiter = SourceRateLimiter(rate: 10, burst: 5, slotCount: slots, seed: 3)
        var admitted = 0
        // 20,000 distinct ports within one second.
        for i in 0..<20_000 {
            let now = Self.origin + .microseconds(i * 50)
            if limiter.admit(Self.address(UInt16(10_000 + i % 50_000)), now: now) { admitted += 1 }
        }
        // Each slot allows its burst plus one second of its rate.
        #expect(admitted <= slots * (5 + 10) && admitted > slots)
    }

    @Test("rate 0 is no limit; a period of a minute allows that many a minute")
    func disabledAndPerMinute() {
        var off = SourceRateLimiter(rate: 0, burst: 1, seed: 1)
        let unlimited = (0..<1000).allSatisfy { _ in off.admit(Self.address(1), now: Self.origin) }
        #expect(unlimited)
        var perMinute = SourceRateLimiter(rate: 30, per: .seconds(60), burst: 30, seed: 1)
        let client = Self.address(0)
        let firstMinute = (0..<40).filter { _ in perMinute.admit(client, now: Self.origin) }.count
        #expect(firstMinute == 30)
        let afterOneSecond = perMinute.admit(client, now: Self.origin + .seconds(1))
        let afterTwoSeconds = perMinute.admit(client, now: Self.origin + .seconds(2))
        #expect(!afterOneSecond && afterTwoSeconds)
    }
}
