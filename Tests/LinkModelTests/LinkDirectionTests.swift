import Foundation
import LinkModel
import Testing

/// A recorded trace from the repository's `Traces/` (TraceDirectory), so a bare clone passes.
func loadTrace(_ name: String) throws -> DeliveryTrace {
    try TraceDirectory.load(name, from: TraceDirectory.locate())
}

/// Offers `packetBytes`-byte packets every `intervalUs` for `durationUs` and collects what arrives.
func drive(
    _ link: inout LinkDirection<Int>,
    packetBytes: Int = 1200,
    intervalUs: UInt64,
    durationUs: UInt64,
    drainUs: UInt64 = 0
) -> [LinkPacket<Int>] {
    var delivered: [LinkPacket<Int>] = []
    var t: UInt64 = 0
    var n = 0
    while t < durationUs {
        link.advance(toUs: t) { delivered.append($0) }
        link.enqueue(size: packetBytes, payload: n, nowUs: t)
        n += 1
        t += intervalUs
    }
    link.advance(toUs: durationUs + drainUs) { delivered.append($0) }
    return delivered
}

@Suite("Link model")
struct LinkDirectionTests {
    @Test(
        "a saturated link delivers what the trace offers, within 2 % over 300 s",
        arguments: ["TMobile-UMTS-driving.up", "synthetic/rfc8867-tc5.1-0.6mbps-rural.mm"]
    )
    func deliveredRateMatchesTrace(name: String) throws {
        let trace = try loadTrace(name)
        var link = LinkDirection<Int>(
            configuration: LinkConfiguration(capacity: .trace(trace), queueLimit: .packets(400)),
            seed: 1
        )
        let duration: UInt64 = 300_000_000
        // 1200-byte packets every 2 ms (4.8 Mbit/s) keep the queue from ever running dry.
        let delivered = drive(&link, intervalUs: 2_000, durationUs: duration)
        let deliveredBytes = delivered.reduce(0) { $0 + $1.size }
        // Independently: the opportunities the trace file lists up to the end, looping.
        var opportunities = 0
        var index = 0
        while trace.opportunityTimeUs(index) <= duration {
            opportunities += 1
            index += 1
        }
        let capacity = opportunities * DeliveryTrace.opportunityBytes
        #expect(link.statistics.capacityBytes == capacity)
        let error = abs(Double(deliveredBytes) - Double(capacity)) / Double(capacity)
        #expect(error < 0.02, "delivered \(deliveredBytes) B vs capacity \(capacity) B: \(error * 100) %")
        #expect(link.statistics.queueDroppedPackets > 0, "the offered load exceeded capacity")
    }

    @Test("queueing delay grows under overload and the queue limit drops the excess")
    func overload() {
        var link = LinkDirection<Int>(
            configuration: LinkConfiguration(capacity: .fixed(bitsPerSecond: 1_000_000), queueLimit: .packets(100)),
            seed: 1
        )
        // 1200 B every 4.8 ms = 2 Mbit/s offered into 1 Mbit/s for 10 s.
        let delivered = drive(&link, intervalUs: 4_800, durationUs: 10_000_000, drainUs: 5_000_000)
        let delays = delivered.map(\.queueDelayUs)
        let early = delays.prefix(5).max() ?? 0
        let late = delays.suffix(200).min() ?? 0
        #expect(late > early * 10, "delay grows: first \(early) µs, later \(late) µs")
        // A full queue of 100 × 1200 B at 1 Mbit/s takes 0.96 s to drain.
        let maximum = delays.max() ?? 0
        #expect(maximum > 900_000 && maximum < 1_000_000, "bounded by the queue: \(maximum) µs")
        let dropped = Double(link.statistics.queueDroppedPackets) / Double(link.statistics.arrivedPackets)
        #expect(abs(dropped - 0.5) < 0.05, "about half is dropped: \(dropped)")
    }

    @Test("Bernoulli loss matches its rate", arguments: [0.01, 0.03])
    func bernoulli(rate: Double) {
        var link = LinkDirection<Int>(configuration: LinkConfiguration(loss: .bernoulli(rate: rate)), seed: 7)
        _ = drive(&link, intervalUs: 100, durationUs: 20_000_000)  // 200 000 packets
        let measured = link.statistics.lossFraction
        #expect(abs(measured - rate) < rate * 0.1, "measured \(measured)")
    }

