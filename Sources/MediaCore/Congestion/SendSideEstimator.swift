/// The relay's send-side bandwidth estimator towards one receiver (DESIGN.md "Bandwidth
/// estimation"): every packet sent is numbered with the transport-wide sequence number and
/// remembered; the receiver's transport-cc feedback reports arrivals; from them come the delay
/// gradient (`PacketGroupDeltas` → `TrendlineEstimator` → `AimdRateControl`), the acknowledged
/// bitrate, a loss-based bound and a round-trip time. The target is the lower of the delay-based
/// rate and the loss bound. Sans-I/O: time is a parameter; the relay and `bwe-sim` run the same code.
///
/// Feeding a feedback is three calls, so the caller can walk the RTCP view without copying:
/// `beginFeedback()`, `addReport(sequence:arrivalTimeUs:)` per packet in order, `endFeedback(now:)`.
public struct SendSideEstimator: Sendable {
    public let parameters: SendSideEstimatorParameters
    public private(set) var history: SentPacketHistory
    private var groups: PacketGroupDeltas
    public private(set) var trendline: TrendlineEstimator
    private var rate: AimdRateControl
    private let origin: ContinuousClock.Instant

    /// Acknowledged bytes by arrival time (ms, receiver clock), in a fixed ring.
    private var acknowledged: [(arrivalMs: Double, size: Int)]
    private var acknowledgedHead = 0
    private var acknowledgedCount = 0
    private var acknowledgedBytes = 0
    public private(set) var acknowledgedBitrate: Double?

    private var lossBound = Double.infinity
    private var lossWindowStartMs: Double?
    private var lossWindowSent = 0
    private var lossWindowLost = 0
    private var lastLossDecreaseMs: Double = -.infinity
    /// Loss fraction of the last judged window (for reports).
    public private(set) var lastLossFraction: Double = 0

    private var lastArrivalMs: Double?
    private var lastFeedbackMs: Double?
    private var lastTimeoutMs: Double?
    private var rttSamples: [Double] = []
    private var rttNext = 0
    /// Windowed minimum of feedback round trips (send → feedback received), ms.
    public private(set) var rttMs: Double = 100

    /// Base one-way delay (arrival minus send, so with the clocks' offset), ms: a minimum that may drift up.
    private var baseOneWayMs: Double?
    private var baseUpdatedMs: Double?
    /// The least queueing delay in the last feedback, ms.
    public private(set) var standingQueueMs: Double = 0

    // Per-feedback scratch.
    private var feedbackNewestSendUs: Int64?
    private var feedbackSent = 0
    private var feedbackLost = 0
    private var outageSeen = false
    private var feedbackLeastOneWayMs: Double?
    private var queueJudgedFromSendMs = -Double.infinity
    /// Packets sent before this instant (µs) went into an outage: their loss is the outage's, not
    /// congestion's, and a long outage reports thousands of them.
    private var lossJudgedFromSendUs = Int64.min
    private var feedbackHighestSequence: Int64?

    public init(parameters: SendSideEstimatorParameters, origin: ContinuousClock.Instant) {
        self.parameters = parameters
        self.origin = origin
        history = SentPacketHistory()
        groups = PacketGroupDeltas(parameters: parameters)
        trendline = TrendlineEstimator(parameters: parameters)
        rate = AimdRateControl(parameters: parameters)
        acknowledged = Array(repeating: (0, 0), count: 1024)
        rttSamples.reserveCapacity(32)
    }

    /// The rate the allocator may spend on this receiver, bits per second.
    public var targetBitrate: Double {
        min(max(min(rate.bitrate, lossBound), parameters.minimumBitrate), parameters.maximumBitrate)
    }

    /// Whether any feedback has arrived (before it, the target is only the start rate).
    public var hasFeedback: Bool { lastFeedbackMs != nil }

    /// How long since the last feedback, at `now` (nil before the first).
    public func feedbackSilence(now: ContinuousClock.Instant) -> Duration? {
        lastFeedbackMs.map { .microseconds(Int64(((milliseconds(now) - $0) * 1000).rounded())) }
    }

    /// The delay-based rate alone (for plots and tests).
    public var delayBasedBitrate: Double { rate.bitrate }

    /// Bytes the pacer may have in flight: the target over one RTT plus `congestionWindowMs`.
    public var congestionWindowBytes: Int {
        Int(targetBitrate / 8 * (rttMs + parameters.congestionWindowMs) / 1000)
    }

