/// Byte counters of one participant's transport and the bit rates over the last sampling second.
struct ParticipantTraffic: Sendable {
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    var rateInBps: UInt64 = 0
    var rateOutBps: UInt64 = 0
    var sampledAt: ContinuousClock.Instant?
    var sampledIn: UInt64 = 0
    var sampledOut: UInt64 = 0

    mutating func sample(now: ContinuousClock.Instant) {
        guard let last = sampledAt else {
            sampledAt = now
            return
        }
        let elapsed = now - last
        guard elapsed >= .seconds(1) else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        rateInBps = UInt64(Double(bytesIn - sampledIn) * 8 / seconds)
        rateOutBps = UInt64(Double(bytesOut - sampledOut) * 8 / seconds)
        sampledIn = bytesIn
        sampledOut = bytesOut
        sampledAt = now
    }
}

/// What operators see of one participant (the admin API): role, since when, path quality, rates,
/// limits. Read off the worker's core on its event loop, never on the data path.
public struct ParticipantReport: Sendable, Equatable {
    public let id: ParticipantID
    public let room: String
    public let role: ParticipantRole
    public let joinedAt: ContinuousClock.Instant
    public let connected: Bool
    /// From the participant's receiver reports on our streams (RFC 3550 §6.4.1); nil before one.
    public let roundTripTime: Duration?
    /// Fraction of its video the relay has not received (cumulative, 0...1).
    public let lossUp: Double
    /// Fraction lost on what the relay sends the participant, from its last receiver report.
    public let lossDown: Double
    public let bitrateInBps: UInt64
    public let bitrateOutBps: UInt64
    public let limits: BitrateLimits
    /// The REMB cap this participant's sending is under, if any.
    public let senderCapBps: UInt64?
    /// Whether the participant is sending video the relay forwards.
    public let sendsVideo: Bool
    /// Our estimate of the path towards it (RelayCoreConfiguration.downlinkEstimation), once its
    /// transport-cc feedback has started; and that estimator's last loss and queueing readings.
    public let downlinkEstimateBps: UInt64?
    public let downlinkStandingQueueMs: Double?
    /// Receive slots showing someone, and how many of those have video paused by the allocator.
    public let shownSlots: Int
    public let pausedVideoSlots: Int
    /// The rids it sends with simulcast (empty without), and, per slot showing a simulcast sender,
    /// the rid it is forwarded now.
    public let simulcastLayers: [String]
    public let receivedLayers: [String]
}

extension RelayCore {
    mutating func sampleTraffic(now: ContinuousClock.Instant) {
        for participant in participants.values { participant.traffic.sample(now: now) }
    }

    /// Reports on every participant of this worker, by room then join order.
    public func participantReports() -> [ParticipantReport] {
        rooms.keys.sorted().flatMap { room in
            (rooms[room] ?? []).compactMap { id -> ParticipantReport? in
                guard let p = participants[id] else { return nil }
                let encodings = p.video?.encodings ?? []
                let received = Double(encodings.reduce(0) { $0 + Int($1.statistics?.received ?? 0) })
                let lost = Double(encodings.reduce(0) { $0 + Int(max(0, $1.statistics?.cumulativeLost ?? 0)) })
                return ParticipantReport(
                    id: id,
                    room: room,
                    role: p.role,
                    joinedAt: p.joinedAt,
                    connected: p.isMediaReady,
                    roundTripTime: p.rttMeasured ? p.rtt : nil,
                    lossUp: received + lost > 0 ? lost / (received + lost) : 0,
                    lossDown: Double(p.lossDown) / 256,
                    bitrateInBps: p.traffic.rateInBps,
                    bitrateOutBps: p.traffic.rateOutBps,
                    limits: p.limits,
                    senderCapBps: senderCap(id),
                    sendsVideo: encodings.contains { $0.statistics?.started == true },
                    downlinkEstimateBps: p.downlink?.hasFeedback == true
                        ? p.downlink.map { UInt64($0.targetBitrate) } : nil,
                    downlinkStandingQueueMs: p.downlink?.hasFeedback == true ? p.downlink?.standingQueueMs : nil,
                    shownSlots: p.slots.filter { $0.source != nil }.count,
                    pausedVideoSlots: p.slots.filter { $0.source != nil && $0.videoPaused }.count,
                    simulcastLayers: encodings.count > 1 ? encodings.compactMap(\.ridText) : [],
                    receivedLayers: p.slots.compactMap { slot in
                        guard let source = slot.source.flatMap({ participants[$0] }), let video = source.video,
                            video.isSimulcast,
                            let forwarded = slot.forwardedEncoding, !slot.videoPaused
                        else { return nil }
                        return video.encodings[forwarded].ridText
                    }
                )
            }
        }
    }

    /// Our downlink estimates of this worker's receivers that give feedback: how many, the lowest
    /// and their sum (for metrics; no allocation).
    public var downlinkEstimates: (count: Int, minimumBps: UInt64, sumBps: UInt64) {
        var count = 0
        var minimum = UInt64.max
        var sum: UInt64 = 0
        for participant in participants.values {
            guard let downlink = participant.downlink, downlink.hasFeedback else { continue }
            let estimate = UInt64(downlink.targetBitrate)
            count += 1
            minimum = min(minimum, estimate)
            sum += estimate
        }
        return (count, count == 0 ? 0 : minimum, sum)
    }

    /// The report on one participant of this worker.
    public func report(for id: ParticipantID) -> ParticipantReport? {
        participants[id] == nil ? nil : participantReports().first { $0.id == id }
    }
}
