import BweSimulation
import LinkModel
import MediaCore
import Testing

/// Short runs of the simulator on synthetic links: the properties DESIGN.md asks of the estimator on
/// 4G, each compared with libwebrtc's defaults in the same run where they differ.
@Suite("Bandwidth simulation")
struct BandwidthSimulationTests {
    static func run(
        _ parameters: SendSideEstimatorParameters,
        link: LinkConfiguration,
        seconds: Double,
        pacing: SimulatedPacing? = nil
    ) -> SimulationResult {
        var settings = SimulationSettings(
            link: link,
            durationUs: UInt64(seconds * 1_000_000),
            feedbackDelayUs: link.baseDelayUs,
            parameters: parameters
        )
        settings.sampleIntervalUs = 100_000
        if let pacing { settings.pacing = pacing }
        return runSimulation(settings, video: .uniform())
    }

    @Test("on a steady 1 Mbit/s link the estimate settles near capacity without a standing queue")
    func steadyLink() {
        let link = LinkConfiguration(
            capacity: .fixed(bitsPerSecond: 1_000_000),
            queueLimit: .bytes(150_000),
            baseDelayUs: 40_000
        )
        let result = Self.run(.rural4G, link: link, seconds: 60)
        #expect(result.utilization > 0.7, "utilisation \(result.utilization)")
        #expect(result.queueingDelayP95Ms < 150, "queueing delay p95 \(result.queueingDelayP95Ms) ms")
        #expect(result.pausedSeconds == 0)
    }

