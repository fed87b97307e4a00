import Foundation

/// A synthetic rural 4G uplink, drawn from a Markov model of one cell, so the estimator can be
/// judged on as many unseen links as there are seeds (issue "The estimator uses the rural link").
///
/// The cell moves between three states, good, fair and poor (means 3, 1.2 and 0.35 Mbit/s by
/// default), staying in each for an exponentially distributed time (means 10, 15 and 15 s); from
/// fair it goes up or down with equal chance, from good or poor back to fair. Within a state the
/// rate wanders log-normally around the state's mean (σ 0.35, an AR(1) process correlated over
/// about 3 s, mean-preserving). Outages, zero capacity for 0.5–5 s (uniform), come as a Poisson
/// process every 180 s on average. With these defaults 20-minute traces average 1.0–1.6 Mbit/s.
/// The parameters are in `Parameters`; every draw comes from one `LinkRandom`, so a seed names a
/// trace.
///
/// The result is a `DeliveryTrace` (mahimahi's format): the same link model, emulator and
/// simulator run it as a recorded trace.
public enum RuralMarkovTrace {
    public struct State: Sendable, Equatable {
        public var name: String
        public var meanBps: Double
        public var meanDwellSeconds: Double

        public init(name: String, meanBps: Double, meanDwellSeconds: Double) {
            self.name = name
            self.meanBps = meanBps
            self.meanDwellSeconds = meanDwellSeconds
        }
    }

    public struct Parameters: Sendable, Equatable {
        /// Ordered from best to worst; the chain moves to a neighbour (up or down with equal chance).
        public var states: [State]
        /// Standard deviation of the log-normal wander within a state.
        public var wanderSigma: Double
        /// Correlation time of that wander, seconds.
        public var wanderCorrelationSeconds: Double
        /// Mean time between outages, seconds, and the range of their length.
        public var meanSecondsBetweenOutages: Double
        public var outageSeconds: ClosedRange<Double>
        /// The step at which the rate changes, milliseconds.
        public var stepMs: Int

        public init(
            states: [State],
            wanderSigma: Double,
            wanderCorrelationSeconds: Double,
            meanSecondsBetweenOutages: Double,
            outageSeconds: ClosedRange<Double>,
            stepMs: Int
        ) {
            self.states = states
            self.wanderSigma = wanderSigma
            self.wanderCorrelationSeconds = wanderCorrelationSeconds
            self.meanSecondsBetweenOutages = meanSecondsBetweenOutages
            self.outageSeconds = outageSeconds
            self.stepMs = stepMs
        }

        public static let rural = Parameters(
            states: [
                State(name: "good", meanBps: 3_000_000, meanDwellSeconds: 10),
                State(name: "fair", meanBps: 1_200_000, meanDwellSeconds: 15),
                State(name: "poor", meanBps: 350_000, meanDwellSeconds: 15),
            ],
            wanderSigma: 0.35,
            wanderCorrelationSeconds: 3,
            meanSecondsBetweenOutages: 180,
            outageSeconds: 0.5...5,
            stepMs: 100
        )
    }

    /// `seconds` of trace drawn with `seed`.
    public static func generate(seed: UInt64, seconds: Double, parameters: Parameters = .rural) -> DeliveryTrace {
        var random = LinkRandom(seed: seed)
        func exponential(mean: Double) -> Double { -mean * log(max(1 - random.unit(), 1e-12)) }
        let steps = max(1, Int(seconds * 1000) / parameters.stepMs)
        let stepSeconds = Double(parameters.stepMs) / 1000
        let rho = exp(-stepSeconds / parameters.wanderCorrelationSeconds)
        let sigma = parameters.wanderSigma
        var state = parameters.states.count / 2
        var stateLeft = exponential(mean: parameters.states[state].meanDwellSeconds)
        var outageLeft = 0.0
        var nextOutage = exponential(mean: parameters.meanSecondsBetweenOutages)
        var wander = random.normal() * sigma
        var opportunities: [UInt32] = []
        var creditBytes = 0.0
        for step in 0..<steps {
            let t = Double(step) * stepSeconds
            if t >= nextOutage {
                outageLeft =
                    parameters.outageSeconds.lowerBound
                    + random.unit() * (parameters.outageSeconds.upperBound - parameters.outageSeconds.lowerBound)
                nextOutage = t + outageLeft + exponential(mean: parameters.meanSecondsBetweenOutages)
            }
            stateLeft -= stepSeconds
            if stateLeft <= 0 {
                if state == 0 || state == parameters.states.count - 1 {
                    state = state == 0 ? min(1, parameters.states.count - 1) : max(0, state - 1)
                } else {
                    state += random.unit() < 0.5 ? -1 : 1
                }
                stateLeft = exponential(mean: parameters.states[state].meanDwellSeconds)
            }
            wander = rho * wander + (1 - rho * rho).squareRoot() * sigma * random.normal()
            let rate = outageLeft > 0 ? 0 : parameters.states[state].meanBps * exp(wander - sigma * sigma / 2)
            outageLeft = max(0, outageLeft - stepSeconds)
            // Delivery opportunities of 1500 bytes, spread over the step's milliseconds.
            for ms in 0..<parameters.stepMs {
                creditBytes += rate / 8 / 1000
                while creditBytes >= Double(DeliveryTrace.opportunityBytes) {
                    creditBytes -= Double(DeliveryTrace.opportunityBytes)
                    opportunities.append(UInt32(step * parameters.stepMs + ms))
                }
            }
        }
        // The trace loops at its last opportunity: end it at the full length.
        let end = UInt32(steps * parameters.stepMs)
        if opportunities.last.map({ $0 < end }) ?? true { opportunities.append(end) }
        // Non-empty, non-decreasing, last > 0 by construction.
        return try! DeliveryTrace(opportunitiesMs: opportunities)
    }
}
