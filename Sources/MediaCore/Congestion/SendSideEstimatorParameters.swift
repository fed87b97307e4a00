/// Every tunable of the relay's send-side estimator (Google Congestion Control family,
/// draft-ietf-rmcat-gcc-02), named, with two presets: `gccDefaults` (libwebrtc's published
/// constants, our baseline) and `rural4G` (what the relay uses).
///
/// What rural 4G does and which knob answers it (DESIGN.md "Bandwidth estimation"):
/// - bursty delivery (scheduling grants, HARQ): packets arriving within `burstWindowMs` of each other
///   with a negative propagation delta join one group, so a grant is not read as a delay trend;
/// - random loss of a few percent: the loss bound only acts above `lossHighThreshold`, measured over
///   at least `lossWindowMs`, and holds (does not grow) between the thresholds;
/// - handover outages of hundreds of milliseconds: an arrival gap of `outageGapMs` restarts the delay
///   detector instead of feeding it the backlog's ramp, no feedback for a while holds the estimate
///   (`feedbackTimeoutMs` nil) and one decrease takes at most `maximumDecreaseFraction` of the rate;
/// - fast recovery: `multiplicativeIncreasePerSecond` while far from the last known capacity.
public struct SendSideEstimatorParameters: Sendable, Equatable {
    // Rates, bits per second.
    public var startBitrate: Double = 300_000
    public var minimumBitrate: Double = 30_000
    public var maximumBitrate: Double = 2_500_000

    // Packet groups (draft-ietf-rmcat-gcc-02 §5.2).
    /// Packets sent within this time of a group's first form one group.
    public var groupSendSpanMs: Double = 5
    /// A packet arriving within this time of the group's last, earlier than its send spacing would
    /// predict, belongs to the group (a burst from the radio scheduler).
    public var burstWindowMs: Double = 5
    /// A burst spans at most this long.
    public var maximumBurstMs: Double = 100

    // Trendline over the delay gradient (libwebrtc TrendlineEstimator).
    public var trendlineWindow: Int = 20
    public var trendlineSmoothing: Double = 0.9
    public var trendlineThresholdGain: Double = 4
    /// Adaptive threshold (gcc-02 §5.4): starting value, gains up and down, bounds, ms.
    public var initialThresholdMs: Double = 12.5
    public var thresholdUpGain: Double = 0.0087
    public var thresholdDownGain: Double = 0.039
    public var thresholdBoundsMs: ClosedRange<Double> = 6...600
    /// The trend must stay over the threshold this long before it is overuse.
    public var overuseTimeMs: Double = 10

    // AIMD rate control (gcc-02 §5.5).
    /// On overuse the rate becomes this share of the acknowledged bitrate.
    public var decreaseFactor: Double = 0.85
    /// One decrease removes at most this share of the current rate (1: unbounded, as libwebrtc).
    public var maximumDecreaseFraction: Double = 1
    public var multiplicativeIncreasePerSecond: Double = 0.08
    /// The estimate never exceeds this multiple of the acknowledged bitrate, plus 10 kbit/s.
    public var acknowledgedHeadroom: Double = 1.5
    public var acknowledgedWindowMs: Double = 500

    // Loss-based bound (gcc-02 §6).
    public var lossLowThreshold: Double = 0.02
    public var lossHighThreshold: Double = 0.10
    /// Loss is judged over feedback covering at least this long.
    public var lossWindowMs: Double = 0

    // Standing queue.
    /// When even the least delayed packet of a feedback waited this long beyond the path's base
    /// one-way delay (a windowed minimum), the queue is standing: treat it as overuse even if the
    /// gradient is flat. Deep cellular buffers fill slowly enough to hide from the trendline.
    /// nil: off, as libwebrtc.
    public var standingQueueLimitMs: Double? = nil
    /// How fast the base one-way delay may rise, ms per second (a route change or handover).
    public var baseDelayDriftMsPerSecond: Double = 2

    // Outages.
    /// An arrival gap this long restarts the delay detector (nil: never, as libwebrtc).
    public var outageGapMs: Double? = nil
    /// Without feedback this long the estimate drops by 20 % per interval (libwebrtc's feedback
    /// timeout); nil holds it.
    public var feedbackTimeoutMs: Double? = 1_500

    // Pacing.
    /// Data in flight (sent, not yet in feedback) is held below the target rate times (RTT + this).
    public var congestionWindowMs: Double = 100
    public var pacingFactor: Double = 2.5

    public init() {}

    /// libwebrtc's constants, as published in draft-ietf-rmcat-gcc-02 and the libwebrtc sources.
    public static let gccDefaults = SendSideEstimatorParameters()

    /// The relay's parameters for rural 4G (the reasons are in the type's comment).
    public static let rural4G: SendSideEstimatorParameters = {
        var p = SendSideEstimatorParameters()
        p.lossLowThreshold = 0.05
        p.lossHighThreshold = 0.15
        p.lossWindowMs = 1_000
        p.outageGapMs = 250
        p.feedbackTimeoutMs = nil
        p.maximumDecreaseFraction = 0.5
        p.burstWindowMs = 10
        p.standingQueueLimitMs = 200
        p.multiplicativeIncreasePerSecond = 0.15
        return p
    }()
}
