/// Why the relay ended a participant's session. The raw value is what signaling sends in the
/// WebSocket's `bye` and what `visitrelay_sessions_ended_total{reason}` counts.
public enum SessionEndReason: String, Sendable, CaseIterable, Equatable {
    /// The client left (`DELETE`).
    case left
    /// A rejoin of the same client named this session as the one it replaces.
    case replaced
    /// ICE or DTLS did not complete within `SessionLifetimeStateMachine.connectTimeout` of the answer.
    case neverConnected = "never-connected"
    /// RFC 7675: no authenticated check for the consent timeout on the selected address.
    case consentExpired = "consent-expired"
    /// The DTLS handshake failed (bad fingerprint, alert) or SRTP could not be keyed from it.
    case dtlsFailed = "dtls-failed"
    /// The peer closed DTLS (close_notify, RFC 5246 §7.2.1): its PeerConnection is gone.
    case dtlsClosed = "dtls-closed"
}

/// The lifetime of one participant's session, sans-I/O: from our answer until its media path is
/// dead, when the relay removes the participant by itself, exactly as a `DELETE` would.
///
/// A session whose client vanished must not hold a seat: a citizen on rural 4G loses the link many
/// times a week, and every outage that ends in a rejoin would otherwise leave the old session in the
/// room for ever (a 4-seat room is then full after a few outages).
///
/// Inputs: the transport's facts (media ready, DTLS failed or closed, consent expired from the
/// `IceLiteAgent`, an ICE restart) and the time. Output: `.end(reason)` once, then nothing.
///
/// Bounds, chosen from what browsers do:
/// - **Connect**: `connectTimeout` (30 s) from the answer until DTLS has keyed SRTP. Chromium and
///   Firefox finish ICE and DTLS in well under a second on a working path (0.2–0.4 s measured in the
///   e2e visits, 1–3 s over the emulated rural link), so 30 s, the same window RFC 7675 gives consent,
///   is long enough for a slow 4G attach and short enough that a seat held by a client that never
///   came is free within the minute. A client that is still trying restarts ICE (a PATCH), which
///   gives it a fresh bound.
/// - **Consent**: RFC 7675 §5.1, 30 s without an authenticated check on the selected address
///   (`IceLiteAgent.consentTimeout`); browsers send a check every few seconds.
/// - **DTLS**: a failed handshake or a close_notify ends the session at once: neither side can
///   key SRTP again without a new PeerConnection.
///
/// After consent expired the session is over, never silently kept: the client is told (`bye`) and
/// rejoins. (The alternative, letting a later check restore media, would leave a "connected" client
/// whose browser has itself given up on the pair after the same 30 s, and a seat held meanwhile.)
public struct SessionLifetimeStateMachine: Sendable, Equatable {
    /// How long after the answer ICE and DTLS may take before the session is given up.
    public static let defaultConnectTimeout: Duration = .seconds(30)

    public enum State: Sendable, Equatable {
        /// Answered; ICE or DTLS not complete. Ends at `deadline`.
        case connecting(deadline: ContinuousClock.Instant)
        /// SRTP keyed: the session lives while consent holds and DTLS stays up.
        case connected
        case ended(SessionEndReason)
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Remove the participant with this reason (once).
        case end(SessionEndReason)
    }

    public let connectTimeout: Duration
    public private(set) var state: State

    /// A session answered at `answeredAt`.
    public init(answeredAt: ContinuousClock.Instant, connectTimeout: Duration = Self.defaultConnectTimeout) {
        self.connectTimeout = connectTimeout
        self.state = .connecting(deadline: answeredAt + connectTimeout)
    }

    /// When the state machine next needs `poll(now:)`, if time alone can end it.
    public var deadline: ContinuousClock.Instant? {
        if case .connecting(let deadline) = state { return deadline }
        return nil
    }

    public var isEnded: Bool {
        if case .ended = state { return true }
        return false
    }

    /// DTLS completed and SRTP is keyed: media can flow.
    public mutating func mediaReady() {
        if case .connecting = state { state = .connected }
    }

    /// The client restarted ICE over signaling (RFC 8445 §9): it is alive and still trying, so a
    /// session that has not connected yet gets a fresh connect bound.
    public mutating func iceRestarted(now: ContinuousClock.Instant) {
        if case .connecting = state { state = .connecting(deadline: now + connectTimeout) }
    }

    /// The ICE agent reports that consent expired on the selected address.
    public mutating func consentExpired() -> Action { end(.consentExpired) }

    public mutating func dtlsFailed() -> Action { end(.dtlsFailed) }

    public mutating func dtlsClosed() -> Action { end(.dtlsClosed) }

    /// Signaling removed the session (`DELETE`, or a rejoin that replaces it).
    public mutating func removed(_ reason: SessionEndReason) -> Action { end(reason) }

    /// Ends a session that has not connected by its deadline.
    public mutating func poll(now: ContinuousClock.Instant) -> Action {
        guard case .connecting(let deadline) = state, now >= deadline else { return .none }
        return end(.neverConnected)
    }

    private mutating func end(_ reason: SessionEndReason) -> Action {
        if case .ended = state { return .none }
        state = .ended(reason)
        return .end(reason)
    }
}
