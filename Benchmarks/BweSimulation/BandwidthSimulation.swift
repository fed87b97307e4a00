public import LinkModel
public import MediaCore

/// One sender (the relay towards one receiver) over one emulated link, in virtual time: a model
/// video source and Opus-sized audio, the allocator (audio first, video paused below a floor and
/// resumed with hysteresis: the relay's `VideoStreamAllocator` on the relay's tick; while paused
/// the relay's padding probes, `PaddingProbePacer`), the relay's pacing (`DownlinkPacing`: its
/// `MediaPacer` with the relay's settings and congestion window; audio goes out at once, as the
/// relay sends it), the link model (`LinkModel`, the same one link-emulator runs), and the receiver's real
/// transport-cc feedback: `TransportFeedbackGenerator` records arrivals, the RTCP writer encodes the
/// feedback, and the sender parses it with `RTCPTransportFeedbackView` after the return delay.
/// Nothing touches a clock or a socket: a 1000-second trace runs in seconds of CPU.
public struct SimulationSettings: Sendable {
    public var link: LinkConfiguration
    public var durationUs: UInt64
    /// One-way delay of the feedback's way back (the reverse path is not the bottleneck).
    public var feedbackDelayUs: UInt64
    public var parameters: SendSideEstimatorParameters
    public var audioPacketBytes = 100
    public var audioIntervalUs: UInt64 = 20_000
    public var maximumPacketBytes = 1200
    /// Video pauses when its share of the estimate falls below the floor and resumes after its share
    /// has been at least the resume rate for the hold time (the relay's rule and defaults).
    public var videoPause = RelayCoreConfiguration.defaultVideoPauseThresholds
    /// What the allocator sets aside for audio before video's share (the relay's default).
    public var audioShareBps = Double(RelayCoreConfiguration.defaultAudioShareBps)
    /// The encoder skips a frame when the pacer already holds this much video (in time at the video rate).
    public var frameDropQueueMs: Double = 50
    /// How the sender paces: as the relay does, or as a sender that controls its own encoder would.
    public var pacing = SimulatedPacing.relay(DownlinkPacing())
    public var sampleIntervalUs: UInt64 = 500_000
    /// The most an oracle sends: the video maximum plus audio, about 2.5 Mbit/s.
    public var oracleCapBps = 2_500_000.0
    public var seed: UInt64 = 1

    public init(
        link: LinkConfiguration,
        durationUs: UInt64,
        feedbackDelayUs: UInt64,
        parameters: SendSideEstimatorParameters
    ) {
        self.link = link
        self.durationUs = durationUs
        self.feedbackDelayUs = feedbackDelayUs
        self.parameters = parameters
    }
}

/// How the simulated sender paces what it sends.
public enum SimulatedPacing: Sendable, Equatable {
    /// As the relay paces towards a receiver (`RelayCoreConfiguration.downlinkPacing`): audio
    /// straight out, video within a window `windowAllowance` past the RTT, held by it for at most
    /// the hold limit.
    case relay(DownlinkPacing)
    /// As a sender that controls its own encoder (libwebrtc's shape, and bwe-sim's before the
    /// relay had a pacer): audio paced first and dropped when stale, video within the estimator's
    /// own window (`congestionWindowMs`) for as long as it is full. The relay does not pace like
    /// this; it is the estimator's figure with the pacing taken out of the question.
    case sender

    /// The name bwe-sim prints.
    public var name: String {
        switch self {
        case .relay: "relay"
        case .sender: "sender"
        }
    }
}

/// What one run measured.
public struct SimulationResult: Sendable {
    public struct Sample: Sendable {
        public var seconds: Double
        public var capacityBps: Double
        public var estimateBps: Double
        public var sendBps: Double
        public var paused: Bool
    }

    public var durationSeconds: Double
    /// Media (audio and video, not padding) delivered, bits per second.
    public var goodputBps: Double
    /// What the link offered (outside outages), bits per second.
    public var capacityBps: Double
    /// Everything delivered (media and padding) over what the link offered.
    public var utilization: Double
    /// Everything delivered over what an oracle would have sent: min(capacity, `oracleCapBps`) in
    /// every second. A link with far more capacity than video needs is judged by this.
    public var oracleUtilization: Double
    /// Per media packet: delivery minus creation (the frame or audio packet), minus the base delay.
    public var queueingDelayP50Ms: Double
    public var queueingDelayP95Ms: Double
    /// The same from the moment the pacer sent the packet: the link's queue alone.
    public var networkDelayP95Ms: Double
    /// Queueing delay p95 of video packets alone, and of audio packets alone (audio is not held by
    /// the window, so what is sent into an outage waits in the link's queue).
    public var videoQueueingDelayP95Ms: Double
    public var audioQueueingDelayP95Ms: Double
    /// Media packets lost on the link (random loss and queue overflow) over media packets sent.
    public var loss: Double
    public var pausedSeconds: Double
    public var framesEncoded: Int
    public var framesSkipped: Int
    /// Packets sent unpaced because every pacer slot was taken (`DownlinkPacing.capacity`).
    public var pacerOverflowed: Int
    /// Audio packets dropped at the sender: as stale (a sender's pacing), or into an outage (the relay's).
    public var audioDroppedAtSender: Int
    /// Video and retransmissions the relay's pacing dropped into an outage.
    public var videoDroppedAtSender: Int
    public var samples: [Sample]
}