    /// The congestion window as the pacer takes it (`MediaPacer.CongestionWindow`); audio's may be
    /// larger (`audioWindowBytes`: padding probes' own window while they run). `beyondRttMs`
    /// replaces `congestionWindowMs` (the relay's, which cannot slow its sources at once, is wider).
    public func congestionWindow(
        audioWindowBytes: Int? = nil,
        beyondRttMs: Double? = nil
    ) -> MediaPacer.CongestionWindow {
        let bytes = beyondRttMs.map { Int(targetBitrate / 8 * (rttMs + $0) / 1000) } ?? congestionWindowBytes
        let window = max(bytes, 2 * 1200)
        return MediaPacer.CongestionWindow(
            bytesInFlight: history.bytesInFlight,
            windowBytes: window,
            audioWindowBytes: audioWindowBytes.map { max($0, window) }
        )
    }

    /// Whether a packet of `size` bytes fits in the congestion window now, `beyond` bytes past it
    /// (audio is allowed a little past the window, so speech goes on at a rate that barely fits).
    public func windowAllows(_ size: Int, beyond: Int = 0) -> Bool {
        history.bytesInFlight + size <= max(congestionWindowBytes, 2 * 1200) + beyond
    }

    /// Numbers a packet leaving now; put the returned number in its transport-wide sequence extension.
    public mutating func packetSent(size: Int, now: ContinuousClock.Instant) -> UInt16 {
        history.record(size: size, sendTimeUs: microseconds(now))
    }

    /// An operator or allocator cap on the estimate.
    public mutating func cap(at bitrate: Double) { rate.clamp(to: bitrate) }

    public mutating func beginFeedback() {
        feedbackNewestSendUs = nil
        feedbackSent = 0
        feedbackLost = 0
        outageSeen = false
        feedbackLeastOneWayMs = nil
        feedbackHighestSequence = nil
    }

    /// One packet of a feedback: its 16-bit number and arrival time in the receiver's µs (nil: lost).
    public mutating func addReport(sequence: UInt16, arrivalTimeUs: Int64?) {
        let unwrapped = history.unwrap(sequence)
        feedbackHighestSequence = max(feedbackHighestSequence ?? unwrapped, unwrapped)
        guard let sent = history.report(unwrapped) else { return }
        guard sent.sendTimeUs >= lossJudgedFromSendUs else { return }
        feedbackSent += 1
        guard let arrivalTimeUs else {
            feedbackLost += 1
            return
        }
        let arrivalMs = Double(arrivalTimeUs) / 1000
        let sendMs = Double(sent.sendTimeUs) / 1000
        feedbackNewestSendUs = max(feedbackNewestSendUs ?? sent.sendTimeUs, sent.sendTimeUs)
        if let gap = parameters.outageGapMs, let last = lastArrivalMs, arrivalMs - last > gap {
            // The link was out: what queued meanwhile arrives as a ramp that is not the path's trend.
            groups.reset()
            trendline.reset()
            outageSeen = true
            // What was sent up to this packet went into the outage, in this feedback and the next.
            lossJudgedFromSendUs = sent.sendTimeUs
        }
        lastArrivalMs = max(lastArrivalMs ?? arrivalMs, arrivalMs)
        // Packets sent before an outage was noticed queued behind it: their wait says nothing of a standing queue.
        if sendMs >= queueJudgedFromSendMs {
            feedbackLeastOneWayMs = min(feedbackLeastOneWayMs ?? (arrivalMs - sendMs), arrivalMs - sendMs)
        }
        recordAcknowledged(arrivalMs: arrivalMs, size: sent.size)
        if let delta = groups.add(sendMs: sendMs, arrivalMs: arrivalMs) {
            trendline.update(delta)
        }
    }

