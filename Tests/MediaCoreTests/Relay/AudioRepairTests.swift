import Testing

@testable import MediaCore

/// Audio packets as a browser sends them: Opus with a timestamp advancing 20 ms (960 ticks) a
/// packet, plain or as RED (RFC 2198) carrying the packets before it, and receiver reports.
extension RelayTestClient {
    func opusHeader(sequence: UInt16, timestamp: UInt32, payloadType: UInt8) -> [UInt8] {
        let ssrc = audioSSRC
        return [
            0x80, payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
            UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF),
            UInt8(timestamp & 0xFF),
            UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF),
        ]
    }

    /// Opus packet number `n` of a stream starting at sequence 1000, timestamp 48 000.
    func opus(_ n: Int, payload: [UInt8]) throws -> [UInt8] {
        try protected(
            opusHeader(sequence: 1000 &+ UInt16(n), timestamp: 48_000 + 960 * UInt32(n), payloadType: 111) + payload
        )
    }

    /// Packet `n` as RED (PT 63): each of `earlier` (payloads of packets n-k…n-1) then the primary.
    func red(_ n: Int, payload: [UInt8], earlier: [[UInt8]]) throws -> [UInt8] {
        var headers: [UInt8] = []
        for (index, block) in earlier.enumerated() {
            let offset = UInt32(960 * (earlier.count - index))
            headers += [
                0x80 | 111, UInt8(offset >> 6), UInt8((offset << 2) & 0xFF) | UInt8(block.count >> 8),
                UInt8(block.count & 0xFF),
            ]
        }
        let body = headers + [111] + earlier.flatMap { $0 } + payload
        return try protected(
            opusHeader(sequence: 1000 &+ UInt16(n), timestamp: 48_000 + 960 * UInt32(n), payloadType: 63) + body
        )
    }

    /// A receiver report (RFC 3550 §6.4.2) with one block on `ssrc`, `fraction` lost in 1/256.
    func receiverReport(on ssrc: UInt32, fractionLost fraction: UInt8) throws -> [UInt8] {
        func word(_ v: UInt32) -> [UInt8] {
            [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        }
        let packet: [UInt8] =
            [0x81, 201, 0, 7] + word(0x0BAD_F00D) + word(ssrc) + [fraction, 0, 0, 1] + word(1000) + word(0) + word(0)
            + word(0)
        return try protected(packet, rtcp: true)
    }
}

@Suite("Audio repair: RED, audio NACK, end-to-end loss reports")
struct AudioRepairTests {
    static let relayIdentity = RelayCoreTests.relayIdentity

    /// A citizen and a staff member; the staff offers RED and NACK for Opus only if `staffRepair`.
    func visit(
        _ harness: inout RelayHarness,
        ports: (UInt16, UInt16),
        staffRepair: Bool
    ) throws -> (RelayTestClient, RelayTestClient) {
        let fingerprint = harness.core.identity.fingerprint
        let citizen = try RelayTestClient(port: ports.0, relayFingerprint: fingerprint, seed: 1)
        let staff = try RelayTestClient(port: ports.1, relayFingerprint: fingerprint, seed: 2)
        _ = try harness.connect(
            citizen,
            room: "audio",
            role: .citizen,
            offer: citizen.offer(slots: 2, red: true, audioNack: true)
        )
        _ = try harness.connect(
            staff,
            room: "audio",
            role: .staff,
            offer: staff.offer(slots: 2, red: staffRepair, audioNack: staffRepair)
        )
        return (citizen, staff)
    }

    func audioSections(_ answer: String) -> [Substring] {
        answer.split(separator: "m=").filter { $0.hasPrefix("audio") }
    }

