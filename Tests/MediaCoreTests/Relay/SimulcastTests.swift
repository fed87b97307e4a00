import Testing

@testable import MediaCore

/// Simulcast through the relay (RFC 8853, rids per RFC 8851): a staff member sends two encodings,
/// the relay forwards each receiver the one its share carries, switches at keyframes and keeps the
/// receiver's stream continuous: one SSRC, sequence numbers by one, timestamps moving on, VP8
/// picture IDs and TL0PICIDX following on.
@Suite("Simulcast: encoding choice and switching")
struct SimulcastTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    /// A model two-encoding sender: 10 ms frames, each one packet, a keyframe every 250 ms; encoding
    /// 0 carries about 100 kbit/s, encoding 1 about 500 kbit/s. Each has its own picture IDs (the
    /// high one wraps at 2^15), TL0PICIDX and timestamps, as separate libvpx encoders would.
    struct Source {
        var pictureIDs: [UInt16] = [1_000, 32_740]
        var tl0: [UInt8] = [10, 250]
        var timestamps: [UInt32] = [1_000_000, 4_000_000_000]
        var frame = 0
        static let sizes = [125, 625]

        /// RFC 7741 §4.2 descriptor with X, S; I with M (15-bit picture ID); L (TL0PICIDX); then
        /// the VP8 header's first byte (P = 0 on a keyframe) and filler naming the encoding.
        mutating func payload(encoding: Int) -> [UInt8] {
            let keyframe = frame % 25 == 0
            let id = pictureIDs[encoding]
            var bytes: [UInt8] = [
                0x90, 0xC0, 0x80 | UInt8(id >> 8), UInt8(id & 0xFF), tl0[encoding], keyframe ? 0x00 : 0x01,
            ]
            bytes += [UInt8](repeating: UInt8(encoding), count: Self.sizes[encoding] - bytes.count)
            pictureIDs[encoding] = (id &+ 1) & 0x7FFF
            tl0[encoding] &+= 1  // every frame is a base-layer frame
            return bytes
        }
    }

    /// A received packet read back: encoding (from the filler), picture ID, TL0PICIDX, keyframe.
    static func decode(_ payload: [UInt8]) -> (encoding: Int, pictureID: UInt16, tl0: UInt8, keyframe: Bool) {
        (Int(payload[6]), UInt16(payload[2] & 0x7F) << 8 | UInt16(payload[3]), payload[4], payload[5] & 0x01 == 0)
    }

    /// Sends `duration` of both encodings from `staff`, ticking the relay every 10 ms.
    static func run(
        _ harness: inout RelayHarness,
        staff: RelayTestClient,
        source: inout Source,
        for duration: Duration
    ) throws {
        var elapsed: Duration = .zero
        while elapsed < duration {
            for encoding in 0..<2 {
                try harness.send(
                    staff.simulcastRTP(
                        encoding: encoding,
                        timestamp: source.timestamps[encoding],
                        payload: source.payload(encoding: encoding)
                    ),
                    from: staff
                )
                source.timestamps[encoding] &+= 900
            }
            source.frame += 1
            try harness.tick(.milliseconds(10))
            elapsed += .milliseconds(10)
        }
    }

    @Test(
        "each receiver gets the encoding its share carries; lifting a limit switches up at a keyframe with the stream continuous"
    )
    func choiceAndSwitch() throws {
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 3
        )
        configuration.downlinkEstimation = false  // shares from operator limits alone: no feedback to model
        var harness = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let fingerprint = harness.core.identity.fingerprint
        let citizen = try RelayTestClient(port: 56_001, relayFingerprint: fingerprint, seed: 1)
        let staff = try RelayTestClient(port: 56_002, relayFingerprint: fingerprint, seed: 2)
        let interpreter = try RelayTestClient(port: 56_003, relayFingerprint: fingerprint, seed: 3)
        staff.simulcastRids = ["l", "h"]
        let citizenID = try harness.connect(citizen, room: "sim", role: .citizen)
        let staffID = try harness.connect(staff, room: "sim", role: .staff)
        let interpreterID = try harness.connect(interpreter, room: "sim", role: .interpreter)
        let answer = staff.answer
        #expect(answer.contains("a=rid:l recv\r\n") && answer.contains("a=rid:h recv\r\n"))
        #expect(answer.contains("a=simulcast:recv l;h\r\n"))
        #expect(answer.contains("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"))

        // The citizen may take 300 kbit/s: 150 per shown participant, 110 of it for video. Only
        // the 100 kbit/s encoding fits; the interpreter has no limit and gets the 500 kbit/s one.
        harness.core.setBitrateLimits(citizenID, BitrateLimits(upBps: nil, downBps: 300_000))
        var source = Source()
        try Self.run(&harness, staff: staff, source: &source, for: .seconds(3))
        let citizenSeen = citizen.videoLog.suffix(50).map { Self.decode($0.payload).encoding }
        let interpreterSeen = interpreter.videoLog.suffix(50).map { Self.decode($0.payload).encoding }
        #expect(citizenSeen == [Int](repeating: 0, count: 50), "the citizen gets the low encoding")
        #expect(interpreterSeen == [Int](repeating: 1, count: 50), "the interpreter gets the high one")
        #expect(harness.core.senderCap(staffID) == nil, "a simulcast sender is not capped at its receivers' share")
        let staffReport = harness.core.report(for: staffID)
        let citizenReport = harness.core.report(for: citizenID)
        let interpreterReport = harness.core.report(for: interpreterID)
        #expect(staffReport?.simulcastLayers == ["l", "h"])
        #expect(citizenReport?.receivedLayers == ["l"])
        #expect(interpreterReport?.receivedLayers == ["h"])

        // Lifted: after the up-switch hold, the relay asks the high encoding for a keyframe and the
        // citizen's stream moves to it there.
        let switchesBefore = harness.core.counters.layerSwitches
        let logBefore = citizen.videoLog.count
        staff.receivedRTCP.removeAll()
        harness.core.setBitrateLimits(citizenID, BitrateLimits(upBps: nil, downBps: nil))
        try Self.run(&harness, staff: staff, source: &source, for: .seconds(2))
        #expect(harness.core.counters.layerSwitches == switchesBefore + 1)
        let log = Array(citizen.videoLog[(logBefore - 1)...])
        let encodings = log.map { Self.decode($0.payload).encoding }
        guard let at = encodings.firstIndex(of: 1), at > 0 else {
            Issue.record("the citizen never switched up")
            return
        }
        #expect(encodings[at...].allSatisfy { $0 == 1 }, "no way back once switched")
        let before = Self.decode(log[at - 1].payload)
        let after = Self.decode(log[at].payload)
        #expect(after.keyframe, "the switch happens at a keyframe")
        #expect(Set(log.map(\.ssrc)).count == 1, "one SSRC towards the receiver")
        #expect(log[at].sequence == log[at - 1].sequence &+ 1, "sequence numbers continue")
        #expect(after.pictureID == (before.pictureID &+ 1) & 0x7FFF, "picture IDs continue")
        #expect(after.tl0 == before.tl0 &+ 1, "TL0PICIDX continues")
        let advanced = log[at].timestamp &- log[at - 1].timestamp
        #expect(advanced > 0 && advanced <= 90 * 50, "the timestamp moves on by the time that passed")
        // Within the new encoding, picture IDs keep counting by one across its 2^15 wrap.
        let ids = log[at...].map { Self.decode($0.payload).pictureID }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $1 == ($0 &+ 1) & 0x7FFF })
        // The keyframe was asked of the high encoding's SSRC (PLI, RFC 4585 §6.3.1).
        let highSSRC = staff.videoSSRC + 100
        let plis = staff.receivedRTCP.filter { packet in
            packet.count >= 12 && packet[1] == 206 && packet[0] & 0x1F == 1
                && UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
                    == highSSRC
        }
        #expect(!plis.isEmpty, "a PLI for the encoding switched to")
    }

    @Test("an encoding the sender stops is left at once for one that still flows")
    func stoppedEncoding() throws {
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 3
        )
        configuration.downlinkEstimation = false
        var harness = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let fingerprint = harness.core.identity.fingerprint
        let citizen = try RelayTestClient(port: 56_011, relayFingerprint: fingerprint, seed: 1)
        let staff = try RelayTestClient(port: 56_012, relayFingerprint: fingerprint, seed: 2)
        staff.simulcastRids = ["l", "h"]
        _ = try harness.connect(citizen, room: "stop", role: .citizen)
        _ = try harness.connect(staff, room: "stop", role: .staff)
        var source = Source()
        try Self.run(&harness, staff: staff, source: &source, for: .seconds(3))
        #expect(citizen.videoLog.suffix(10).allSatisfy { Self.decode($0.payload).encoding == 1 })
        // The sender's own estimate drops the high encoding: only the low one flows from here.
        let before = citizen.videoLog.count
        for _ in 0..<100 {
            try harness.send(
                staff.simulcastRTP(encoding: 0, timestamp: source.timestamps[0], payload: source.payload(encoding: 0)),
                from: staff
            )
            source.timestamps[0] &+= 900
            source.frame += 1
            try harness.tick(.milliseconds(10))
        }
        let after = citizen.videoLog[before...].map { Self.decode($0.payload).encoding }
        #expect(after.contains(0), "the low encoding reaches the citizen within a second")
        #expect(
            after.count >= 20,
            "video was off for at most the 0.5 s it takes to see the encoding stopped and the next keyframe"
        )
    }

    @Test("a simulcast offer is declined when the relay has simulcast off: one stream, REMB caps as before")
    func simulcastOff() throws {
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 3
        )
        configuration.simulcast = false
        var harness = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let staff = try RelayTestClient(port: 56_021, relayFingerprint: harness.core.identity.fingerprint, seed: 2)
        staff.simulcastRids = ["l", "h"]
        _ = try harness.connect(staff, room: "off", role: .staff)
        let answer = staff.answer
        #expect(!answer.contains("a=simulcast") && !answer.contains("a=rid:"))
    }
}

