import MediaCore
import Testing

@testable import RelayDaemon

@Suite("session directory: who is told what")
struct SessionDirectoryTests {
    /// Finishes the stream, then returns everything that was yielded on it before.
    static func messages(_ stream: AsyncStream<String>, _ events: AsyncStream<String>.Continuation) async -> [String] {
        events.finish()
        var out: [String] = []
        for await message in stream { out.append(message) }
        return out
    }

    @Test("a client attached before the drain is told; one whose WebSocket opens during the drain is told on attach")
    func drainReachesLateWebSockets() async {
        let directory = SessionDirectory()
        await directory.add(
            token: "early",
            worker: 0,
            participant: ParticipantID(rawValue: 1),
            room: "r",
            role: .citizen
        )
        await directory.add(token: "late", worker: 0, participant: ParticipantID(rawValue: 2), room: "r", role: .staff)
        let (early, earlyEvents) = AsyncStream<String>.makeStream()
        #expect(await directory.attach(token: "early", events: earlyEvents))

        await directory.startDraining()
        let (late, lateEvents) = AsyncStream<String>.makeStream()
        #expect(await directory.attach(token: "late", events: lateEvents))

        let drainingBye = #"{"reason":"draining","type":"bye"}"#
        #expect(await Self.messages(early, earlyEvents) == [drainingBye])
        #expect(await Self.messages(late, lateEvents) == [drainingBye])
    }

    @Test("attaching before any drain sends nothing; an unknown token is refused")
    func attachWithoutDrain() async {
        let directory = SessionDirectory()
        await directory.add(token: "t", worker: 0, participant: ParticipantID(rawValue: 1), room: "r", role: .citizen)
        let (stream, events) = AsyncStream<String>.makeStream()
        #expect(await directory.attach(token: "t", events: events))
        #expect(!(await directory.attach(token: "nobody", events: events)))
        events.yield("marker")
        #expect(await Self.messages(stream, events) == ["marker"])
    }

    @Test("a session the relay ends is removed and its WebSocket told why, once")
    func endTellsReason() async {
        let directory = SessionDirectory()
        let participant = ParticipantID(rawValue: 7)
        await directory.add(token: "t", worker: 0, participant: participant, room: "r", role: .citizen)
        let (stream, events) = AsyncStream<String>.makeStream()
        #expect(await directory.attach(token: "t", events: events))
        #expect(await directory.end(participant: participant, reason: .consentExpired) != nil)
        #expect(await directory.session("t") == nil)
        #expect(await directory.sessionCount == 0)
        #expect(await directory.end(participant: participant, reason: .consentExpired) == nil, "already gone")
        #expect(await Self.messages(stream, events) == [#"{"reason":"consent-expired","type":"bye"}"#])
    }
}
