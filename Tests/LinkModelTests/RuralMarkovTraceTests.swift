import LinkModel
import Testing

@Suite("Synthetic rural 4G traces (RuralMarkovTrace)")
struct RuralMarkovTraceTests {
    /// Capacity per second, in bits per second, over the trace's first period.
    func perSecond(_ trace: DeliveryTrace) -> [Double] {
        var seconds = [Double](repeating: 0, count: Int(trace.periodMs / 1000))
        for ms in trace.opportunitiesMs where Int(ms / 1000) < seconds.count {
            seconds[Int(ms / 1000)] += Double(DeliveryTrace.opportunityBytes * 8)
        }
        return seconds
    }

    @Test("a seed names a trace: the same seed gives the same trace, another seed another")
    func seeded() {
        let a = RuralMarkovTrace.generate(seed: 1, seconds: 120)
        #expect(a == RuralMarkovTrace.generate(seed: 1, seconds: 120))
        #expect(a != RuralMarkovTrace.generate(seed: 2, seconds: 120))
        #expect(a.periodMs == 120_000)
    }

    @Test(
        "20-minute traces average 0.9-1.7 Mbit/s, swing from poor to good, and have outages",
        arguments: [11, 12, 13, 14]
    )
    func shape(seed: UInt64) {
        let trace = RuralMarkovTrace.generate(seed: seed, seconds: 1200)
        #expect((900_000...1_700_000).contains(trace.meanBitsPerSecond), "mean \(trace.meanBitsPerSecond)")
        let seconds = perSecond(trace)
        let gaps = zip(trace.opportunitiesMs, trace.opportunitiesMs.dropFirst()).filter { $1 - $0 >= 500 }
        #expect(!gaps.isEmpty, "at least one outage: half a second with no delivery")
        #expect(seconds.filter { $0 < 500_000 }.count >= 60, "minutes in poor coverage")
        #expect(seconds.filter { $0 > 2_500_000 }.count >= 60, "minutes in good coverage")
    }

    @Test("no outages and one state give a steady mean")
    func steady() {
        var parameters = RuralMarkovTrace.Parameters.rural
        parameters.states = [.init(name: "only", meanBps: 1_000_000, meanDwellSeconds: 1_000)]
        parameters.meanSecondsBetweenOutages = 1e9
        let trace = RuralMarkovTrace.generate(seed: 3, seconds: 600, parameters: parameters)
        #expect(abs(trace.meanBitsPerSecond - 1_000_000) < 150_000, "mean \(trace.meanBitsPerSecond)")
        #expect(!perSecond(trace).contains(0))
    }
}
