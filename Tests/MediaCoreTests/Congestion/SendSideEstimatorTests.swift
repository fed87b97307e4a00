import Testing

@testable import MediaCore

@Suite("Send-side estimator parts")
struct SendSideEstimatorTests {
    static let parameters = SendSideEstimatorParameters.gccDefaults

    @Test("sent packets are numbered across the 16-bit wrap, matched once, and counted in flight until reported")
    func history() {
        var history = SentPacketHistory(capacity: 1024)
        var wire: [UInt16] = []
        for i in 0..<70_000 {
            let sequence = history.record(size: 1000, sendTimeUs: Int64(i))
            if i >= 69_990 { wire.append(sequence) }
            if i < 69_000 { _ = history.report(history.unwrap(sequence)) }
        }
        #expect(wire.first == UInt16(truncatingIfNeeded: 69_991))
        // The last 1,000 were never reported: in flight, as far as the ring remembers.
        #expect(history.bytesInFlight == 1000 * 1000)
        let entry = history.report(history.unwrap(wire[0]))
        #expect(entry?.sendTimeUs == 69_990 && entry?.size == 1000)
        #expect(history.report(history.unwrap(wire[0])) == nil, "reported once only")
        #expect(history.report(history.unwrap(UInt16(truncatingIfNeeded: 60_000))) == nil, "too old for the ring")
    }

    /// Feeds groups 20 ms apart whose arrival spacing grows, stays or shrinks by `gradientMs` per group.
    static func usage(gradientMs: Double, groups: Int = 60) -> BandwidthUsage {
        var trendline = TrendlineEstimator(parameters: parameters)
        var usage = BandwidthUsage.normal
        var arrival = 0.0
        for _ in 0..<groups {
            arrival += 20 + gradientMs
            usage = trendline.update(.init(sendDeltaMs: 20, arrivalDeltaMs: 20 + gradientMs, arrivalTimeMs: arrival))
        }
        return usage
    }

    @Test("a growing queue is overuse, a draining one underuse, a steady path normal")
    func trendline() {
        #expect(Self.usage(gradientMs: 2) == .overusing)
        #expect(Self.usage(gradientMs: -2) == .underusing)
        #expect(Self.usage(gradientMs: 0) == .normal)
    }

    @Test("a radio grant's burst joins one group instead of reading as a delay swing")
    func burstGrouping() {
        var groups = PacketGroupDeltas(parameters: .rural4G)
        var deltas: [PacketGroupDeltas.Delta] = []
        // Packets sent every 10 ms; the radio holds them and releases four at a time, 1 ms apart.
        for i in 0..<40 {
            let send = Double(i * 10)
            let grant = Double((i / 4 + 1) * 40)
            if let delta = groups.add(sendMs: send, arrivalMs: grant + Double(i % 4)) { deltas.append(delta) }
        }
        // One delta per grant, each as long on the send side as on the arrival side: no trend.
        #expect(deltas.count == 8)  // ten grants: the first has no predecessor, the last is not closed
        #expect(deltas.allSatisfy { abs($0.arrivalDeltaMs - $0.sendDeltaMs) < 0.001 })
    }

    @Test("overuse decreases to the share of the acknowledged rate, and again only after a round trip")
    func aimdDecrease() {
        var rate = AimdRateControl(parameters: Self.parameters)
        rate.update(usage: .overusing, acknowledged: 1_000_000, rttMs: 100, nowMs: 0)
        #expect(rate.bitrate == 300_000, "never above the current rate on overuse")
        var high = AimdRateControl(
            parameters: {
                var p = Self.parameters
                p.startBitrate = 2_000_000
                return p
            }()
        )
        high.update(usage: .overusing, acknowledged: 1_000_000, rttMs: 100, nowMs: 0)
        #expect(high.bitrate == 850_000)
        high.update(usage: .overusing, acknowledged: 800_000, rttMs: 100, nowMs: 50)
        #expect(high.bitrate == 850_000, "within one RTT of the last decrease")
        high.update(usage: .overusing, acknowledged: 800_000, rttMs: 100, nowMs: 150)
        #expect(high.bitrate == 680_000)
        // A bounded decrease (rural4G takes at most half per step).
        var bounded = AimdRateControl(
            parameters: {
                var p = SendSideEstimatorParameters.rural4G
                p.startBitrate = 2_000_000
                return p
            }()
        )
        bounded.update(usage: .overusing, acknowledged: 200_000, rttMs: 100, nowMs: 0)
        #expect(bounded.bitrate == 1_000_000)
    }

    @Test("the estimator's feedback path: losses and arrivals are matched to what was sent")
    func feedbackMatching() {
        let origin = ContinuousClock.now
        var estimator = SendSideEstimator(parameters: .gccDefaults, origin: origin)  // loss judged per feedback
        var sequences: [UInt16] = []
        for i in 0..<100 { sequences.append(estimator.packetSent(size: 1200, now: origin + .milliseconds(i * 10))) }
        #expect(estimator.history.bytesInFlight == 120_000)
        #expect(!estimator.windowAllows(1200), "a 300 kbit/s target allows about 7.5 KB in flight")
        estimator.beginFeedback()
        for (i, sequence) in sequences.enumerated() {
            estimator.addReport(sequence: sequence, arrivalTimeUs: i % 10 == 9 ? nil : Int64(i * 10_000 + 40_000))
        }
        estimator.endFeedback(now: origin + .seconds(1) + .milliseconds(50))
        #expect(estimator.history.bytesInFlight == 0)
        #expect(estimator.acknowledgedBitrate.map { abs($0 - 864_000) < 40_000 } == true)  // 90 % of 960 kbit/s
        #expect(estimator.lastLossFraction == 0.1)
        #expect(estimator.rttMs == 70)  // the newest received packet (the 99th) left at 980 ms
    }

    @Test("what went into an outage is not congestion loss: after 10 s without any arrival the rate holds")
    func outageLossIsNotCongestion() {
        let origin = ContinuousClock.now
        var estimator = SendSideEstimator(parameters: .rural4G, origin: origin)
        var pending: [(sequence: UInt16, sentMs: Int)] = []
        // Feedback every 100 ms for what was sent since the last one; `lost` decides which did not arrive.
        func run(from startMs: Int, to endMs: Int, lost: (Int) -> Bool, feedback: Bool) {
            for ms in stride(from: startMs, to: endMs, by: 10) {
                pending.append((estimator.packetSent(size: 1000, now: origin + .milliseconds(ms)), ms))
                guard feedback, ms % 100 == 90 else { continue }
                estimator.beginFeedback()
                for packet in pending {
                    estimator.addReport(
                        sequence: packet.sequence,
                        arrivalTimeUs: lost(packet.sentMs) ? nil : Int64(packet.sentMs + 40) * 1000
                    )
                }
                estimator.endFeedback(now: origin + .milliseconds(ms + 50))
                pending.removeAll()
            }
        }
        run(from: 0, to: 3_000, lost: { _ in false }, feedback: true)
        let before = estimator.targetBitrate
        run(from: 3_000, to: 13_000, lost: { _ in true }, feedback: false)  // the link is out: nothing comes back
        run(from: 13_000, to: 15_000, lost: { $0 < 13_000 }, feedback: true)
        #expect(
            estimator.lastLossFraction < 0.05,
            "the outage's packets counted as loss: \(estimator.lastLossFraction)"
        )
        #expect(estimator.targetBitrate >= 0.9 * before, "the rate fell from \(before) to \(estimator.targetBitrate)")
    }
}
