import Testing

@testable import MediaCore

@Suite("Transport-wide congestion control feedback")
struct TransportFeedbackTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    func take(
        _ generator: inout TransportFeedbackGenerator,
        at now: ContinuousClock.Instant
    ) -> [RTCPTransportFeedbackArrival] {
        var scratch: [RTCPTransportFeedbackArrival] = []
        _ = generator.takeArrivals(now: now, into: &scratch)
        return scratch
    }

    @Test("arrivals come back in sequence order across the 16-bit wrap, holes as lost, late ones ignored")
    func generator() {
        let origin = ContinuousClock.now
        var generator = TransportFeedbackGenerator(origin: origin, capacity: 64)
        for (sequence, ms) in [(65_534, 0), (65_535, 5), (1, 12), (0, 10)] as [(UInt16, Int)] {
            generator.record(sequence: sequence, arrival: origin + .milliseconds(ms))
        }
        #expect(generator.isDue(now: origin + .milliseconds(20), receivedBitrate: 300_000))
        let first = take(&generator, at: origin + .milliseconds(20))
        #expect(first.map(\.sequenceNumber) == [65_534, 65_535, 0, 1])
        #expect(first.map(\.arrivalTimeUs) == [0, 5_000, 10_000, 12_000])
        #expect(!generator.isDue(now: origin + .milliseconds(21), receivedBitrate: 300_000), "nothing new")

        generator.record(sequence: 4, arrival: origin + .milliseconds(30))
        generator.record(sequence: 1, arrival: origin + .milliseconds(31))  // already reported: late
        #expect(generator.late == 1)
        #expect(!generator.isDue(now: origin + .milliseconds(40), receivedBitrate: 300_000), "50 ms minimum interval")
        let second = take(&generator, at: origin + .milliseconds(80))
        #expect(second.map(\.sequenceNumber) == [2, 3, 4] && second.map(\.isReceived) == [false, false, true])
    }

    @Test("the interval is about 5 % of the received bitrate, within 50...250 ms")
    func interval() {
        let generator = TransportFeedbackGenerator(origin: .now)
        #expect(generator.interval(receivedBitrate: 2_000_000) == .milliseconds(50))
        #expect(generator.interval(receivedBitrate: 50_000) == .microseconds(217_600))
        #expect(generator.interval(receivedBitrate: 10_000) == .milliseconds(250))
        #expect(generator.interval(receivedBitrate: 0) == .milliseconds(250))
    }

    @Test("a jump past the ring restarts the window without losing the new packet")
    func jump() {
        let origin = ContinuousClock.now
        var generator = TransportFeedbackGenerator(origin: origin, capacity: 16)
        generator.record(sequence: 100, arrival: origin)
        generator.record(sequence: 200, arrival: origin + .milliseconds(1))
        #expect(take(&generator, at: origin + .milliseconds(60)).map(\.sequenceNumber) == [200])
    }

    @Test("the relay negotiates transport-cc with a sender and reports every packet it received")
    func relay() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _, _, _) = try harness.visit(room: "twcc", ports: (53_001, 53_002))
        let answer = try SDPParser().parse(citizen.answer)
        #expect(
            answer.media[0].extMaps.map(\.id) == [3] && answer.media[1].extMaps.map(\.id) == [3],
            "the sender's sections"
        )
        #expect(
            answer.media[2].extMaps.map(\.id) == [3],
            "and on what the relay sends: the receiver's feedback drives its estimator"
        )
        #expect(answer.media[1].rtcpFeedback(for: 96).contains { $0.type == "transport-cc" })
        citizen.receivedRTCP.removeAll()
        var sent: [UInt16] = []
        for index in 0..<20 {
            try harness.send(citizen.rtp(video: index % 2 == 0, payload: [1, 2, 3, 4]), from: citizen)
            sent.append(citizen.transportSequence)
            harness.now += .milliseconds(5)
        }
        try harness.tick(.milliseconds(300))
        var reported: [UInt16] = []
        for packet in citizen.receivedRTCP where packet.count >= 20 && packet[1] == 205 && packet[0] & 0x1F == 15 {
            try packet.withUnsafeBytes { raw in
                let view = try RTCPTransportFeedbackView(validating: raw.bytes)
                var packets = view.packets
                while let status = packets.next() {
                    if status.arrivalTimeUs != nil { reported.append(status.sequenceNumber) }
                }
            }
        }
        #expect(reported == sent, "every packet, across the sequence wrap")
        #expect(harness.core.counters.transportFeedbackSent >= 1)
    }

    @Test("turned off, the answer has neither the extension nor the feedback")
    func off() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        harness.core = RelayCore(
            configuration: RelayCoreConfiguration(
                announcedAddress: RelayHarness.relayAddress,
                transportFeedback: false,
                downlinkEstimation: false
            ),
            identity: Self.relayIdentity,
            seed: 1
        )
        let client = try RelayTestClient(port: 53_010, relayFingerprint: Self.relayIdentity.fingerprint, seed: 3)
        let answer = try SDPParser().parse(
            try harness.core.join(room: "off", role: .staff, offer: client.offer(slots: 1), now: harness.now).answerSDP
        )
        #expect(
            answer.media.allSatisfy { $0.extMaps.isEmpty && !$0.rtcpFeedback().contains { $0.type == "transport-cc" } }
        )
    }

    @Test(
        "towards a receiver: forwarded packets carry the relay's own transport-wide numbers, its feedback feeds the estimator, and the sender is capped by REMB at that estimate"
    )
    func downlinkEstimation() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, citizenID, staffID) = try harness.visit(room: "down", ports: (53_021, 53_022))
        staff.received.removeAll()
        staff.receivedTransport.removeAll()
        for index in 0..<40 {
            try harness.send(
                citizen.rtp(video: index % 4 != 0, payload: [UInt8](repeating: 7, count: 900)),
                from: citizen
            )
            harness.now += .milliseconds(10)
        }
        // The relay numbered what it sent staff itself: 1, 2, 3 ... whatever the citizen's numbers were.
        #expect(staff.receivedTransport.map(\.sequence) == (1...40).map { UInt16($0) })
        // Staff reports those arrivals, as a browser does.
        try harness.send(staff.transportFeedback(now: harness.now), from: staff)
        #expect(harness.core.counters.transportFeedbackReceived == 1)
        let staffReport = harness.core.report(for: staffID)
        let report = try #require(staffReport)
        #expect(report.downlinkEstimateBps != nil)
        // The citizen, whose only receiver is staff, is capped at staff's estimate.
        citizen.receivedRTCP.removeAll()
        try harness.tick(.milliseconds(10))
        let citizenCap = harness.core.senderCap(citizenID)
        let cap = try #require(citizenCap)
        #expect(cap == UInt64(report.downlinkEstimateBps ?? 0))
        let rembs = citizen.receivedRTCP.filter { $0.count >= 16 && $0[1] == 206 && $0[0] & 0x1F == 15 }
        #expect(!rembs.isEmpty, "a REMB went to the sender")
    }
}
