import ClientPeer
import Testing

@testable import MediaCore

@Suite("Session lifetime: dead sessions end by themselves")
struct SessionLifetimeTests {
    static let relayIdentity = try! DtlsIdentity(commonName: "relay")
    static let start = ContinuousClock.now

    @Test("a session that never connects ends at its connect deadline, not a tick before")
    func connectDeadline() {
        var lifetime = SessionLifetimeStateMachine(answeredAt: Self.start, connectTimeout: .seconds(30))
        #expect(lifetime.deadline == Self.start + .seconds(30))
        #expect(lifetime.poll(now: Self.start + .seconds(29) + .milliseconds(999)) == .none)
        #expect(lifetime.poll(now: Self.start + .seconds(30)) == .end(.neverConnected))
        #expect(lifetime.poll(now: Self.start + .seconds(31)) == .none, "ends once")
        #expect(lifetime.consentExpired() == .none, "an ended session stays ended with its first reason")
        #expect(lifetime.state == .ended(.neverConnected))
    }

    @Test("connected sessions have no deadline; consent loss and DTLS end them")
    func connectedEnds() {
        var lifetime = SessionLifetimeStateMachine(answeredAt: Self.start)
        lifetime.mediaReady()
        #expect(lifetime.deadline == nil)
        #expect(lifetime.poll(now: Self.start + .seconds(3600)) == .none)
        #expect(lifetime.consentExpired() == .end(.consentExpired))

        var closed = SessionLifetimeStateMachine(answeredAt: Self.start)
        closed.mediaReady()
        #expect(closed.dtlsClosed() == .end(.dtlsClosed))
        var failed = SessionLifetimeStateMachine(answeredAt: Self.start)
        #expect(failed.dtlsFailed() == .end(.dtlsFailed))
        var left = SessionLifetimeStateMachine(answeredAt: Self.start)
        #expect(left.removed(.replaced) == .end(.replaced))
        #expect(left.isEnded)
    }

    @Test("an ICE restart before connecting gives a fresh connect bound; after connecting it changes nothing")
    func restartExtends() {
        var lifetime = SessionLifetimeStateMachine(answeredAt: Self.start, connectTimeout: .seconds(30))
        lifetime.iceRestarted(now: Self.start + .seconds(20))
        #expect(lifetime.poll(now: Self.start + .seconds(40)) == .none)
        #expect(lifetime.poll(now: Self.start + .seconds(50)) == .end(.neverConnected))
        var connected = SessionLifetimeStateMachine(answeredAt: Self.start)
        connected.mediaReady()
        connected.iceRestarted(now: Self.start + .seconds(5))
        #expect(connected.state == .connected)
    }

    @Test("four captured Chromium offers that never connect fill a 4-seat room; the seats are free 30 s later")
    func neverConnectedFreesSeats() throws {
        var configuration = RelayCoreConfiguration(
            announcedAddress: RelayHarness.relayAddress,
            maxParticipantsPerRoom: 4
        )
        configuration.connectTimeout = .seconds(30)
        var harness = RelayHarness(identity: Self.relayIdentity, configuration: configuration)
        let offer = try BrowserFixtures.text("chromium-audio-video-offer.sdp")
        var ids: [ParticipantID] = []
        for _ in 0..<4 {
            ids.append(try harness.core.join(room: "full", role: .citizen, offer: offer, now: harness.now).participant)
        }
        #expect(throws: JoinError.roomFull(room: "full", limit: 4)) {
            try harness.core.join(room: "full", role: .citizen, offer: offer, now: harness.now)
        }
        _ = harness.core.takeEvents()
        try harness.tick(.seconds(29))
        #expect(harness.core.members(of: "full").count == 4)
        try harness.tick(.seconds(1))
        let events = harness.core.takeEvents()
        for id in ids { #expect(events.contains(.sessionEnded(id, room: "full", reason: .neverConnected))) }
        #expect(harness.core.members(of: "full").isEmpty && harness.core.roomCount == 0)
        _ = try harness.core.join(room: "full", role: .citizen, offer: offer, now: harness.now)
    }

    @Test("a connected visit outlives the connect bound while consent checks come")
    func connectedVisitStays() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, staff, citizenID, staffID) = try harness.visit(room: "stay", ports: (50_301, 50_302))
        _ = harness.core.takeEvents()
        for _ in 0..<60 {
            try harness.tick(.seconds(1))
            try harness.send(citizen.bindingRequest(useCandidate: false), from: citizen)
            try harness.send(staff.bindingRequest(useCandidate: false), from: staff)
        }
        #expect(!harness.core.takeEvents().contains { if case .sessionEnded = $0 { true } else { false } })
        #expect(harness.core.members(of: "stay") == [citizenID, staffID])
    }

    @Test("a peer that closes DTLS (close_notify) is removed at once")
    func dtlsClosedRemoves() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (citizen, _, citizenID, staffID) = try harness.visit(room: "bye", ports: (50_311, 50_312))
        _ = harness.core.takeEvents()
        citizen.transport.closeDtls()
        while let alert = citizen.transport.takeDtlsOutgoing() { try harness.send(alert, from: citizen) }
        try harness.tick()
        let events = harness.core.takeEvents()
        #expect(events.contains(.sessionEnded(citizenID, room: "bye", reason: .dtlsClosed)))
        #expect(harness.core.members(of: "bye") == [staffID])
    }

    @Test("signaling's leave reports the reason it was given")
    func leaveReportsReason() throws {
        var harness = RelayHarness(identity: Self.relayIdentity)
        let (_, _, citizenID, _) = try harness.visit(room: "rep", ports: (50_321, 50_322))
        _ = harness.core.takeEvents()
        harness.core.leave(citizenID, reason: .replaced, now: harness.now)
        #expect(harness.core.takeEvents().first == .sessionEnded(citizenID, room: "rep", reason: .replaced))
        harness.core.leave(citizenID, now: harness.now)
        #expect(harness.core.takeEvents().isEmpty, "a second leave changes nothing")
    }
}