    @Test("the oracle sends at most 2.5 Mbit/s: on a 1 Mbit/s link it is the capacity, on 10 Mbit/s a quarter of it")
    func oracle() {
        let slow = Self.run(
            .rural4G,
            link: LinkConfiguration(
                capacity: .fixed(bitsPerSecond: 1_000_000),
                queueLimit: .bytes(150_000),
                baseDelayUs: 40_000
            ),
            seconds: 30
        )
        #expect(abs(slow.oracleUtilization - slow.utilization) < 0.01)
        let fast = Self.run(
            .rural4G,
            link: LinkConfiguration(
                capacity: .fixed(bitsPerSecond: 10_000_000),
                queueLimit: .bytes(150_000),
                baseDelayUs: 40_000
            ),
            seconds: 30
        )
        #expect(
            abs(fast.oracleUtilization - 4 * fast.utilization) < 0.04,
            "\(fast.oracleUtilization) vs \(fast.utilization)"
        )
    }

    @Test("4 % random loss is not congestion: rural4G still fills the link, plain GCC holds")
    func randomLoss() {
        let link = LinkConfiguration(
            capacity: .fixed(bitsPerSecond: 1_500_000),
            queueLimit: .bytes(150_000),
            baseDelayUs: 40_000,
            loss: .bernoulli(rate: 0.04)
        )
        let ours = Self.run(.rural4G, link: link, seconds: 40)
        let gcc = Self.run(.gccDefaults, link: link, seconds: 40)
        #expect(ours.goodputBps > 900_000, "rural4G goodput \(ours.goodputBps)")
        #expect(ours.goodputBps > 1.5 * gcc.goodputBps, "rural4G \(ours.goodputBps) vs gcc \(gcc.goodputBps)")
    }

    @Test("a 600 ms outage does not collapse the rate, and video never pauses for it")
    func outage() {
        let link = LinkConfiguration(
            capacity: .fixed(bitsPerSecond: 1_000_000),
            queueLimit: .bytes(150_000),
            baseDelayUs: 40_000,
            outages: [.init(startUs: 30_000_000, durationUs: 600_000)]
        )
        let result = Self.run(.rural4G, link: link, seconds: 40)
        let before = result.samples.first { $0.seconds >= 29.9 }!.estimateBps
        let after = result.samples.filter { $0.seconds > 30 && $0.seconds <= 33 }.map(\.estimateBps).min()!
        #expect(after >= 0.5 * before, "estimate \(before) before, down to \(after) after the outage")
        #expect(result.pausedSeconds == 0)
    }

    @Test("below the floor video pauses, audio goes on, and video resumes when the link returns")
    func pauseAndResume() {
        // 1 Mbit/s, then 60 kbit/s for 20 s (below audio plus the video floor), then 1 Mbit/s again.
        var times: [UInt32] = []
        func fill(fromMs: Int, toMs: Int, bitsPerSecond: Double) {
            let interval = 1500.0 * 8 / bitsPerSecond * 1000
            var t = Double(fromMs)
            while t < Double(toMs) {
                times.append(UInt32(t) + 1)
                t += interval
            }
        }
        fill(fromMs: 0, toMs: 20_000, bitsPerSecond: 1_000_000)
        fill(fromMs: 20_000, toMs: 40_000, bitsPerSecond: 60_000)
        fill(fromMs: 40_000, toMs: 70_000, bitsPerSecond: 1_000_000)
        let trace = try! DeliveryTrace(opportunitiesMs: times)
        let link = LinkConfiguration(capacity: .trace(trace), queueLimit: .bytes(60_000), baseDelayUs: 40_000)
        let result = Self.run(.rural4G, link: link, seconds: 70)
        let pausedDuringDip = result.samples.filter { $0.seconds > 25 && $0.seconds < 40 && $0.paused }.count
        let pausedAtEnd = result.samples.filter { $0.seconds > 60 && $0.paused }.count
        #expect(pausedDuringDip > 100, "video paused in the dip (\(pausedDuringDip) of 150 samples)")
        #expect(pausedAtEnd == 0, "video resumed after the link returned")
        #expect(
            result.samples.filter { $0.seconds > 25 && $0.seconds < 40 }.allSatisfy { $0.sendBps > 0 },
            "audio went on"
        )
    }

    @Test("the simulator paces as the relay does unless told otherwise: the relay's own pacing settings")
    func relayPacingByDefault() {
        let settings = SimulationSettings(
            link: LinkConfiguration(
                capacity: .fixed(bitsPerSecond: 1_000_000),
                queueLimit: .bytes(60_000),
                baseDelayUs: 40_000
            ),
            durationUs: 1_000_000,
            feedbackDelayUs: 40_000,
            parameters: .rural4G
        )
        let relay = RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000))
        #expect(settings.pacing == .relay(relay.downlinkPacing))
        #expect(relay.downlinkPacing.pacer.windowHoldLimit == relay.downlinkPacing.pacer.maxQueueDelay)
    }

    @Test(
        "into a 3 s outage the relay's pacing stops feeding the link once feedback has been silent for a second; without that rule its audio waits seconds in the link's queue"
    )
    func mediaIntoAnOutage() {
        let link = LinkConfiguration(
            capacity: .fixed(bitsPerSecond: 1_000_000),
            queueLimit: .bytes(150_000),
            baseDelayUs: 40_000,
            outages: [.init(startUs: 20_000_000, durationUs: 3_000_000)]
        )
        var unruled = DownlinkPacing()
        unruled.outageSilence = .seconds(3600)
        let relay = Self.run(.rural4G, link: link, seconds: 40)
        let withoutRule = Self.run(.rural4G, link: link, seconds: 40, pacing: .relay(unruled))
        let sender = Self.run(.rural4G, link: link, seconds: 40, pacing: .sender)
        // 2 s unreachable: audio one packet per 100 ms (20 of 100), the rest dropped.
        #expect(
            (70...90).contains(relay.audioDroppedAtSender),
            "relay dropped \(relay.audioDroppedAtSender) audio packets"
        )
        #expect(relay.videoDroppedAtSender > 0)
        #expect(withoutRule.audioDroppedAtSender == 0 && withoutRule.videoDroppedAtSender == 0)
        #expect(
            relay.audioQueueingDelayP95Ms < 0.5 * withoutRule.audioQueueingDelayP95Ms,
            "audio p95 \(relay.audioQueueingDelayP95Ms) ms with the rule, \(withoutRule.audioQueueingDelayP95Ms) ms without"
        )
        // A sender's pacing holds audio in its window and drops it after 200 ms.
        #expect(sender.audioDroppedAtSender > 50, "sender dropped \(sender.audioDroppedAtSender) stale audio packets")
        #expect(sender.audioQueueingDelayP95Ms < 200, "sender: audio p95 \(sender.audioQueueingDelayP95Ms) ms")
    }
}
