#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Additive-increase/multiplicative-decrease rate control driven by the delay detector
/// (draft-ietf-rmcat-gcc-02 §5.5, libwebrtc AimdRateControl).
///
/// Overuse sets the rate to `decreaseFactor` times what the receiver acknowledged and remembers
/// that as a sample of the link's capacity; underuse holds; normal increases — multiplicatively
/// while far from the remembered capacity, additively (about one packet per response time) near
/// it, so the rate probes gently where it last hit the ceiling and quickly everywhere else.
public struct AimdRateControl: Sendable {
    private enum State { case hold, increase, decrease }

    private let parameters: SendSideEstimatorParameters
    public private(set) var bitrate: Double
    private var state: State = .increase
    private var lastChangeMs: Double?
    private var lastDecreaseMs = -Double.infinity
    /// Exponentially averaged capacity seen at decreases (kbit/s) and its normalised variance.
    private var capacityKbps: Double?
    private var capacityVariance: Double = 0.4

    public init(parameters: SendSideEstimatorParameters) {
        self.parameters = parameters
        bitrate = parameters.startBitrate
    }

    /// Sets the rate from outside (the loss bound lowered it, or an operator cap).
    public mutating func clamp(to limit: Double) { bitrate = min(bitrate, max(limit, parameters.minimumBitrate)) }

    /// Applies the detector's state at `nowMs` with the acknowledged bitrate (nil: not known yet)
    /// and the round-trip time.
    public mutating func update(usage: BandwidthUsage, acknowledged: Double?, rttMs: Double, nowMs: Double) {
        let elapsedMs = min(max(nowMs - (lastChangeMs ?? nowMs), 0), 1_000)
        lastChangeMs = nowMs
        switch usage {
        case .overusing:
            // Again only after the last decrease had time to show (one RTT, as libwebrtc's
            // TimeToReduceFurther), so one congestion event is not counted twice.
            if state != .decrease || nowMs - lastDecreaseMs >= max(rttMs, 100) {
                decrease(acknowledged: acknowledged)
                lastDecreaseMs = nowMs
            }
            return
        case .underusing:
            state = .hold
        case .normal:
            if state == .hold || state == .decrease { state = .increase }
        }
        guard state == .increase else { return }
        if let acknowledged, let capacity = capacityKbps, acknowledged / 1000 > capacity + 3 * deviationKbps(capacity) {
            capacityKbps = nil  // the link has more room than it had: forget the old ceiling
        }
        var increased = bitrate
        if let capacity = capacityKbps, abs(bitrate / 1000 - capacity) <= 3 * deviationKbps(capacity) {
            increased += additiveIncreasePerSecond(rttMs: rttMs) * elapsedMs / 1000
        } else {
            increased += max(
                1_000,
                bitrate * (pow(1 + parameters.multiplicativeIncreasePerSecond, elapsedMs / 1000) - 1)
            )
        }
        if let acknowledged {
            increased = min(increased, max(bitrate, parameters.acknowledgedHeadroom * acknowledged + 10_000))
        }
        bitrate = min(max(increased, parameters.minimumBitrate), parameters.maximumBitrate)
    }

    private mutating func decrease(acknowledged: Double?) {
        let base = acknowledged ?? bitrate
        var decreased = parameters.decreaseFactor * base
        decreased = max(decreased, bitrate * (1 - parameters.maximumDecreaseFraction))
        if decreased > bitrate { decreased = bitrate }  // never an increase on overuse
        if let acknowledged {
            let sample = acknowledged / 1000
            if let capacity = capacityKbps {
                let alpha = 0.05
                capacityKbps = (1 - alpha) * capacity + alpha * sample
                let error = (capacityKbps ?? sample) - sample
                capacityVariance = (1 - alpha) * capacityVariance + alpha * error * error / max(capacityKbps ?? 1, 1)
                capacityVariance = min(max(capacityVariance, 0.4), 2.5)
            } else {
                capacityKbps = sample
            }
        }
        bitrate = min(max(decreased, parameters.minimumBitrate), parameters.maximumBitrate)
        state = .decrease
    }

    private func deviationKbps(_ capacity: Double) -> Double { (capacityVariance * capacity).squareRoot() }

    /// About one average packet per response time (RTT + 100 ms), at least 4 kbit/s per second.
    private func additiveIncreasePerSecond(rttMs: Double) -> Double {
        let bitsPerFrame = bitrate / 30
        let packetsPerFrame = (bitsPerFrame / (1200 * 8)).rounded(.up)
        let packetBits = bitsPerFrame / max(packetsPerFrame, 1)
        return max(4_000, packetBits / ((rttMs + 100) / 1000))
    }
}
