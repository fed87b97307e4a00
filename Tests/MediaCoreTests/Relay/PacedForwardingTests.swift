import Testing

@testable import MediaCore

/// Forwarding through each receiver's `MediaPacer` (RelayCore+Pacing), driven by that receiver's
/// real transport-cc feedback: a keyframe's burst leaves at a bounded multiple of the estimate,
/// retransmissions go ahead of video that waits, and audio never waits.
@Suite("Paced forwarding towards a receiver with an estimate")
struct PacedForwardingTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")
    /// One packet of a large keyframe: VP8, S=1, P=0.
    static let keyframePacket: [UInt8] = [0x10, 0x00] + [UInt8](repeating: 7, count: 1000)
    static let burst = 80

    /// A visit whose staff side has given feedback for two seconds, so its downlink has an estimate.
    static func settledVisit(
        _ harness: inout RelayHarness,
        ports: (UInt16, UInt16)
    ) throws -> (RelayTestClient, RelayTestClient, ParticipantID) {
        let (citizen, staff, _, staffID) = try harness.visit(room: "pace-\(ports.0)", ports: ports)
        for _ in 0..<20 {
            try DownlinkAllocationTests.step(&harness, citizen: citizen, staff: staff, lostTowardsStaff: 0)
        }
        let receiver = try #require(harness.core.participants[staffID])
        _ = try drain(&harness, staff: staff) { receiver.pacer?.isEmpty == true }
        staff.received.removeAll()
        return (citizen, staff, staffID)
    }

    /// Ticks every 5 ms, staff giving feedback every 10 ms, until `done` or a second has passed;
    /// returns the time taken.
    static func drain(_ harness: inout RelayHarness, staff: RelayTestClient, until done: () -> Bool) throws -> Duration
    {
        var steps = 0
        while !done() && steps < 200 {
            try harness.tick(.milliseconds(5))
            steps += 1
            if steps % 2 == 0, !staff.receivedTransport.isEmpty {
                try harness.send(staff.transportFeedback(now: harness.now), from: staff)
            }
        }
        return .milliseconds(5 * steps)
    }

    /// The sequence numbers of the keyframe packets staff received, in the order they arrived.
    static func keyframeSequences(_ staff: RelayTestClient) -> [UInt16] {
        staff.received.filter { $0.payloadType == 96 && $0.payload.count == keyframePacket.count }.map(\.sequence)
    }

    static func keyframeCount(_ staff: RelayTestClient) -> Int { keyframeSequences(staff).count }

    @Test("a keyframe's burst leaves within the pacing rate, not at once, and all of it within the queue's time limit")
    func keyframeBurstIsPaced() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, staffID) = try Self.settledVisit(&harness, ports: (55_101, 55_102))
        let downlink = try #require(harness.core.participants[staffID]?.downlink)
        #expect(downlink.hasFeedback)
        let pacingBps = downlink.targetBitrate * downlink.parameters.pacingFactor
        for _ in 0..<Self.burst {
            try harness.send(citizen.rtp(video: true, payload: Self.keyframePacket), from: citizen)
        }
        let atOnce = Self.keyframeCount(staff)
        #expect(atOnce < Self.burst / 4, "\(atOnce) of \(Self.burst) left at once")
        #expect(harness.core.counters.packetsPaced >= Self.burst)
        let elapsed = try Self.drain(&harness, staff: staff) { Self.keyframeCount(staff) == Self.burst }
        #expect(Self.keyframeCount(staff) == Self.burst, "every packet of the burst arrived")
        // Within the pacing rate unless that would hold the oldest longer than 250 ms.
        let bits = Double(Self.burst * (Self.keyframePacket.count + 20)) * 8
        let atPacingRate = min(bits / pacingBps, 0.25)
        #expect(elapsed / .seconds(1) >= atPacingRate * 0.7, "took \(elapsed), at the pacing rate \(atPacingRate) s")
        #expect(elapsed <= .milliseconds(265), "took \(elapsed): longer than the queue's time limit")
        #expect(harness.core.counters.pacerOverflowed == 0)
    }

    @Test("a retransmission leaves ahead of video waiting in the pacer; audio goes at once")
    func retransmissionAndAudioFirst() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _) = try Self.settledVisit(&harness, ports: (55_111, 55_112))
        // A delta packet lost on the way to staff (the budget is full after 200 ms idle: it leaves
        // at once, the first datagram towards staff), then one that arrives and shows the gap.
        try harness.tick(.milliseconds(200))
        harness.dropTowards[staff.address] = 1
        try harness.send(citizen.rtp(video: true, payload: DownlinkAllocationTests.deltaFrame), from: citizen)
        try harness.send(citizen.rtp(video: true, payload: DownlinkAllocationTests.deltaFrame), from: citizen)
        _ = try Self.drain(&harness, staff: staff) { staff.received.contains { $0.payloadType == 96 } }
        let arrived = try #require(staff.received.last { $0.payloadType == 96 })
        let lost = (ssrc: arrived.ssrc, sequence: arrived.sequence &- 1)
        #expect(
            !staff.received.contains { $0.payloadType == 96 && $0.sequence == lost.sequence },
            "\(staff.received.map { ($0.payloadType, $0.sequence, $0.payload.count) })"
        )
        try harness.tick(.milliseconds(200))
        staff.received.removeAll()
        for _ in 0..<Self.burst {
            try harness.send(citizen.rtp(video: true, payload: Self.keyframePacket), from: citizen)
        }
        try harness.send(citizen.rtp(video: false, payload: [0xF8, 1, 2, 3]), from: citizen)
        #expect(staff.received.contains { $0.payloadType == 111 }, "audio did not wait behind the burst")
        #expect(Self.keyframeCount(staff) < Self.burst)
        try harness.send(staff.nack(mediaSSRC: lost.ssrc, sequences: [lost.sequence]), from: staff)
        _ = try Self.drain(&harness, staff: staff) { Self.keyframeCount(staff) == Self.burst }
        let resent = staff.received.firstIndex { $0.payloadType == 96 && $0.sequence == lost.sequence }
        let lastOfBurst = staff.received.lastIndex {
            $0.payloadType == 96 && $0.payload.count == Self.keyframePacket.count
        }
        #expect(resent != nil, "the retransmission arrived")
        if let resent, let lastOfBurst { #expect(resent < lastOfBurst, "it went ahead of the video that waited") }
        #expect(harness.core.counters.retransmissionsSent >= 1)
    }

    @Test(
        "when the receiver's feedback is late (silent for less than an outage), its window delays video by at most 250 ms, in order, and never fills the pacer"
    )
    func windowDelaysVideoWhenFeedbackIsLate() throws {
        // Late, not gone: the outage rule is pushed out of the way to see the hold limit alone.
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 3
        )
        configuration.downlinkPacing.outageSilence = .seconds(10)
        var harness = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let (citizen, staff, staffID) = try Self.settledVisit(&harness, ports: (55_121, 55_122))
        let receiver = try #require(harness.core.participants[staffID])
        // Two seconds of video at 100 packets a second and no feedback from staff.
        var arrivedLastSecond = 0
        var mostHeld = 0
        for step in 0..<200 {
            try harness.send(citizen.rtp(video: true, payload: Self.keyframePacket), from: citizen)
            if step == 99 { arrivedLastSecond = Self.keyframeCount(staff) }
            try harness.tick(.milliseconds(10))
            mostHeld = max(mostHeld, receiver.pacer?.count ?? 0)
        }
        let arrived = Self.keyframeCount(staff) - arrivedLastSecond
        #expect(mostHeld >= 15, "the window held \(mostHeld) packets at most: it delays video")
        #expect(mostHeld <= 30, "\(mostHeld) packets waited at once: more than 250 ms of video at 100 a second")
        #expect(arrived >= 90, "\(arrived) packets went on in the second second")
        #expect(harness.core.counters.pacerOverflowed == 0)
        #expect(harness.core.counters.videoDroppedUnreachable == 0)
        // Feedback again: what waited leaves, and everything arrived in the order it was sent.
        _ = try Self.drain(&harness, staff: staff) { receiver.pacer?.isEmpty == true }
        let video = Self.keyframeSequences(staff)
        #expect(video.count == 200)
        #expect(zip(video, video.dropFirst()).allSatisfy { $1 == $0 &+ 1 }, "reordered: \(video)")
    }

    @Test(
        "when the receiver's feedback stops for a second (an outage), video that waited 250 ms is dropped, audio goes one packet per 100 ms, and feedback's return asks the source for a keyframe"
    )
    func outageHoldsMediaBack() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, staffID) = try Self.settledVisit(&harness, ports: (55_131, 55_132))
        let receiver = try #require(harness.core.participants[staffID])
        // Three seconds with no feedback from staff: video at 100 packets a second, audio at 50.
        var videoBefore = 0
        var audioBefore = 0
        var mostHeld = 0
        for step in 0..<300 {
            try harness.send(citizen.rtp(video: true, payload: Self.keyframePacket), from: citizen)
            if step % 2 == 0 { try harness.send(citizen.rtp(video: false, payload: [0xF8, 1, 2, 3]), from: citizen) }
            if step == 149 {  // 1.5 s in: from here on the receiver counts as unreachable
                videoBefore = Self.keyframeCount(staff)
                audioBefore = staff.received.filter { $0.payloadType == 111 }.count
            }
            try harness.tick(.milliseconds(10))
            if step >= 150 { mostHeld = max(mostHeld, receiver.pacer?.count ?? 0) }
        }
        let video = Self.keyframeCount(staff) - videoBefore
        let audio = staff.received.filter { $0.payloadType == 111 }.count - audioBefore
        // 1.5 s unreachable: audio one packet per 100 ms (15 of 75), video one per 500 ms.
        #expect((12...17).contains(audio), "\(audio) audio packets went into the outage's last 1.5 s")
        #expect(video <= 4, "\(video) video packets went into the outage's last 1.5 s")
        #expect(mostHeld <= 30, "\(mostHeld) packets waited at once: older ones must be dropped")
        #expect(harness.core.counters.videoDroppedUnreachable >= 100)
        #expect(harness.core.counters.audioDroppedUnreachable >= 50)
        #expect(harness.core.counters.pacerOverflowed == 0)
        #expect(harness.core.counters.keyframeRequestsSent(for: .outageEnded) == 0)
        // Feedback again: the source is asked for a keyframe, and audio goes at its own rate.
        try harness.send(staff.transportFeedback(now: harness.now), from: staff)
        try harness.tick(.milliseconds(10))
        #expect(harness.core.counters.keyframeRequestsSent(for: .outageEnded) == 1)
        staff.received.removeAll()
        for _ in 0..<10 { try harness.send(citizen.rtp(video: false, payload: [0xF8, 1, 2, 3]), from: citizen) }
        #expect(staff.received.filter { $0.payloadType == 111 }.count == 10, "audio goes at once again")
    }
}
