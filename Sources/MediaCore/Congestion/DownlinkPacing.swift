/// How the relay paces what it forwards towards one receiver: the `MediaPacer` it gives that
/// receiver, and the rate and congestion window it drains it with. One value, so that `RelayCore`
/// and bwe-sim (`Benchmarks/BweSimulation`) pace with the same settings.
///
/// A relay is not a sender: it cannot slow its sources the moment it holds their video (their
/// encoders follow REMB and their own estimate a round trip or more later). So its window reaches
/// `windowAllowance` beyond the RTT, not a sender's `congestionWindowMs` (100 ms), and holds
/// video for at most the queue's time limit (`MediaPacer.Configuration.windowHoldLimit`); after
/// that, video goes on in order at the pacing rate. Measured with `python3 Tests/E2E/test_visit.py
/// --only rural_downlink` (one run each, stop 32): with a 100 ms window the citizen decoded 68
/// frames in the last 10 s, with no window 268, with this allowance 292.
///
/// Audio is not queued: it goes out at once and never waits behind video.
/// Until the receiver's first transport-cc feedback there is no estimate, so no rate and no window.
public struct DownlinkPacing: Sendable, Equatable {
    /// Packet slots in each receiver's pacer: the 250 ms the pacer may hold video, at 2.5 Mbit/s,
    /// is about 55 full packets; a keyframe of a high simulcast layer, about 100. When every slot
    /// is taken the next packet goes out unpaced (late rather than never).
    public static let capacity = 192

    /// How far beyond the RTT the congestion window reaches, at the estimate.
    public var windowAllowance: Duration
    /// The pacer's own settings: its queue's time limit is also how long the window may hold video.
    public var pacer: MediaPacer.Configuration
    public init(windowAllowance: Duration = .milliseconds(500)) {
        self.windowAllowance = windowAllowance
        pacer = MediaPacer.Configuration()
        pacer.windowHoldLimit = pacer.maxQueueDelay
    }

    /// A receiver's pacer, `slotSize` bytes per packet (0: the pacer tracks sizes only, as bwe-sim's does).
    public func makePacer(slotSize: Int) -> MediaPacer {
        MediaPacer(capacity: Self.capacity, slotSize: slotSize, configuration: pacer)
    }
}

extension SendSideEstimator {
    /// The rate a pacer sends at: the estimate times its pacing factor, once there is feedback.
    /// (These are the estimator's, so the relay reads them in place, without a copy.)
    public var pacingRate: Double? {
        hasFeedback ? targetBitrate * parameters.pacingFactor : nil
    }

    /// `pacing`'s congestion window towards the receiver, once there is feedback; audio's may be
    /// larger (`audioWindowBytes`: the padding probes' own window while they run).
    public func pacerWindow(_ pacing: DownlinkPacing, audioWindowBytes: Int? = nil) -> MediaPacer.CongestionWindow? {
        guard hasFeedback else { return nil }
        return congestionWindow(audioWindowBytes: audioWindowBytes, beyondRttMs: pacing.windowAllowance / .milliseconds(1))
    }
}
