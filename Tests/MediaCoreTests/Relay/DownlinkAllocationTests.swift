import Testing

@testable import MediaCore

/// The allocator towards one receiver, driven by that receiver's real transport-cc feedback: below
/// the floor its video pauses (audio goes on, padding probes the link), and when the link is good
/// again video resumes at the source's next keyframe with continuous sequence numbers.
@Suite("Downlink allocation: pause and resume")
struct DownlinkAllocationTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")
    static let deltaFrame: [UInt8] = [0x10, 0x01] + [UInt8](repeating: 5, count: 600)  // VP8, S=1, P=1 (inter)
    static let keyframe: [UInt8] = [0x10, 0x00] + [UInt8](repeating: 6, count: 600)  // VP8, S=1, P=0 (key)

    /// 100 ms of a visit: citizen sends 10 video packets and 5 audio, `lostTowardsStaff` of them are lost
    /// on the way to staff; then staff reports what arrived.
    static func step(
        _ harness: inout RelayHarness,
        citizen: RelayTestClient,
        staff: RelayTestClient,
        lostTowardsStaff: Int
    ) throws {
        harness.dropTowards[staff.address] = lostTowardsStaff
        for index in 0..<15 {
            try harness.send(
                citizen.rtp(video: index % 3 != 0, payload: index % 3 != 0 ? deltaFrame : [1, 2, 3]),
                from: citizen
            )
            harness.now += .microseconds(6_666)
        }
        harness.dropTowards[staff.address] = 0
        try harness.send(staff.transportFeedback(now: harness.now), from: staff)
        try harness.tick(.milliseconds(1))
    }

    @Test(
        "a lossy downlink pauses video (audio on, probes sent, the room view says so); a good one resumes it at a keyframe"
    )
    func pauseAndResume() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, staffID) = try harness.visit(room: "alloc", ports: (55_001, 55_002))
        for _ in 0..<100 {
            try Self.step(&harness, citizen: citizen, staff: staff, lostTowardsStaff: 10)
            if harness.core.roomView(for: staffID)?.slots.first?.videoPaused == true { break }
        }
        let pausedView = harness.core.roomView(for: staffID)
        #expect(pausedView?.slots.first?.videoPaused == true, "video paused below the floor")
        #expect(harness.core.counters.videoPauses == 1)
        // Paused: audio still reaches staff, video does not, and padding probes go out on the slot's
        // RTX stream (the answer pairs it with the video stream), none on the video stream itself.
        staff.received.removeAll()
        for _ in 0..<20 {
            try Self.step(&harness, citizen: citizen, staff: staff, lostTowardsStaff: 0)
            if harness.core.counters.videoResumes > 0 { break }
        }
        let whilePaused = staff.received
        #expect(harness.core.counters.paddingProbesSent > 0)
        let fid = staff.answer.split(separator: "\r\n").first { $0.hasPrefix("a=ssrc-group:FID ") }
        let rtxSSRC = try #require(fid.flatMap { $0.split(separator: " ").last.flatMap { UInt32($0) } })
        #expect(
            whilePaused.contains { $0.ssrc == rtxSSRC && $0.payloadType == 97 && $0.payload.isEmpty },
            "padding-only probes on the slot's RTX stream"
        )
        #expect(!whilePaused.contains { $0.payloadType == 96 }, "nothing on the paused video stream")
        #expect(whilePaused.contains { $0.payloadType == 111 && !$0.payload.isEmpty }, "audio goes on")
        #expect(!whilePaused.contains { $0.payloadType == 96 && $0.payload.count > 100 }, "no video while paused")
        // A good link: the estimate climbs on the probes until video resumes.
        for _ in 0..<300 where harness.core.counters.videoResumes == 0 {
            try Self.step(&harness, citizen: citizen, staff: staff, lostTowardsStaff: 0)
        }
        #expect(harness.core.counters.videoResumes == 1, "video resumed once the link was good again")
        let resumedView = harness.core.roomView(for: staffID)
        #expect(resumedView?.slots.first?.videoPaused == false)
        // Inter frames wait for the keyframe the relay asked for; from it on video flows, numbers continuing.
        staff.received.removeAll()
        try harness.send(citizen.rtp(video: true, payload: Self.deltaFrame), from: citizen)
        #expect(!staff.received.contains { $0.payloadType == 96 && $0.payload.count > 100 }, "not before a keyframe")
        let lastProbe = staff.received.last { $0.payloadType == 96 }?.sequence
        try harness.send(citizen.rtp(video: true, payload: Self.keyframe), from: citizen)
        try harness.send(citizen.rtp(video: true, payload: Self.deltaFrame), from: citizen)
        let video = staff.received.filter { $0.payloadType == 96 && $0.payload.count > 100 }
        #expect(
            video.count == 2 && video.first?.payload.first == 0x10 && video.first?.payload[1] == 0x00,
            "the keyframe, then the rest"
        )
        if let lastProbe, let first = video.first?.sequence {
            #expect(first == lastProbe &+ 1, "sequence numbers continue after the probes")
        }
        #expect(video.count == 2 && video[1].sequence == video[0].sequence &+ 1)
    }

    @Test("an operator down limit below audio plus the floor pauses video too; lifting it resumes video at a keyframe")
    func downLimitPauses() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, staffID) = try harness.visit(room: "limit", ports: (55_011, 55_012))
        harness.core.setBitrateLimits(staffID, BitrateLimits(upBps: nil, downBps: 60_000))
        try harness.tick()
        let limited = harness.core.roomView(for: staffID)?.slots.first?.videoPaused
        #expect(limited == true)
        staff.received.removeAll()
        try harness.send(citizen.rtp(video: true, payload: Self.keyframe), from: citizen)
        #expect(staff.received.isEmpty, "no video while paused")
        harness.core.setBitrateLimits(staffID, BitrateLimits(upBps: nil, downBps: nil))
        try harness.tick()
        try harness.tick(.seconds(1))
        let lifted = harness.core.roomView(for: staffID)?.slots.first?.videoPaused
        #expect(lifted == false)
        try harness.send(citizen.rtp(video: true, payload: Self.keyframe), from: citizen)
        #expect(staff.received.contains { $0.payloadType == 96 && $0.payload.first == 0x10 })
    }
}