    @Test("the answer asks a RED sender for RED, answers Opus NACK where offered, and offers neither unasked")
    func negotiation() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_001, 51_002), staffRepair: false)
        let sections = audioSections(citizen.answer)
        #expect(sections[0].hasPrefix("audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"), "RED first in what the citizen sends")
        #expect(sections[0].contains("a=fmtp:63 111/111\r\n") && sections[0].contains("a=rtcp-fb:111 nack\r\n"))
        #expect(sections[1].contains("a=rtpmap:63 red/48000/2\r\n") && sections[1].contains("a=rtcp-fb:111 nack\r\n"))
        for section in audioSections(staff.answer) {
            #expect(!section.contains("red/48000") && !section.contains("a=rtcp-fb:111 nack"))
        }
        // Off, nothing of it is negotiated.
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 3
        )
        configuration.audioRepair = false
        var off = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let (plain, _) = try visit(&off, ports: (51_003, 51_004), staffRepair: true)
        #expect(!plain.answer.contains("red/48000") && !plain.answer.contains("a=rtcp-fb:111 nack"))
    }

    @Test("RED from a sender fills an uplink hole at once; a receiver without RED gets each Opus packet once")
    func senderRedUnwrapped() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_011, 51_012), staffRepair: false)
        try harness.send(citizen.opus(0, payload: [0xA0]), from: citizen)
        // Packet 1 is lost on the uplink; packet 2 repeats it; packet 3 repeats 2 (already here).
        try harness.send(citizen.red(2, payload: [0xA2, 2], earlier: [[0xA1, 1]]), from: citizen)
        try harness.send(citizen.red(3, payload: [0xA3], earlier: [[0xA2, 2]]), from: citizen)
        let audio = staff.received.filter { $0.payloadType == 111 }
        #expect(audio.map(\.payload) == [[0xA0], [0xA1, 1], [0xA2, 2], [0xA3]])
        #expect(
            audio.map { $0.sequence &- audio[0].sequence } == [0, 1, 2, 3],
            "the repeat takes the lost packet's number"
        )
        #expect(!staff.received.contains { $0.payloadType == 63 })
        #expect(harness.core.counters.audioRecoveredByRedundancy == 1)
        // A lost packet RED brought is not asked for again.
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(60))
        #expect(!citizen.receivedRTCP.contains { $0[1] == 205 })
    }

    @Test("Opus packets carrying in-band FEC are counted, plain or as RED's primary")
    func inbandFECCounted() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _) = try visit(&harness, ports: (51_015, 51_016), staffRepair: false)
        // TOC 0x48: SILK wideband 20 ms, one frame; then VAD and LBRR as the first two bits.
        try harness.send(citizen.opus(0, payload: [0x48, 0xC0, 1]), from: citizen)  // voice with LBRR
        try harness.send(citizen.opus(1, payload: [0x48, 0x80, 1]), from: citizen)  // voice, none
        try harness.send(citizen.red(2, payload: [0x48, 0xC0, 2], earlier: [[0x48, 0x80, 1]]), from: citizen)
        try harness.send(citizen.red(3, payload: [0xFC, 0xFF], earlier: [[0x48, 0xC0, 2]]), from: citizen)  // CELT
        #expect(harness.core.counters.audioInbandFECReceived == 2, "the repeat is not counted again")
    }

    @Test("a malformed RED payload is dropped and counted, and the stream goes on")
    func malformedRed() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_021, 51_022), staffRepair: false)
        // A block header claiming 1000 bytes in a 9-byte payload.
        let bad = try citizen.protected(
            citizen.opusHeader(sequence: 1001, timestamp: 48_960, payloadType: 63) + [
                0xEF, 0x0F, 0x03, 0xE8, 111, 1, 2, 3, 4,
            ]
        )
        try harness.send(bad, from: citizen)
        #expect(harness.core.counters.dropped(.redMalformed) == 1)
        try harness.send(citizen.opus(2, payload: [0xA2]), from: citizen)
        #expect(staff.received.filter { $0.payloadType == 111 }.map(\.payload) == [[0xA2]])
    }

    @Test("towards a receiver that reports loss, Opus goes out as RED repeating the packets before it")
    func redTowardsLossyReceiver() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_031, 51_032), staffRepair: true)
        try harness.send(citizen.opus(0, payload: [0xB0]), from: citizen)
        let first = try #require(staff.received.last)
        #expect(first.payloadType == 111, "a clean link: no repeats")
        // The staff reports 5 % loss on the slot's audio: two repeats.
        try harness.send(staff.receiverReport(on: first.ssrc, fractionLost: 13), from: staff)
        try harness.send(citizen.opus(1, payload: [0xB1, 1]), from: citizen)
        try harness.send(citizen.opus(2, payload: [0xB2, 2, 2]), from: citizen)
        let packet = try #require(staff.received.last)
        #expect(packet.payloadType == 63 && packet.sequence == first.sequence &+ 2)
        try packet.payload.withUnsafeBytes { bytes in
            let red = try REDPayloadView(validating: bytes.bytes)
            #expect(red.redundantCount == 2 && red.primaryPayloadType == 111)
            let blocks = (0..<2).map { red.redundant($0) }
            #expect(blocks.map(\.timestampOffset) == [1920, 960] && blocks.map(\.distance) == [2, 1])
            #expect(blocks.map { Array(bytes[$0.range]) } == [[0xB0], [0xB1, 1]])
            #expect(Array(bytes[red.primaryRange]) == [0xB2, 2, 2])
        }
        #expect(harness.core.counters.audioRedundantBlocksSent == 3)
        // The allocator counts the repeats in the staff's audio share.
        let staffParticipant = try #require(harness.core.participants.values.first { $0.role == .staff })
        #expect(harness.core.audioShareBps(of: staffParticipant) == 3 * harness.core.configuration.audioShareBps)
    }

    @Test("a receiver's audio NACK is answered from the cache, only while it can still be played")
    func receiverAudioNack() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_041, 51_042), staffRepair: true)
        for n in 0..<3 {
            if n == 1 { harness.dropTowards[staff.address] = 1 }
            try harness.send(citizen.opus(n, payload: [0xC0 + UInt8(n)]), from: citizen)
        }
        let got = staff.received.filter { $0.payloadType == 111 }
        #expect(got.map(\.payload) == [[0xC0], [0xC2]])
        let missing = got[0].sequence &+ 1
        staff.received.removeAll()
        try harness.send(staff.nack(mediaSSRC: got[0].ssrc, sequences: [missing]), from: staff)
        #expect(staff.received.map(\.sequence) == [missing] && staff.received.first?.payload == [0xC1])
        #expect(harness.core.counters.audioRetransmissionsSent == 1)
        // Past the horizon (less half the RTT) it would come too late to be played: not resent.
        harness.now += RelayCore.audioRepairHorizon
        staff.received.removeAll()
        try harness.send(staff.nack(mediaSSRC: got[0].ssrc, sequences: [missing &+ 1]), from: staff)
        #expect(staff.received.isEmpty)
        #expect(harness.core.counters.audioRetransmissionsSent == 1)
        // Counted as audio's, apart from the video cache's misses.
        #expect(
            harness.core.counters.audioRetransmissionsUnavailable == 1
                && harness.core.counters.retransmissionsUnavailable == 0
        )
    }

    @Test("the relay NACKs an audio sender that offered NACK, while the retransmission can still be played")
    func senderAudioNack() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_051, 51_052), staffRepair: false)
        try harness.send(citizen.opus(0, payload: [0xD0]), from: citizen)
        try harness.send(citizen.opus(3, payload: [0xD3]), from: citizen)  // 1 and 2 lost, no RED
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(20))
        let nacks = citizen.receivedRTCP.filter { $0[1] == 205 && $0[0] & 0x1F == 1 }
        #expect(nacks.count == 1)
        let pid = nacks.first.map { UInt16($0[12]) << 8 | UInt16($0[13]) }
        let blp = nacks.first.map { UInt16($0[14]) << 8 | UInt16($0[15]) }
        #expect(pid == 1001 && blp == 1, "1001 and 1002")
        try harness.send(citizen.opus(1, payload: [0xD1]), from: citizen)  // the retransmission
        #expect(staff.received.filter { $0.payloadType == 111 }.map(\.payload) == [[0xD0], [0xD3], [0xD1]])
        #expect(harness.core.counters.audioRecoveredByRetransmission == 1)
        // 1002 is asked again after an RTT, but not once a retransmission would come too late.
        citizen.receivedRTCP.removeAll()
        try harness.tick(RelayCore.audioRepairHorizon)
        try harness.tick(.milliseconds(20))
        #expect(!citizen.receivedRTCP.contains { $0[1] == 205 })
    }

    @Test("an audio sender's reports carry the loss its receivers see, combined with its uplink's")
    func endToEndLossReported() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff) = try visit(&harness, ports: (51_061, 51_062), staffRepair: true)
        for n in [0, 1, 3, 4] { try harness.send(citizen.opus(n, payload: [0xE0]), from: citizen) }  // 1 in 5 lost
        let slotSSRC = try #require(staff.received.last?.ssrc)
        try harness.send(staff.receiverReport(on: slotSSRC, fractionLost: 64), from: staff)  // 25 % on the downlink
        citizen.receivedRTCP.removeAll()
        try harness.tick(.seconds(2))
        let block = try #require(Self.reportBlock(on: citizen.audioSSRC, in: citizen.receivedRTCP))
        // 1 − (1 − 51/256)(1 − 64/256) = 102/256.
        #expect(block.fractionLost == RelayCore.endToEndLoss(uplink: 51, downlink: 64))
        #expect(RelayCore.endToEndLoss(uplink: 51, downlink: 64) == 102)
        #expect(
            RelayCore.endToEndLoss(uplink: 0, downlink: 0) == 0
                && RelayCore.endToEndLoss(uplink: 255, downlink: 255) == 255
        )
    }

    @Test("Opus DTX (fewer packets, sequence numbers contiguous) is not reported as loss")
    func dtxIsNotLoss() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _) = try visit(&harness, ports: (51_071, 51_072), staffRepair: false)
        // Contiguous numbers, timestamps 400 ms apart: DTX.
        for n in 0..<5 {
            let header = citizen.opusHeader(
                sequence: 1000 + UInt16(n),
                timestamp: 48_000 + 19_200 * UInt32(n),
                payloadType: 111
            )
            try harness.send(citizen.protected(header + [0xF8]), from: citizen)
        }
        citizen.receivedRTCP.removeAll()
        try harness.tick(.seconds(2))
        let block = try #require(Self.reportBlock(on: citizen.audioSSRC, in: citizen.receivedRTCP))
        #expect(block.fractionLost == 0 && block.cumulativeLost == 0)
    }

    /// The report block on `ssrc` in the last SR or RR that has one.
    static func reportBlock(on ssrc: UInt32, in packets: [[UInt8]]) -> RTCPReportBlock? {
        var found: RTCPReportBlock?
        for packet in packets {
            var iterator = RTCPCompoundIterator(packet.span.bytes)
            while let rtcp = try? iterator.next() {
                if rtcp.header.packetType == RTCPPacketType.senderReport, let report = try? RTCPSenderReportView(rtcp) {
                    var blocks = report.reportBlocks
                    while let block = blocks.next() { if block.ssrc == ssrc { found = block } }
                } else if rtcp.header.packetType == RTCPPacketType.receiverReport,
                    let report = try? RTCPReceiverReportView(rtcp)
                {
                    var blocks = report.reportBlocks
                    while let block = blocks.next() { if block.ssrc == ssrc { found = block } }
                }
            }
        }
        return found
    }
}
