import Testing

@testable import MediaCore

@Suite("Keyframe requests: one place, one PLI per encoding per interval, counted by reason")
struct KeyframeRequestSchedulerTests {
    let start = ContinuousClock.Instant.now
    let citizenHigh = KeyframeRequest(source: ParticipantID(rawValue: 1), encoding: 1)
    let citizenLow = KeyframeRequest(source: ParticipantID(rawValue: 1), encoding: 0)
    let staff = KeyframeRequest(source: ParticipantID(rawValue: 2), encoding: 0)

    @Test("a request keeps the first reason given; once sent, the encoding waits out the interval")
    func intervalAndReason() {
        var scheduler = KeyframeRequestScheduler()
        scheduler.request(citizenHigh, reason: .layerSwitch)
        scheduler.request(citizenHigh, reason: .receiverAsked)
        #expect(scheduler.pending[citizenHigh] == .layerSwitch)
        #expect(scheduler.mayGo(citizenHigh, now: start))
        #expect(scheduler.sent(citizenHigh, now: start) == .layerSwitch)
        #expect(scheduler.isEmpty)
        scheduler.request(citizenHigh, reason: .receiverAsked)
        #expect(!scheduler.mayGo(citizenHigh, now: start + .milliseconds(299)))
        #expect(scheduler.mayGo(citizenHigh, now: start + KeyframeRequestScheduler.interval))
        // Another encoding of the same source has its own interval.
        scheduler.request(citizenLow, reason: .resume)
        #expect(scheduler.mayGo(citizenLow, now: start + .milliseconds(1)))
    }

    @Test("an urgent request (a new receiver waits for its first picture) lifts the interval")
    func urgent() {
        var scheduler = KeyframeRequestScheduler()
        scheduler.request(staff, reason: .receiverAsked)
        scheduler.sent(staff, now: start)
        scheduler.request(staff, reason: .newReceiver, urgent: true)
        #expect(scheduler.mayGo(staff, now: start + .milliseconds(10)))
    }

    @Test("a source that leaves is forgotten; a cancelled request is gone")
    func forgetAndCancel() {
        var scheduler = KeyframeRequestScheduler()
        scheduler.request(citizenHigh, reason: .layerSwitch)
        scheduler.request(citizenLow, reason: .layerSwitch)
        scheduler.request(staff, reason: .pathMoved)
        scheduler.forget(source: citizenHigh.source)
        #expect(Array(scheduler.pending.keys) == [staff])
        scheduler.cancel(staff)
        #expect(scheduler.isEmpty)
    }
}
