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
///
/// A receiver whose feedback has been silent for `outageSilence` is taken to be unreachable (its
/// link is down, not late): sending on would only fill the link's queue, which delivers it all
/// seconds late when the link returns, ahead of what is fresh. So the window then holds video
/// without the hold limit and the pacer drops what waited past its queue limit, and audio goes at
/// most one packet per `outageAudioInterval` (enough for the receiver's feedback to say at once
/// that the link is back). Measured in bwe-sim on the recorded traces (README, "bwe-sim").
public struct DownlinkPacing: Sendable, Equatable {
    /// Packet slots in each receiver's pacer: the 250 ms the pacer may hold video, at 2.5 Mbit/s,
    /// is about 55 full packets; a keyframe of a high simulcast layer, about 100. When every slot
    /// is taken the next packet goes out unpaced (late rather than never).
    public static let capacity = 192

    /// How far beyond the RTT the congestion window reaches, at the estimate.
    public var windowAllowance: Duration
    /// The pacer's own settings: its queue's time limit is also how long the window may hold video.
    public var pacer: MediaPacer.Configuration
    /// Feedback silent this long: the receiver is unreachable (an outage). Longer than any gap
    /// between a browser's feedback (50–250 ms in libwebrtc) and than late feedback on a busy machine.
    public var outageSilence: Duration = .seconds(1)
    /// While the receiver is unreachable, audio leaves at most this often; the rest is dropped.
    public var outageAudioInterval: Duration = .milliseconds(100)

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

    /// `pacing`'s congestion window towards the receiver at `now`, once there is feedback.
    public func pacerWindow(_ pacing: DownlinkPacing, now: ContinuousClock.Instant) -> MediaPacer.CongestionWindow? {
        guard hasFeedback else { return nil }
        var window = congestionWindow(beyondRttMs: pacing.windowAllowance / .milliseconds(1))
        window.unreachable = isUnreachable(pacing, now: now)
        return window
    }

    /// Whether the receiver's feedback has been silent for `pacing.outageSilence` at `now`.
    public func isUnreachable(_ pacing: DownlinkPacing, now: ContinuousClock.Instant) -> Bool {
        feedbackSilence(now: now).map { $0 >= pacing.outageSilence } ?? false
    }
}

/// What a receiver's outage (`DownlinkPacing.outageSilence`) leaves to do: which audio may still
/// go, and whether its pacer dropped video it must get a keyframe for once it is reachable again.
/// Per receiver, sans-I/O; the relay and bwe-sim each keep one per receiver.
public struct DownlinkOutage: Sendable {
    private var lastAudio: ContinuousClock.Instant?
    private var videoDroppedSeen = 0
    private var keyframeOwed = false

    public init() {}

    /// Whether an audio packet may go at `now`: always while the receiver is reachable, one per
    /// `pacing.outageAudioInterval` while it is not. What is spoken into an outage would only wait
    /// in the link's queue; the packet that does go makes the receiver's feedback resume as soon as
    /// the link is back.
    public mutating func audioMayGo(unreachable: Bool, pacing: DownlinkPacing, now: ContinuousClock.Instant) -> Bool {
        guard unreachable else {
            lastAudio = nil
            return true
        }
        if let lastAudio, now - lastAudio < pacing.outageAudioInterval { return false }
        lastAudio = now
        return true
    }

    /// Takes the receiver's pacer's total of video dropped as stale (`MediaPacer.staleVideoDropped`);
    /// returns how many of them are new. Any new one owes the receiver a keyframe.
    public mutating func noteVideoDropped(total: Int) -> Int {
        let new = total - videoDroppedSeen
        videoDroppedSeen = total
        if new > 0 { keyframeOwed = true }
        return new
    }

    /// Whether a keyframe is owed now that the receiver is reachable again: true once for each
    /// outage in which its video was dropped.
    public mutating func takeKeyframeOwed() -> Bool {
        defer { keyframeOwed = false }
        return keyframeOwed
    }
}
