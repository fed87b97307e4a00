/// What the delay detector concludes about the path (draft-ietf-rmcat-gcc-02 §5.4).
public enum BandwidthUsage: Sendable, Equatable {
    case normal
    case overusing
    case underusing
}

/// The delay-gradient detector of Google Congestion Control in its trendline form (libwebrtc
/// TrendlineEstimator): the accumulated one-way delay variation is smoothed, a least-squares line is
/// fitted over the last `trendlineWindow` groups, and its slope, scaled, is compared with a
/// threshold that adapts to the path (gcc-02 §5.4, eq. for del_var_th), so that a jittery path
/// raises its own threshold and a competing flow does not starve us.
public struct TrendlineEstimator: Sendable {
    private let parameters: SendSideEstimatorParameters
    private var points: [(x: Double, y: Double)] = []
    private var firstArrivalMs: Double?
    private var accumulatedDelayMs: Double = 0
    private var smoothedDelayMs: Double = 0
    private var deltaCount = 0
    public private(set) var thresholdMs: Double
    private var lastThresholdUpdateMs: Double?
    private var timeOverUsingMs: Double = -1
    private var overuseCounter = 0
    private var previousTrend: Double = 0
    public private(set) var usage: BandwidthUsage = .normal
    /// The last scaled slope compared with the threshold (for plots and tests).
    public private(set) var modifiedTrend: Double = 0

    public init(parameters: SendSideEstimatorParameters) {
        self.parameters = parameters
        thresholdMs = parameters.initialThresholdMs
        points.reserveCapacity(parameters.trendlineWindow)
    }

    /// Starts over (after an outage); the adapted threshold is kept.
    public mutating func reset() {
        points.removeAll(keepingCapacity: true)
        firstArrivalMs = nil
        accumulatedDelayMs = 0
        smoothedDelayMs = 0
        deltaCount = 0
        timeOverUsingMs = -1
        overuseCounter = 0
        previousTrend = 0
        usage = .normal
    }

    /// Feeds one group delta; returns the detector's state after it.
    @discardableResult
    public mutating func update(_ delta: PacketGroupDeltas.Delta) -> BandwidthUsage {
        let gradient = delta.arrivalDeltaMs - delta.sendDeltaMs
        deltaCount += 1
        accumulatedDelayMs += gradient
        smoothedDelayMs =
            parameters.trendlineSmoothing * smoothedDelayMs + (1 - parameters.trendlineSmoothing) * accumulatedDelayMs
        let first = firstArrivalMs ?? delta.arrivalTimeMs
        firstArrivalMs = first
        if points.count == parameters.trendlineWindow { points.removeFirst() }
        points.append((delta.arrivalTimeMs - first, smoothedDelayMs))
        var trend = previousTrend
        if points.count == parameters.trendlineWindow, let slope = Self.slope(points) { trend = slope }
        detect(trend: trend, sendDeltaMs: delta.sendDeltaMs, nowMs: delta.arrivalTimeMs)
        return usage
    }

    private mutating func detect(trend: Double, sendDeltaMs: Double, nowMs: Double) {
        guard deltaCount >= 2 else { return }
        modifiedTrend = Double(min(deltaCount, 60)) * trend * parameters.trendlineThresholdGain
        if modifiedTrend > thresholdMs {
            if timeOverUsingMs == -1 { timeOverUsingMs = sendDeltaMs / 2 } else { timeOverUsingMs += sendDeltaMs }
            overuseCounter += 1
            if timeOverUsingMs > parameters.overuseTimeMs, overuseCounter > 1, trend >= previousTrend {
                timeOverUsingMs = 0
                overuseCounter = 0
                usage = .overusing
            }
        } else if modifiedTrend < -thresholdMs {
            timeOverUsingMs = -1
            overuseCounter = 0
            usage = .underusing
        } else {
            timeOverUsingMs = -1
            overuseCounter = 0
            usage = .normal
        }
        previousTrend = trend
        adaptThreshold(nowMs: nowMs)
    }

    /// gcc-02 §5.4: the threshold follows |trend| slowly up and faster down; outliers do not move it.
    private mutating func adaptThreshold(nowMs: Double) {
        let magnitude = abs(modifiedTrend)
        let last = lastThresholdUpdateMs ?? nowMs
        lastThresholdUpdateMs = nowMs
        if magnitude > thresholdMs + 15 { return }
        let gain = magnitude < thresholdMs ? parameters.thresholdDownGain : parameters.thresholdUpGain
        let elapsed = min(max(nowMs - last, 0), 100)
        thresholdMs += gain * (magnitude - thresholdMs) * elapsed
        thresholdMs = min(
            max(thresholdMs, parameters.thresholdBoundsMs.lowerBound),
            parameters.thresholdBoundsMs.upperBound
        )
    }

    private static func slope(_ points: [(x: Double, y: Double)]) -> Double? {
        let n = Double(points.count)
        var sumX = 0.0
        var sumY = 0.0
        for p in points {
            sumX += p.x
            sumY += p.y
        }
        let meanX = sumX / n
        let meanY = sumY / n
        var numerator = 0.0
        var denominator = 0.0
        for p in points {
            numerator += (p.x - meanX) * (p.y - meanY)
            denominator += (p.x - meanX) * (p.x - meanX)
        }
        return denominator == 0 ? nil : numerator / denominator
    }
}