    @Test("Gilbert–Elliott loss comes in bursts at the stationary mean")
    func gilbertElliott() {
        let config = LinkConfiguration(
            loss: .gilbertElliott(goodToBad: 0.01, badToGood: 0.25, lossInGood: 0, lossInBad: 1)
        )
        var link = LinkDirection<Int>(configuration: config, seed: 3)
        let delivered = drive(&link, intervalUs: 100, durationUs: 30_000_000)
        let mean = 0.01 / (0.01 + 0.25)
        #expect(abs(link.statistics.lossFraction - mean) < mean * 0.1)
        // Mean burst length 1 / badToGood = 4 packets.
        var bursts = 0
        var previous = -1
        for packet in delivered {
            if packet.payload > previous + 1 { bursts += 1 }
            previous = packet.payload
        }
        let meanBurst = Double(link.statistics.lostPackets) / Double(bursts)
        #expect(meanBurst > 3 && meanBurst < 5, "mean burst \(meanBurst)")
    }

    @Test("jitter adds the configured spread; without reordering packets stay in order")
    func jitter() {
        let base: UInt64 = 50_000
        let sigma: UInt64 = 10_000
        var ordered = LinkDirection<Int>(
            configuration: LinkConfiguration(baseDelayUs: base, jitterUs: sigma, jitterReorders: false),
            seed: 5
        )
        let inOrder = drive(&ordered, intervalUs: 20_000, durationUs: 200_000_000, drainUs: 1_000_000)
        #expect(ordered.statistics.reorderedPackets == 0)
        #expect(inOrder.map(\.payload) == inOrder.map(\.payload).sorted())

        var reordering = LinkDirection<Int>(
            configuration: LinkConfiguration(baseDelayUs: base, jitterUs: sigma, jitterReorders: true),
            seed: 5
        )
        let packets = drive(&reordering, intervalUs: 2_000, durationUs: 20_000_000, drainUs: 1_000_000)
        let extras = packets.map { Double($0.deliveryUs - $0.departureUs - base) }
        let mean = extras.reduce(0, +) / Double(extras.count)
        // A normal clipped at zero has mean σ/√(2π).
        let expected = Double(sigma) / (2 * Double.pi).squareRoot()
        #expect(abs(mean - expected) < expected * 0.1, "mean extra delay \(mean) µs, expected \(expected)")
        #expect(reordering.statistics.reorderedPackets > 0)
        #expect(packets.allSatisfy { $0.deliveryUs >= $0.departureUs + base })
    }

    @Test("an outage delivers nothing inside it; the queue then drains")
    func outage() {
        let config = LinkConfiguration(
            capacity: .fixed(bitsPerSecond: 2_000_000),
            queueLimit: .packets(1000),
            outages: [.init(startUs: 1_000_000, durationUs: 500_000)]
        )
        var link = LinkDirection<Int>(configuration: config, seed: 1)
        let delivered = drive(&link, intervalUs: 10_000, durationUs: 3_000_000, drainUs: 1_000_000)
        #expect(!delivered.contains { $0.departureUs >= 1_000_000 && $0.departureUs < 1_500_000 })
        #expect(delivered.count == link.statistics.arrivedPackets, "nothing lost, only delayed")
        #expect((delivered.map(\.queueDelayUs).max() ?? 0) >= 450_000)
    }

    @Test("the same seed gives the same log; another seed does not")
    func repeatable() throws {
        let trace = try loadTrace("synthetic/rfc8867-tc5.1-0.6mbps-rural.mm")
        let config = LinkConfiguration(
            capacity: .trace(trace),
            queueLimit: .bytes(60_000),
            baseDelayUs: 50_000,
            jitterUs: 8_000,
            loss: .bernoulli(rate: 0.02)
        )
        func run(_ seed: UInt64) -> [String] {
            var link = LinkDirection<Int>(configuration: config, seed: seed)
            return drive(&link, intervalUs: 9_000, durationUs: 30_000_000).map { "\($0.id),\($0.deliveryUs)" }
        }
        #expect(run(42) == run(42))
        #expect(run(42) != run(43))
    }

    @Test("trace files are parsed with line-numbered errors")
    func traceParsing() throws {
        let trace = try DeliveryTrace(parsing: "1\n1\n5\n\n10\n")
        #expect(trace.periodMs == 10)
        #expect(trace.opportunityTimeUs(0) == 1_000 && trace.opportunityTimeUs(4) == 11_000)
        #expect(abs(trace.meanBitsPerSecond - 4 * 1500 * 8 / 0.010) < 1)
        #expect(throws: DeliveryTrace.ParseError.malformedLine(line: 2, text: "x")) {
            try DeliveryTrace(parsing: "1\nx\n")
        }
        #expect(throws: DeliveryTrace.ParseError.decreasing(line: 3, value: 2, previous: 5)) {
            try DeliveryTrace(parsing: "1\n5\n2\n")
        }
        #expect(throws: DeliveryTrace.ParseError.empty) { try DeliveryTrace(parsing: "\n\n") }
    }
}
