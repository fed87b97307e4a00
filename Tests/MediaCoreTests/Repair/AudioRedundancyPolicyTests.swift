import Testing

@testable import MediaCore

@Suite("How many repeats RED carries towards a receiver")
struct AudioRedundancyPolicyTests {
    @Test("none on a clean link; one at about 1 % loss; two from about 3 %; up at the first report")
    func stepsUp() {
        let t0 = ContinuousClock.now
        var policy = AudioRedundancyPolicy()
        policy.reportedLoss(0, now: t0)
        #expect(policy.distance == 0)
        policy.reportedLoss(AudioRedundancyPolicy.oneAbove, now: t0)
        #expect(policy.distance == 1)
        policy.reportedLoss(13, now: t0)  // 5 %
        #expect(policy.distance == 2)
    }

    @Test("down one step only after the hold of reports below the lower threshold")
    func stepsDownSlowly() {
        let t0 = ContinuousClock.now
        var policy = AudioRedundancyPolicy()
        policy.reportedLoss(20, now: t0)
        var now = t0
        // In between the thresholds (2.0–3.1 %): stays at two.
        for _ in 0..<30 {
            now += .seconds(1)
            policy.reportedLoss(6, now: now)
        }
        #expect(policy.distance == 2)
        // Clean reports: two, then one after the hold, then none after another.
        for _ in 0..<9 {
            now += .seconds(1)
            policy.reportedLoss(0, now: now)
        }
        #expect(policy.distance == 2)
        now += .seconds(2)
        policy.reportedLoss(0, now: now)
        #expect(policy.distance == 1)
        now += AudioRedundancyPolicy.holdDown
        policy.reportedLoss(0, now: now)
        #expect(policy.distance == 0)
    }

    @Test("a lossy report during the hold starts it again")
    func lossRestartsHold() {
        let t0 = ContinuousClock.now
        var policy = AudioRedundancyPolicy()
        policy.reportedLoss(4, now: t0)
        policy.reportedLoss(0, now: t0 + .seconds(1))
        policy.reportedLoss(2, now: t0 + .seconds(8))  // not below 0.4 %: the hold restarts
        policy.reportedLoss(0, now: t0 + .seconds(12))
        #expect(policy.distance == 1)
        policy.reportedLoss(0, now: t0 + .seconds(23))
        #expect(policy.distance == 0)
    }
}
