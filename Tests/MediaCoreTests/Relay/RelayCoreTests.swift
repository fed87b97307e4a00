import ClientPeer
import Foundation
import Testing

@testable import MediaCore

@Suite("Relay core end to end, in process")
struct RelayCoreTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    @Test("two participants connect and each receives the other's audio and video, rewritten")
    func twoParticipantsForward() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, citizenID, staffID) = try harness.visit(room: "r1", ports: (50_001, 50_002))
        #expect(citizen.isKeyed && staff.isKeyed, "DTLS completed for both")
        #expect(citizen.answer.contains("a=ice-lite") && citizen.answer.contains("a=setup:passive"))
        #expect(citizen.answer.contains("a=fingerprint:\(Self.relayIdentity.fingerprint.sdpValue)"))
        #expect(citizen.relayAddress == RelayHarness.relayAddress)

        // Both see each other in slot 0.
        let maybeView = harness.core.roomView(for: citizenID)
        let view = try #require(maybeView)
        #expect(view.slots[0].participant == staffID && view.slots[0].role == .staff)
        #expect(view.slots[1].participant == nil)

        for i in 0..<5 {
            try harness.send(citizen.rtp(video: true, payload: [UInt8](repeating: UInt8(i), count: 900)), from: citizen)
            try harness.send(citizen.rtp(video: false, payload: [0xAB, 0xCD, UInt8(i)]), from: citizen)
        }
        let videoToStaff = staff.received.filter { $0.payloadType == 96 }
        let audioToStaff = staff.received.filter { $0.payloadType == 111 }
        #expect(videoToStaff.count == 5 && audioToStaff.count == 5)
        // SSRCs are the relay's slot SSRCs from the answer, not the citizen's.
        #expect(!videoToStaff.contains { $0.ssrc == citizen.videoSSRC })
        #expect(staff.answer.contains("a=ssrc:\(videoToStaff[0].ssrc) cname:visit-relay"))
        // Sequence numbers are consecutive and the payload arrives intact.
        let sequences = videoToStaff.map(\.sequence)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        #expect(videoToStaff[4].payload == [UInt8](repeating: 4, count: 900))
        let forwarded = harness.core.counters.rtpForwarded
        #expect(forwarded == 10)
        // A keyframe request went to the citizen when the staff could receive.
        try harness.tick(.milliseconds(400))
        #expect(citizen.receivedRTCP.contains { $0.count >= 12 && $0[1] == 206 && $0[0] & 0x1F == 1 })
    }

    @Test("RTCP termination: each side gets our SR for what we send it and report blocks for what it sends")
    func reports() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "rtcp", ports: (50_051, 50_052))
        for i in 0..<10 {
            try harness.send(citizen.rtp(video: true, payload: [UInt8](repeating: UInt8(i), count: 100)), from: citizen)
        }
        citizen.receivedRTCP.removeAll()
        staff.receivedRTCP.removeAll()
        try harness.tick(.seconds(1))
        // The staff gets an SR from the slot's video SSRC: 10 packets of 100 payload bytes... plus headers.
        let videoSSRC = staff.received.last!.ssrc
        let toStaff = try #require(staff.receivedRTCP.first { $0[1] == 200 || $0[1] == 201 })
        func read32(_ p: [UInt8], _ at: Int) -> UInt32 {
            UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
        }
        #expect(toStaff[1] == 200, "starts with a sender report")
        #expect(read32(toStaff, 4) == videoSSRC)
        #expect(read32(toStaff, 20) == 10, "sender's packet count")
        // The citizen gets a receiver report with a block for its video stream.
        let toCitizen = try #require(citizen.receivedRTCP.first { $0[1] == 200 || $0[1] == 201 })
        #expect(toCitizen[1] == 201 && toCitizen[0] & 0x1F >= 1, "RR with report blocks")
        let blockSSRCs = (0..<Int(toCitizen[0] & 0x1F)).map { read32(toCitizen, 8 + 24 * $0) }
        #expect(blockSSRCs.contains(citizen.videoSSRC))
        let index = blockSSRCs.firstIndex(of: citizen.videoSSRC)!
        #expect(read32(toCitizen, 8 + 24 * index + 8) == UInt32(citizen.videoSequence), "extended highest sequence")
        #expect(read32(toCitizen, 8 + 24 * index + 4) & 0xFF_FFFF == 0, "nothing lost")
        // Within the interval nothing more is sent.
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(500))
        #expect(!citizen.receivedRTCP.contains { $0[1] == 200 || $0[1] == 201 })
    }

    @Test("a handover to a new source port: a check from there moves media without signaling")
    func handover() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "ho", ports: (50_061, 50_062))
        // The citizen's video flows and the keyframe requests of the join have been served.
        try harness.send(citizen.rtp(video: true, payload: [41]), from: citizen)
        try harness.tick(.milliseconds(400))
        // The staff's 4G modem hands over: same keys, new source port.
        let moved = try RelayTestClient(port: 50_063, relayFingerprint: Self.relayIdentity.fingerprint, seed: 9)
        harness.clients[moved.address] = staff
        harness.now += .seconds(2)
        citizen.receivedRTCP.removeAll()
        // An authenticated check from the new port (no nomination), after the old one fell silent:
        var check = staff.bindingRequest(useCandidate: false) + [UInt8](repeating: 0, count: 64)
        let checkLength = check.count - 64
        check.withUnsafeMutableBytes {
            harness.core.receive($0, length: checkLength, from: moved.address, now: harness.now, into: &harness.output)
        }
        try harness.deliver()
        #expect(staff.lastMappedAddress == moved.address, "the response reflects the new port")
        // Media from the citizen now reaches the staff at the new port.
        staff.received.removeAll()
        try harness.send(citizen.rtp(video: true, payload: [42]), from: citizen)
        #expect(staff.received.last?.payload == [42])
        let counters = harness.core.counters
        #expect(counters.rtpForwarded >= 1)
        // What was in flight to the old port is lost: the staff's source is asked for a keyframe at once.
        try harness.tick()
        #expect(
            citizen.receivedRTCP.contains { $0.count >= 12 && $0[1] == 206 && $0[0] & 0x1F == 1 },
            "a PLI to the citizen"
        )
        #expect(harness.core.counters.keyframeRequestsSent(for: .pathMoved) == 1, "counted as the path moving")
    }

    @Test(
        "a handover without a check: authenticated SRTP from the new port moves media at once; forgeries and replays do not"
    )
    func handoverBySRTP() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "latch", ports: (50_064, 50_065))
        let old = try citizen.rtp(video: true, payload: [1])
        try harness.send(old, from: citizen)
        let moved = try RelayTestClient(port: 50_066, relayFingerprint: Self.relayIdentity.fingerprint, seed: 10)
        let attacker = try RelayTestClient(port: 50_067, relayFingerprint: Self.relayIdentity.fingerprint, seed: 11)
        harness.clients[moved.address] = citizen
        harness.now += .milliseconds(500)
        // A replay of the citizen's last packet, and a forged one, from another address: no latch.
        harness.receive(old, from: attacker.address)
        var forged = try citizen.rtp(video: true, payload: [2])
        forged[forged.count - 1] ^= 1
        harness.receive(forged, from: attacker.address)
        try harness.deliver()
        #expect(harness.core.counters.addressLatches == 0 && harness.core.counters.dropped(.unknownAddress) == 2)
        // The citizen's next packet, from its new port, is forwarded, and media to it goes there.
        staff.received.removeAll()
        harness.receive(try citizen.rtp(video: true, payload: [3]), from: moved.address)
        try harness.deliver()
        #expect(staff.received.last?.payload == [3])
        #expect(harness.core.counters.addressLatches == 1)
        citizen.received.removeAll()
        try harness.send(staff.rtp(video: true, payload: [4]), from: staff)
        #expect(citizen.received.last?.payload == [4], "the relay now sends to the new port")
    }

    @Test("a flight of the relay's lost on the way is sent again on the relay's timer, and the handshake completes")
    func dtlsFlightRetransmitted() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let citizen = try RelayTestClient(port: 50_081, relayFingerprint: harness.core.identity.fingerprint, seed: 1)
        let result = try harness.core.join(room: "rt", role: .citizen, offer: citizen.offer(slots: 2), now: harness.now)
        citizen.accept(answer: result.answerSDP)
        harness.clients[citizen.address] = citizen
        try harness.send(citizen.bindingRequest(), from: citizen)
        harness.dropTowards[citizen.address] = 1  // the first datagram of the relay's answer to the ClientHello
        _ = citizen.transport.startDtls(now: harness.now)
        while let hello = citizen.transport.takeDtlsOutgoing() { try harness.send(hello, from: citizen) }
        let keyedEarly = citizen.isKeyed
        #expect(!keyedEarly, "the flight was incomplete")
        // The test client runs no timer of its own: only the relay's can recover.
        for _ in 0..<100 { try harness.tick() }
        let keyed = citizen.isKeyed
        #expect(keyed, "connected within a second of relay timers")
        let ready = harness.core.participants[result.participant]?.isMediaReady
        #expect(ready == true)
    }

    @Test(
        "consent expires 30 s after the last check: the session ends, the participant is removed and gets nothing more"
    )
    func consentExpiry() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, citizenID, staffID) = try harness.visit(room: "ce", ports: (50_071, 50_072))
        _ = harness.core.takeEvents()
        for _ in 0..<29 {
            try harness.tick(.seconds(1))
            try harness.send(citizen.bindingRequest(useCandidate: false), from: citizen)  // the citizen keeps consent
        }
        var events = harness.core.takeEvents()
        #expect(events.isEmpty)
        try harness.tick(.seconds(2))
        events = harness.core.takeEvents()
        #expect(events.contains(.sessionEnded(staffID, room: "ce", reason: .consentExpired)))
        #expect(events.contains(.roomChanged(room: "ce")))
        #expect(harness.core.members(of: "ce") == [citizenID], "removed as a DELETE would")
        #expect(harness.core.roomView(for: citizenID)?.slots.allSatisfy { $0.participant == nil } == true)
        staff.received.removeAll()
        try harness.send(citizen.rtp(video: true, payload: [1]), from: citizen)
        #expect(staff.received.isEmpty, "no consent, no media")
        // Never silent: the staff's next check is not answered (the session is over; it must rejoin).
        let responses = staff.stunResponses
        try harness.send(staff.bindingRequest(), from: staff)
        #expect(staff.stunResponses == responses)
        #expect(harness.core.counters.dropped(.stunUnknownUsername) >= 1)
    }

    @Test("ICE restart answers with new credentials; leaving and rejoining works")
    func restartAndRejoin() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _, citizenID, staffID) = try harness.visit(room: "rr", ports: (50_081, 50_082))
        let oldUfrag = citizen.relayUfrag
        let answer = try harness.core.restartIce(citizenID, offer: citizen.offer(slots: 2), now: harness.now)
        citizen.accept(answer: answer)
        #expect(citizen.relayUfrag != oldUfrag)
        // Checks under the old credentials no longer authenticate; the new ones do.
        let before = harness.core.counters.dropped(.stunUnknownUsername)
        try harness.send(citizen.bindingRequest(username: "\(oldUfrag):\(citizen.ice.ufrag)"), from: citizen)
        let after = harness.core.counters.dropped(.stunUnknownUsername)
        #expect(after == before + 1)
        let responsesBefore = citizen.stunResponses
        try harness.send(citizen.bindingRequest(), from: citizen)
        let integrityDrops = harness.core.counters.dropped(.stunBadIntegrity)
        #expect(citizen.stunResponses == responsesBefore + 1, "the new credentials authenticate")
        #expect(integrityDrops == 0)
        // Staff leaves and comes back with a new transport: media flows again.
        harness.core.leave(staffID, now: harness.now)
        let staff2 = try RelayTestClient(port: 50_083, relayFingerprint: Self.relayIdentity.fingerprint, seed: 3)
        _ = try harness.connect(staff2, room: "rr", role: .staff)
        try harness.send(citizen.rtp(video: true, payload: [9, 9]), from: citizen)
        #expect(staff2.received.last?.payload == [9, 9])
    }

    @Test("relay-side repair: a hole from the sender is NACKed, and its RTX is forwarded as the original packet")
    func senderLegRepair() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "nack", ports: (50_091, 50_092))
        #expect(citizen.answer.contains("a=rtcp-fb:96 nack\r\n") && citizen.answer.contains("a=rtpmap:97 rtx/90000"))
        try harness.send(citizen.rtp(video: true, payload: [1]), from: citizen)
        _ = try citizen.rtp(video: true, payload: [2])  // lost on the uplink
        let lostSequence = citizen.videoSequence
        try harness.send(citizen.rtp(video: true, payload: [3]), from: citizen)
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(20))
        let nacks = citizen.receivedRTCP.filter { $0[1] == 205 && $0[0] & 0x1F == 1 }
        #expect(nacks.count == 1)
        let pid = nacks.first.map { UInt16($0[12]) << 8 | UInt16($0[13]) }
        #expect(pid == lostSequence)
        // The citizen retransmits with RTX; the staff receives it as the missing original packet.
        try harness.send(citizen.rtx(original: lostSequence, payload: [2]), from: citizen)
        let video = staff.received.filter { $0.payloadType == 96 }
        #expect(video.map(\.payload) == [[1], [3], [2]])
        #expect(video[2].sequence == video[0].sequence &+ 1, "the repaired packet fills the hole's sequence number")
        #expect(video[2].ssrc == video[0].ssrc)
        let recovered = harness.core.counters.recoveredByRetransmission
        #expect(recovered == 1)
        // No further NACK for it.
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(300))
        #expect(!citizen.receivedRTCP.contains { $0[1] == 205 })
    }

    @Test("relay-side repair: a receiver's NACK is answered from the cache, once per RTT")
    func receiverLegRepair() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, _, _) = try harness.visit(room: "rtx", ports: (50_093, 50_094))
        for i in 0..<5 {
            if i == 2 { harness.dropTowards[staff.address] = 1 }  // lost on the staff's downlink
            try harness.send(citizen.rtp(video: true, payload: [UInt8(i), 7, 7]), from: citizen)
        }
        let got = staff.received.filter { $0.payloadType == 96 }
        #expect(got.map { $0.payload[0] } == [0, 1, 3, 4])
        let missing = got[1].sequence &+ 1
        staff.received.removeAll()
        try harness.send(staff.nack(mediaSSRC: got[0].ssrc, sequences: [missing]), from: staff)
        #expect(staff.received.count == 1)
        #expect(staff.received.first?.sequence == missing && staff.received.first?.payload == [2, 7, 7])
        // Asked again within the RTT: not resent. After it: resent (the browser's SRTP then drops the
        // duplicate as a replay, as it would any duplicate).
        try harness.send(staff.nack(mediaSSRC: got[0].ssrc, sequences: [missing]), from: staff)
        var served = harness.core.counters.retransmissionsSent
        #expect(served == 1)
        #expect(
            harness.core.counters.retransmissionsSuppressed == 1
                && harness.core.counters.retransmissionsUnavailable == 0
        )
        harness.now += .milliseconds(150)
        try harness.send(staff.nack(mediaSSRC: got[0].ssrc, sequences: [missing]), from: staff)
        served = harness.core.counters.retransmissionsSent
        #expect(served == 2 && staff.replayed == 1)
        let wanted = got[0]
        // Something never sent cannot be served, and is counted.
        try harness.send(staff.nack(mediaSSRC: wanted.ssrc, sequences: [wanted.sequence &+ 100]), from: staff)
        let counters = harness.core.counters
        #expect(counters.retransmissionsSent == 2 && counters.retransmissionsUnavailable == 1)
        #expect(counters.retransmissionsSuppressed == 1)
    }

    @Test("VP8 frames are assembled from the sender's packets, including one completed by its RTX")
    func frameAssembly() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _, _, _) = try harness.visit(room: "vp8", ports: (50_097, 50_098))
        // A keyframe in three packets: descriptor S=1 PID=0, VP8 payload header P=0 (RFC 7741 §4.2, §4.3).
        try harness.send(citizen.rtp(video: true, payload: [0x10, 0x00, 0x9D, 0x01, 0x2A]), from: citizen)
        _ = try citizen.rtp(video: true, payload: [0x00, 0xAA])  // lost on the uplink
        let lost = citizen.videoSequence
        try harness.send(citizen.rtp(video: true, payload: [0x00, 0xBB], marker: true), from: citizen)
        var counters = harness.core.counters
        #expect(counters.framesAssembled == 0 && counters.keyframesReceived == 1)
        try harness.send(citizen.rtx(original: lost, payload: [0x00, 0xAA]), from: citizen)
        counters = harness.core.counters
        #expect(counters.framesAssembled == 1, "the retransmission completed the keyframe")
    }

    @Test("with relay-side repair off, no NACK or RTX is negotiated")
    func repairOff() throws {
        var harness = RelayHarness(identity: Self.relayIdentity, relayNack: false)
        let citizen = try RelayTestClient(port: 50_095, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        _ = try harness.connect(citizen, room: "off", role: .citizen)
        #expect(!citizen.answer.contains("nack\r\n") && !citizen.answer.contains("rtx/90000"))
        #expect(citizen.answer.contains("a=rtcp-fb:96 nack pli"))
    }

    @Test("hostile and premature input is dropped and counted, and nothing is forwarded")
    func drops() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let citizen = try RelayTestClient(port: 50_011, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        let staff = try RelayTestClient(port: 50_012, relayFingerprint: Self.relayIdentity.fingerprint, seed: 2)
        let result = try harness.core.join(room: "r2", role: .citizen, offer: citizen.offer(slots: 2), now: harness.now)
        citizen.accept(answer: result.answerSDP)
        harness.clients[citizen.address] = citizen
        // DTLS before ICE: dropped.
        _ = citizen.transport.startDtls(now: harness.now)
        let hello = citizen.transport.takeDtlsOutgoing()!
        try harness.send(hello, from: citizen)
        var counters = harness.core.counters
        #expect(counters.dropped(.dtlsBeforeIce) == 1)
        // Wrong password, wrong username: dropped, no answer, address not valid.
        try harness.send(citizen.bindingRequest(password: "not-the-password-0000000"), from: citizen)
        counters = harness.core.counters
        #expect(counters.dropped(.stunBadIntegrity) == 1)
        try harness.send(citizen.bindingRequest(username: "nosuch:\(citizen.ice.ufrag)"), from: citizen)
        counters = harness.core.counters
        #expect(counters.dropped(.stunUnknownUsername) == 1)
        // SRTP-looking bytes from an unknown address.
        try harness.send([0x80, 96, 0, 1] + [UInt8](repeating: 0, count: 40), from: staff)
        counters = harness.core.counters
        #expect(counters.dropped(.unknownAddress) == 1)
        // After a valid check but before DTLS: RTP is dropped as SRTP before DTLS.
        try harness.send(citizen.bindingRequest(), from: citizen)
        try harness.send([0x80, 96, 0, 1] + [UInt8](repeating: 0, count: 40), from: citizen)
        counters = harness.core.counters
        #expect(counters.dropped(.srtpBeforeDtls) == 1)
        // Garbage of an unknown kind and too-short datagrams.
        try harness.send([0xFF, 0xFF, 0xFF, 0xFF, 0xFF], from: citizen)
        try harness.send([0x80, 0x60], from: citizen)
        counters = harness.core.counters
        #expect(counters.dropped(.unknownKind) == 1 && counters.dropped(.tooShort) == 1)
        #expect(counters.rtpForwarded == 0)
    }

    /// Where `id`'s media goes: (receiver, slot) per `ForwardingSink`.
    static func sinks(of id: ParticipantID, in harness: borrowing RelayHarness) -> [String] {
        harness.core.participants[id]?.sinks.map { "\($0.receiver.id)@\($0.slot)" } ?? []
    }

    @Test(
        "a third participant joins without disturbing the others; leaving empties the slot and every sink list it was in"
    )
    func thirdJoinsAndLeaves() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let a = try RelayTestClient(port: 50_021, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        let b = try RelayTestClient(port: 50_022, relayFingerprint: Self.relayIdentity.fingerprint, seed: 2)
        let c = try RelayTestClient(port: 50_023, relayFingerprint: Self.relayIdentity.fingerprint, seed: 3)
        let idA = try harness.connect(a, room: "r3", role: .citizen)
        let idB = try harness.connect(b, room: "r3", role: .staff)
        try harness.send(a.rtp(video: true, payload: [1, 2, 3]), from: a)
        let ssrcAtB = b.received.last!.ssrc
        let idC = try harness.connect(c, room: "r3", role: .interpreter)
        try harness.send(a.rtp(video: true, payload: [4, 5, 6]), from: a)
        #expect(b.received.last!.ssrc == ssrcAtB, "b's stream from a is unchanged by c's join")
        #expect(c.received.last!.payload == [4, 5, 6])
        let slotsBefore = harness.core.roomView(for: idA)!.slots.map(\.participant)
        #expect(slotsBefore == [idB, idC])
        // The fan-out follows the slots: a's media goes to b and c, each in the slot showing a.
        #expect(Self.sinks(of: idA, in: harness) == ["\(idB)@0", "\(idC)@0"])
        #expect(Self.sinks(of: idC, in: harness) == ["\(idA)@1", "\(idB)@1"])
        let leaving = try #require(harness.core.participants[idB])
        let events = harness.core.takeEvents()
        #expect(events == [.roomChanged(room: "r3"), .roomChanged(room: "r3"), .roomChanged(room: "r3")])
        harness.core.leave(idB, now: harness.now)
        let slotsAfter = harness.core.roomView(for: idA)!.slots.map(\.participant)
        #expect(slotsAfter == [nil, idC])
        #expect(Self.sinks(of: idA, in: harness) == ["\(idC)@0"], "b left every sink list")
        #expect(Self.sinks(of: idC, in: harness) == ["\(idA)@1"])
        #expect(leaving.sinks.isEmpty)
        try harness.send(a.rtp(video: true, payload: [7]), from: a)
        #expect(c.received.last!.payload == [7])
        let members = harness.core.members(of: "r3")
        #expect(members == [idA, idC])
    }

    @Test("a Firefox-style offer (bundle-only sections, session-level ICE and DTLS) negotiates every slot")
    func bundleOnlyOffer() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let firefox = try RelayTestClient(port: 50_041, relayFingerprint: Self.relayIdentity.fingerprint, seed: 1)
        let offer = firefox.offer(slots: 2, audioPT: 109, videoPT: 120, bundleOnly: true)
        let result = try harness.core.join(room: "ff", role: .citizen, offer: offer, now: harness.now)
        #expect(result.answerSDP.contains("a=group:BUNDLE 0 1 2 3 4 5"))
        // VP8 and its RTX in every video section: from the sender, and for the slots' padding probes.
        #expect(result.answerSDP.components(separatedBy: "m=video 9 UDP/TLS/RTP/SAVPF 120 97\r\n").count - 1 == 3)
        #expect(result.answerSDP.components(separatedBy: "a=ssrc-group:FID ").count - 1 == 2, "an RTX stream per slot")
        #expect(result.answerSDP.components(separatedBy: "a=sendonly").count - 1 == 4, "two slots of audio and video")
        let maybeView = harness.core.roomView(for: result.participant)
        let view = try #require(maybeView)
        #expect(view.slots.map(\.videoMid) == ["3", "5"])
    }

    @Test("a full room and a bad offer are refused with reasons")
    func refusals() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        for port in UInt16(50_031)...50_033 {
            let client = try RelayTestClient(
                port: port,
                relayFingerprint: Self.relayIdentity.fingerprint,
                seed: UInt32(port)
            )
            _ = try harness.core.join(room: "full", role: .staff, offer: client.offer(slots: 2), now: harness.now)
        }
        let late = try RelayTestClient(port: 50_034, relayFingerprint: Self.relayIdentity.fingerprint, seed: 9)
        #expect(throws: JoinError.roomFull(room: "full", limit: 3)) {
            _ = try harness.core.join(room: "full", role: .staff, offer: late.offer(slots: 2), now: harness.now)
        }
        #expect(throws: JoinError.badOffer("line 1: an SDP offer starts with v=0")) {
            _ = try harness.core.join(room: "other", role: .staff, offer: "hello\r\n", now: harness.now)
        }
        let noFingerprint = late.offer(slots: 2).split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }
            .joined(separator: "\r\n")
        #expect(throws: JoinError.badOffer("the offer has no a=fingerprint:sha-256")) {
            _ = try harness.core.join(room: "other", role: .staff, offer: noFingerprint, now: harness.now)
        }
    }

    @Test(
        "a participant without a camera (own video inactive) joins with audio; the others' view says its camera is off"
    )
    func audioOnlyParticipant() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let fingerprint = harness.core.identity.fingerprint
        let staff = try RelayTestClient(port: 50_331, relayFingerprint: fingerprint, seed: 2)
        let staffID = try harness.connect(staff, room: "nocam", role: .staff)
        let citizen = try RelayTestClient(port: 50_332, relayFingerprint: fingerprint, seed: 1)
        var offer = citizen.offer(slots: 2)
        let videoSection = try #require(offer.range(of: "a=mid:1\r\n"))
        let direction = try #require(offer.range(of: "a=sendonly", range: videoSection.upperBound..<offer.endIndex))
        offer.replaceSubrange(direction, with: "a=inactive")
        let citizenID = try harness.connect(citizen, room: "nocam", role: .citizen, offer: offer)

        let maybeStaffView = harness.core.roomView(for: staffID)
        let staffView = try #require(maybeStaffView)
        #expect(staffView.slots[0].participant == citizenID && staffView.slots[0].camera == false)
        let maybeCitizenView = harness.core.roomView(for: citizenID)
        let citizenView = try #require(maybeCitizenView)
        #expect(citizenView.slots[0].participant == staffID && citizenView.slots[0].camera == true)
        try harness.send(citizen.rtp(video: false, payload: [0xAB]), from: citizen)
        #expect(staff.received.last?.payload == [0xAB], "its audio reaches the staff")
    }
}