    public mutating func endFeedback(now: ContinuousClock.Instant) {
        let nowMs = milliseconds(now)
        lastFeedbackMs = nowMs
        lastTimeoutMs = nil
        if let highest = feedbackHighestSequence { history.settle(through: highest) }
        if let newest = feedbackNewestSendUs { addRttSample(nowMs - Double(newest) / 1000) }
        if outageSeen {
            // This feedback's losses were counted before its arrivals showed the outage: drop them.
            feedbackSent = 0
            feedbackLost = 0
        }
        judgeLoss(nowMs: nowMs)
        var usage = trendline.usage
        if let least = feedbackLeastOneWayMs {
            let base = updateBaseOneWay(least, nowMs: nowMs)
            standingQueueMs = least - base
            if let limit = parameters.standingQueueLimitMs, standingQueueMs > limit { usage = .overusing }
        }
        if outageSeen {
            usage = .normal
            queueJudgedFromSendMs = nowMs
        }
        rate.update(usage: usage, acknowledged: acknowledgedBitrate, rttMs: rttMs, nowMs: nowMs)
        if lossBound.isFinite { rate.clamp(to: lossBound) }
    }

    /// Periodic work: without feedback for `feedbackTimeoutMs`, libwebrtc backs off 20 % per period.
    public mutating func tick(now: ContinuousClock.Instant) {
        guard let timeout = parameters.feedbackTimeoutMs, let last = lastFeedbackMs else { return }
        let nowMs = milliseconds(now)
        let since = lastTimeoutMs ?? last
        if nowMs - since >= timeout {
            rate.clamp(to: targetBitrate * 0.8)
            lastTimeoutMs = nowMs
        }
    }

    // MARK: Parts

    private mutating func recordAcknowledged(arrivalMs: Double, size: Int) {
        let capacity = acknowledged.count
        if acknowledgedCount == capacity {  // full: the oldest makes room
            acknowledgedBytes -= acknowledged[acknowledgedHead].size
            acknowledgedHead = (acknowledgedHead + 1) % capacity
            acknowledgedCount -= 1
        }
        acknowledged[(acknowledgedHead + acknowledgedCount) % capacity] = (arrivalMs, size)
        acknowledgedCount += 1
        acknowledgedBytes += size
        while acknowledgedCount > 1,
            arrivalMs - acknowledged[acknowledgedHead].arrivalMs > parameters.acknowledgedWindowMs
        {
            acknowledgedBytes -= acknowledged[acknowledgedHead].size
            acknowledgedHead = (acknowledgedHead + 1) % capacity
            acknowledgedCount -= 1
        }
        // Over the window, or over what arrived if less (a burst after an outage is not the rate).
        guard acknowledgedCount >= 2 else { return }
        let spanMs = max(arrivalMs - acknowledged[acknowledgedHead].arrivalMs, parameters.acknowledgedWindowMs)
        acknowledgedBitrate = Double(acknowledgedBytes * 8) / spanMs * 1000
    }

    private mutating func judgeLoss(nowMs: Double) {
        lossWindowStartMs = lossWindowStartMs ?? nowMs
        lossWindowSent += feedbackSent
        lossWindowLost += feedbackLost
        guard let start = lossWindowStartMs, nowMs - start >= parameters.lossWindowMs, lossWindowSent >= 20 else {
            return
        }
        let loss = Double(lossWindowLost) / Double(lossWindowSent)
        lastLossFraction = loss
        lossWindowStartMs = nowMs
        lossWindowSent = 0
        lossWindowLost = 0
        if loss < parameters.lossLowThreshold {
            lossBound = .infinity
        } else if loss <= parameters.lossHighThreshold {
            lossBound = min(lossBound, targetBitrate)  // hold
        } else if nowMs - lastLossDecreaseMs >= rttMs + 300 {
            lossBound = targetBitrate * (1 - 0.5 * loss)
            lastLossDecreaseMs = nowMs
        }
    }

    private mutating func updateBaseOneWay(_ sample: Double, nowMs: Double) -> Double {
        var base = baseOneWayMs ?? sample
        if let updated = baseUpdatedMs { base += parameters.baseDelayDriftMsPerSecond * (nowMs - updated) / 1000 }
        base = min(base, sample)
        baseOneWayMs = base
        baseUpdatedMs = nowMs
        return base
    }

    private mutating func addRttSample(_ sample: Double) {
        guard sample >= 0 else { return }
        if rttSamples.count < 32 { rttSamples.append(sample) } else { rttSamples[rttNext] = sample }
        rttNext = (rttNext + 1) % 32
        rttMs = rttSamples.min() ?? sample
    }

    private func microseconds(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (instant - origin).components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    private func milliseconds(_ instant: ContinuousClock.Instant) -> Double { Double(microseconds(instant)) / 1000 }
}