private struct SimulatedPacket: Sendable {
    var sequence: UInt16
    var createdUs: UInt64
    var sentUs: UInt64
    var kind: Kind
    enum Kind {
        case audio, video, padding
        var isMedia: Bool { self != .padding }
    }
    var isMedia: Bool { kind.isMedia }
}

public func runSimulation(_ settings: SimulationSettings, video model: VideoFrameSizeModel) -> SimulationResult {
    var model = model
    let origin = ContinuousClock.Instant.now
    func at(_ us: UInt64) -> ContinuousClock.Instant { origin + .microseconds(Int64(us)) }

    var link = LinkDirection<SimulatedPacket>(configuration: settings.link, seed: settings.seed)
    var estimator = SendSideEstimator(parameters: settings.parameters, origin: origin)
    var receiver = TransportFeedbackGenerator(origin: origin)
    var arrivals: [RTCPTransportFeedbackArrival] = []
    var feedbackInFlight: [(atUs: UInt64, bytes: [UInt8])] = []

    var pacer: MediaPacer
    let relayPacing: DownlinkPacing?
    switch settings.pacing {
    case .relay(let pacing):
        pacer = pacing.makePacer(slotSize: 0)
        relayPacing = pacing
    case .sender:
        pacer = MediaPacer(capacity: 8192, slotSize: 0, configuration: MediaPacer.Configuration())
        relayPacing = nil
    }
    var pacerOverflowed = 0
    var outage = DownlinkOutage()
    var audioDroppedUnreachable = 0
    var probePacer = PaddingProbePacer()

    let frameIntervalUs = 1_000_000 / Double(model.framesPerSecond)
    var nextAudioUs: UInt64 = 0
    var nextFrameUs = 0.0
    var allocation = VideoStreamAllocator()
    let allocatorTickUs = UInt64(RelayCore.tickInterval / .microseconds(1))
    var paused = false
    var needKeyframe = true
    var pausedUs: UInt64 = 0
    var framesEncoded = 0
    var framesSkipped = 0

    var mediaSent = 0
    var mediaLost = 0
    var mediaDeliveredBytes = 0
    var delaysUs: [UInt64] = []
    var networkDelaysUs: [UInt64] = []
    var videoDelaysUs: [UInt64] = []
    var audioDelaysUs: [UInt64] = []
    var recentDeliveredBytes = 0
    var receivedBps: UInt64 = 0
    var windowSentBytes = 0
    var lastSampleCapacity = 0
    var lastSecondCapacity = 0
    var oracleBytes = 0.0
    var samples: [SimulationResult.Sample] = []

    func send(size: Int, createdUs: UInt64, kind: SimulatedPacket.Kind, nowUs: UInt64) {
        let isMedia = kind.isMedia
        let sequence = estimator.packetSent(size: size, now: at(nowUs))
        windowSentBytes += size
        if isMedia { mediaSent += 1 }
        if case .failure = link.enqueue(
            size: size,
            payload: SimulatedPacket(sequence: sequence, createdUs: createdUs, sentUs: nowUs, kind: kind),
            nowUs: nowUs
        ),
            isMedia
        {
            mediaLost += 1
        }
    }

    var nowUs: UInt64 = 0
    while nowUs < settings.durationUs {
        let target = estimator.targetBitrate
        let videoShare = max(target - settings.audioShareBps, 0)

        // The relay's allocator, on the relay's tick; then the sources.
        if nowUs % allocatorTickUs == 0 {
            let decision = allocation.update(
                videoShareBps: UInt64(videoShare),
                encodingRates: nil,
                thresholds: settings.videoPause,
                now: at(nowUs)
            )
            switch decision.pause {
            case .pause:
                pacer.removeAll(.video)
            case .resume:
                needKeyframe = true  // a keyframe on every switch
            case nil:
                break
            }
            paused = allocation.isPaused
        }
        if nowUs >= nextAudioUs {
            if let relayPacing {
                // Never behind video; into an outage at most one packet per interval (the relay's rule).
                let unreachable = estimator.isUnreachable(relayPacing, now: at(nowUs))
                if outage.audioMayGo(unreachable: unreachable, pacing: relayPacing, now: at(nowUs)) {
                    send(size: settings.audioPacketBytes, createdUs: nowUs, kind: .audio, nowUs: nowUs)
                } else {
                    audioDroppedUnreachable += 1
                }
            } else if !pacer.enqueue(.audio, size: settings.audioPacketBytes, tag: nowUs, now: at(nowUs)) {
                send(size: settings.audioPacketBytes, createdUs: nowUs, kind: .audio, nowUs: nowUs)  // full: unpaced
            }
            nextAudioUs += settings.audioIntervalUs
        }
        if Double(nowUs) >= nextFrameUs {
            nextFrameUs += frameIntervalUs
            if !paused {
                if Double(pacer.queuedBytes(of: .video)) > videoShare / 8 * settings.frameDropQueueMs / 1000 {
                    framesSkipped += 1
                } else {
                    var remaining = model.nextFrameBytes(bitrate: videoShare, keyframe: needKeyframe)
                    needKeyframe = false
                    framesEncoded += 1
                    while remaining > 0 {
                        let size = min(remaining, settings.maximumPacketBytes - 40) + 40  // RTP/SRTP/UDP/IP headers
                        if !pacer.enqueue(.video, size: size, tag: nowUs, now: at(nowUs)) {
                            pacerOverflowed += 1
                            send(size: size, createdUs: nowUs, kind: .video, nowUs: nowUs)  // full: unpaced
                        }
                        remaining -= size - 40
                    }
                }
            }
        }
        if paused { pausedUs += 1000 }

        // The pacer: the relay's (video within the pacing rate and the relay's window, held by it
        // for at most the hold limit), or a sender's (audio first, past the window by a little and
        // never behind padding's own window; stale audio dropped; then video within the window).
        let probeBps = PaddingProbePacer.rateBps(paused: true, resumeBps: settings.videoPause.resumeBps, upswitchBps: 0)
        let probeWindow = PaddingProbePacer.windowBytes(
            probeBps: probeBps,
            audioBps: settings.audioShareBps,
            paused: true,
            targetBps: target,
            rttMs: estimator.rttMs,
            congestionWindowMs: settings.parameters.congestionWindowMs
        )
        pacer.setPacingRate(relayPacing != nil ? estimator.pacingRate : target * settings.parameters.pacingFactor)
        // The window is read again for every packet: each one sent adds to the bytes in flight.
        func window() -> MediaPacer.CongestionWindow? {
            if let relayPacing { return estimator.pacerWindow(relayPacing, now: at(nowUs)) }
            return estimator.congestionWindow(audioWindowBytes: paused ? probeWindow : nil)
        }
        while let packet = pacer.next(now: at(nowUs), window: window()) {
            pacer.sent(packet, now: at(nowUs))
            send(size: packet.size, createdUs: packet.tag, kind: packet.queue == .audio ? .audio : .video, nowUs: nowUs)
        }
        // Video dropped into an outage: the encoder sends a keyframe once feedback is back (the
        // relay asks its source for one).
        _ = outage.noteVideoDropped(total: pacer.staleVideoDropped)
        if let relayPacing, !estimator.isUnreachable(relayPacing, now: at(nowUs)), outage.takeKeyframeOwed() {
            needKeyframe = true
        }
        // While video is paused, the relay's padding probes (its pacer, its packet size) ask whether
        // the link has room again.
        if paused {
            let count = probePacer.probes(
                now: at(nowUs),
                rateBps: probeBps,
                packetBytes: RelayCore.paddingProbeBytes,
                windowBytes: probeWindow,
                bytesInFlight: estimator.history.bytesInFlight,
                firstInterval: .milliseconds(1)
            )
            for _ in 0..<count {
                send(size: RelayCore.paddingProbeBytes, createdUs: nowUs, kind: .padding, nowUs: nowUs)
            }
        }

        // The link, and the receiver recording arrivals.
        link.advance(toUs: nowUs) { packet in
            receiver.record(sequence: packet.payload.sequence, arrival: at(packet.deliveryUs))
            recentDeliveredBytes += packet.size
            guard packet.payload.isMedia else { return }
            mediaDeliveredBytes += packet.size
            let delay = packet.deliveryUs - packet.payload.createdUs
            let queueing = delay > settings.link.baseDelayUs ? delay - settings.link.baseDelayUs : 0
            delaysUs.append(queueing)
            if packet.payload.kind == .video { videoDelaysUs.append(queueing) } else { audioDelaysUs.append(queueing) }
            let network = packet.deliveryUs - packet.payload.sentUs
            networkDelaysUs.append(network > settings.link.baseDelayUs ? network - settings.link.baseDelayUs : 0)
        }
        if nowUs % 100_000 == 0 {
            receivedBps = UInt64(recentDeliveredBytes * 8 * 10)
            recentDeliveredBytes = 0
        }
        if receiver.isDue(now: at(nowUs), receivedBitrate: receivedBps) {
            let count = receiver.takeArrivals(now: at(nowUs), into: &arrivals)
            var offset = 0
            while offset < count {
                var bytes = [UInt8](repeating: 0, count: RTCPTransportFeedback.defaultMaxSize)
                var consumed = 0
                let written = arrivals.withUnsafeBufferPointer { all in
                    let rest = Span(_unsafeElements: UnsafeBufferPointer(rebasing: all[offset..<count]))
                    return bytes.withUnsafeMutableBytes { buffer in
                        let feedback = RTCPTransportFeedback(
                            senderSSRC: 1,
                            mediaSSRC: 2,
                            feedbackPacketCount: receiver.feedbackPacketCount,
                            arrivals: rest
                        )
                        consumed = feedback.consumedCount
                        var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                        feedback.encode(into: &out)
                        return out.finalize(for: buffer)
                    }
                }
                receiver.sent()
                bytes.removeLast(bytes.count - written)
                feedbackInFlight.append((nowUs + settings.feedbackDelayUs, bytes))
                offset += max(consumed, 1)
            }
        }

        // Feedback reaching the sender.
        while let first = feedbackInFlight.first, first.atUs <= nowUs {
            feedbackInFlight.removeFirst()
            first.bytes.withUnsafeBytes { raw in
                guard let view = try? RTCPTransportFeedbackView(validating: RawSpan(_unsafeBytes: raw)) else { return }
                estimator.beginFeedback()
                var packets = view.packets
                while let packet = packets.next() {
                    estimator.addReport(sequence: packet.sequenceNumber, arrivalTimeUs: packet.arrivalTimeUs)
                }
                estimator.endFeedback(now: at(nowUs))
            }
        }
        if nowUs % 10_000 == 0 { estimator.tick(now: at(nowUs)) }

        nowUs += 1000
        if nowUs % 1_000_000 == 0 || nowUs >= settings.durationUs {
            let capacity = link.statistics.capacityBytes
            let windowSeconds = Double(nowUs % 1_000_000 == 0 ? 1_000_000 : nowUs % 1_000_000) / 1_000_000
            oracleBytes += min(Double(capacity - lastSecondCapacity), settings.oracleCapBps / 8 * windowSeconds)
            lastSecondCapacity = capacity
        }
        if nowUs % settings.sampleIntervalUs == 0 {
            let window = Double(settings.sampleIntervalUs) / 1_000_000
            let capacity = link.statistics.capacityBytes
            samples.append(
                .init(
                    seconds: Double(nowUs) / 1_000_000,
                    capacityBps: Double((capacity - lastSampleCapacity) * 8) / window,
                    estimateBps: estimator.targetBitrate,
                    sendBps: Double(windowSentBytes * 8) / window,
                    paused: paused
                )
            )
            lastSampleCapacity = capacity
            windowSentBytes = 0
        }
    }

    delaysUs.sort()
    networkDelaysUs.sort()
    videoDelaysUs.sort()
    audioDelaysUs.sort()
    func percentile(_ p: Double, of delays: [UInt64] = delaysUs) -> Double {
        guard !delays.isEmpty else { return 0 }
        return Double(delays[min(delays.count - 1, Int(Double(delays.count) * p))]) / 1000
    }
    let seconds = Double(settings.durationUs) / 1_000_000
    let statistics = link.statistics
    return SimulationResult(
        durationSeconds: seconds,
        goodputBps: Double(mediaDeliveredBytes * 8) / seconds,
        capacityBps: Double(statistics.capacityBytes * 8) / seconds,
        utilization: statistics.capacityBytes > 0
            ? Double(statistics.deliveredBytes) / Double(statistics.capacityBytes) : 0,
        oracleUtilization: oracleBytes > 0 ? Double(statistics.deliveredBytes) / oracleBytes : 0,
        queueingDelayP50Ms: percentile(0.50),
        queueingDelayP95Ms: percentile(0.95),
        networkDelayP95Ms: percentile(0.95, of: networkDelaysUs),
        videoQueueingDelayP95Ms: percentile(0.95, of: videoDelaysUs),
        audioQueueingDelayP95Ms: percentile(0.95, of: audioDelaysUs),
        loss: mediaSent > 0 ? Double(mediaLost) / Double(mediaSent) : 0,
        pausedSeconds: Double(pausedUs) / 1_000_000,
        framesEncoded: framesEncoded,
        framesSkipped: framesSkipped,
        pacerOverflowed: pacerOverflowed,
        audioDroppedAtSender: pacer.staleAudioDropped + audioDroppedUnreachable,
        videoDroppedAtSender: pacer.staleVideoDropped,
        samples: samples
    )
}
