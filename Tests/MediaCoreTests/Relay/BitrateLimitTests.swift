import Testing

@testable import MediaCore

@Suite("Bitrate limits through REMB")
struct BitrateLimitTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")

    /// REMB bitrates (bits/s) among the RTCP packets a client received, in order.
    static func rembs(_ client: RelayTestClient) -> [UInt64] {
        client.receivedRTCP.compactMap { packet in
            guard packet.count >= 20, packet[1] == 206, packet[0] & 0x1F == 15 else { return nil }
            return packet.withUnsafeBytes { raw in
                (try? RTCPReceiverEstimatedMaxBitrateView(validating: raw.bytes))?.bitrateBps
            }
        }
    }

    @Test("a sender is capped at the least of its up limit and its receivers' down limits; lifting it says so")
    func caps() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, citizenID, staffID) = try harness.visit(room: "limits", ports: (52_001, 52_002))
        #expect(citizen.answer.contains("goog-remb"), "the sender's video section negotiates REMB")
        try harness.send(citizen.rtp(video: true, payload: [1, 2, 3]), from: citizen)
        try harness.send(staff.rtp(video: true, payload: [1, 2, 3]), from: staff)
        try harness.tick()
        #expect(Self.rembs(citizen).isEmpty && Self.rembs(staff).isEmpty, "no limits, no REMB")

        harness.core.setBitrateLimits(citizenID, BitrateLimits(upBps: 500_000))
        try harness.tick()
        #expect(Self.rembs(citizen).last.map { $0 <= 500_000 && $0 > 499_000 } == true)
        #expect(Self.rembs(staff).isEmpty)

        // The staff's down limit is lower: it caps the citizen (who sends to the staff).
        harness.core.setBitrateLimits(staffID, BitrateLimits(downBps: 200_000))
        try harness.tick()
        #expect(harness.core.senderCap(citizenID) == 200_000)
        #expect(Self.rembs(citizen).last.map { $0 <= 200_000 && $0 > 199_000 } == true)
        #expect(harness.core.senderCap(staffID) == nil, "a down limit does not cap its own sending")

        // Repeated every second while it applies, not every tick.
        let before = Self.rembs(citizen).count
        try harness.tick(.milliseconds(500))
        #expect(Self.rembs(citizen).count == before)
        try harness.tick(.milliseconds(600))
        #expect(Self.rembs(citizen).count == before + 1)

        harness.core.setBitrateLimits(citizenID, BitrateLimits())
        harness.core.setBitrateLimits(staffID, BitrateLimits())
        try harness.tick()
        #expect(Self.rembs(citizen).last == RelayCore.uncappedBps, "the lift is announced")
        try harness.tick(.seconds(1))
        let afterLift = Self.rembs(citizen).count
        try harness.tick(.seconds(3))
        #expect(Self.rembs(citizen).count == afterLift, "then REMB stops")
    }
}
