import MediaCore

/// Signaling's view of sessions: the opaque session token a client holds, which worker and
/// participant it names, and the WebSocket (as a message stream) to push room events to.
actor SessionDirectory {
    struct Session {
        let worker: Int
        let participant: ParticipantID
        let room: String
        let role: ParticipantRole
        var events: AsyncStream<String>.Continuation?
    }

    private var sessions: [String: Session] = [:]
    private var byParticipant: [ParticipantID: String] = [:]
    /// Room name → worker index: a room is pinned to the worker that first hosted it.
    private var roomWorkers: [String: Int] = [:]
    private(set) var draining = false

    /// The worker for a room: the one it lives on, or a stable choice by name.
    func worker(forRoom room: String, workers: Int) -> Int {
        if let pinned = roomWorkers[room] { return pinned }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs, unlike Hasher
        for byte in room.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let chosen = Int(hash % UInt64(max(1, workers)))
        roomWorkers[room] = chosen
        return chosen
    }

    func add(token: String, worker: Int, participant: ParticipantID, room: String, role: ParticipantRole) {
        sessions[token] = Session(worker: worker, participant: participant, room: room, role: role)
        byParticipant[participant] = token
    }

    func session(_ token: String) -> Session? { sessions[token] }

    /// The relay ended a participant's session by itself (its media path died): the same removal
    /// as a `DELETE`, with the reason told to the client. Nil if signaling removed it already.
    @discardableResult
    func end(participant: ParticipantID, reason: SessionEndReason) -> Session? {
        guard let token = byParticipant[participant] else { return nil }
        return remove(token: token, reason: reason)
    }

    var sessionCount: Int { sessions.count }

    var allSessions: [Session] { Array(sessions.values) }

    /// Removes a session and tells its WebSocket why (`bye` with the reason), then closes it.
    func remove(token: String, reason: SessionEndReason = .left) -> Session? {
        guard let session = sessions.removeValue(forKey: token) else { return nil }
        byParticipant[session.participant] = nil
        session.events?.yield(SignalingMessage.bye(reason))
        session.events?.finish()
        if !sessions.values.contains(where: { $0.room == session.room }) { roomWorkers[session.room] = nil }
        return session
    }

    /// Attaches a WebSocket's outgoing message stream to a session (replacing an older one).
    /// A client whose WebSocket opens after the drain began (it joined just before SIGTERM) is told
    /// at once: `startDraining` could not reach a session that had no stream yet.
    func attach(token: String, events: AsyncStream<String>.Continuation) -> Bool {
        guard sessions[token] != nil else { return false }
        if let old = sessions[token]?.events {
            old.yield(SignalingMessage.bye(.replaced))
            old.finish()
        }
        sessions[token]?.events = events
        if draining { events.yield(Self.drainingBye) }
        return true
    }

    func detach(token: String) {
        sessions[token]?.events = nil
    }

    /// Sends a text message to a participant's WebSocket, if one is attached.
    func send(_ message: String, to participant: ParticipantID) {
        guard let token = byParticipant[participant] else { return }
        sessions[token]?.events?.yield(message)
    }

    private static let drainingBye = SignalingMessage.text(SignalingMessage.Bye(reason: "draining"))

    /// Stops new joins and tells every client the relay is draining.
    func startDraining() {
        draining = true
        for session in sessions.values {
            session.events?.yield(Self.drainingBye)
        }
    }
}