@Suite("VP8 picture ID rewriting")
struct VP8PictureIDRewriterTests {
    @Test("one source passes through; a new source continues from the last ID sent, in 15 and 7 bits")
    func continuity() {
        var rewriter = VP8PictureIDRewriter()
        #expect(rewriter.map(sourceSSRC: 1, pictureID: 500, tl0PicIdx: 7) == (500, 7))
        #expect(rewriter.map(sourceSSRC: 1, pictureID: 501, tl0PicIdx: 8) == (501, 8))
        #expect(
            rewriter.map(sourceSSRC: 1, pictureID: 499, tl0PicIdx: 6) == (499, 6),
            "a late packet maps by the same offset"
        )
        #expect(rewriter.map(sourceSSRC: 2, pictureID: 32_767, tl0PicIdx: 255) == (502, 9), "the new source follows on")
        #expect(rewriter.map(sourceSSRC: 2, pictureID: 0, tl0PicIdx: 0) == (503, 10), "its own wrap is hidden")
        rewriter.detachSource()
        #expect(
            rewriter.map(sourceSSRC: 2, pictureID: 100, tl0PicIdx: nil) == (504, nil),
            "after a detach, a new epoch"
        )
        var short = VP8PictureIDRewriter()
        #expect(short.map(sourceSSRC: 1, pictureID: 127, longPictureID: false, tl0PicIdx: nil).pictureID == 127)
        #expect(
            short.map(sourceSSRC: 1, pictureID: 0, longPictureID: false, tl0PicIdx: nil).pictureID == 0,
            "7-bit wrap"
        )
        #expect(short.map(sourceSSRC: 3, pictureID: 60, longPictureID: false, tl0PicIdx: nil).pictureID == 1)
    }
}
