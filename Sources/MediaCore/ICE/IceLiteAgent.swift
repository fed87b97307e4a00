/// The ICE-lite side of one participant's transport (RFC 8445 §2.5, §7.3 for the responder), sans-I/O.
///
/// The relay never sends checks: browsers (full agents, controlling) check our host candidate, and we
/// answer. This state machine decides what an *authenticated* binding request means; the STUN layer
/// has already verified USERNAME and MESSAGE-INTEGRITY before calling it.
///
/// - A source address becomes *valid* once an authenticated request came from it; only valid addresses
///   may carry DTLS and SRTP (anything else is dropped: nobody outside the visit can inject media).
/// - The *selected* address is where we send. It is the address a request with USE-CANDIDATE came
///   from (nomination, RFC 8445 §7.3.1.5), or before any nomination the first valid address.
/// - A 4G handover or NAT rebinding shows up as authenticated requests from a new address. Media moves
///   there without signaling when the request nominates it, or when the selected address has been
///   silent for `rebindingSilence` (browsers send consent checks every few seconds and do not
///   re-nominate after a rebinding). Before that check comes, SRTP from the new address that
///   authenticates under the participant's keys makes it valid too, and authenticated media from a
///   valid address moves the selection once the selected one has been silent `mediaLatchSilence`.
/// - Consent freshness (RFC 7675 §5.1): sending stops when no authenticated request arrived on the
///   selected address for `consentTimeout` (30 s).
public struct IceLiteAgent: Sendable {
    /// How long the selected address must be silent before a newly valid one takes over.
    public static let defaultRebindingSilence: Duration = .seconds(1)
    /// Most valid addresses remembered per participant; the oldest is forgotten first.
    public static let maxValidAddresses = 8

    public enum State: Equatable, Sendable {
        /// No authenticated check yet.
        case waiting
        /// Sending to the selected address.
        case connected(TransportAddress)
        /// Consent expired; the participant must restart ICE or rejoin.
        case expired
    }

    /// What the caller should do about a request, besides answering it with a success response.
    public enum Change: Equatable, Sendable {
        case none
        /// The selected address is new (first check, nomination or rebinding).
        case selected(TransportAddress)
    }

    public private(set) var local: IceCredentials
    public private(set) var remoteUfrag: String
    public let consentTimeout: Duration
    public let rebindingSilence: Duration
    public private(set) var state: State = .waiting
    /// Times the selected address changed after the first selection.
    public private(set) var addressChanges = 0

    private var valid: [(address: TransportAddress, lastRequest: ContinuousClock.Instant)] = []
    private var lastConsent: ContinuousClock.Instant?
    private var lastReceiveOnSelected: ContinuousClock.Instant?
    private var nominated = false

    public init(
        local: IceCredentials,
        remoteUfrag: String,
        consentTimeout: Duration = .seconds(30),
        rebindingSilence: Duration = IceLiteAgent.defaultRebindingSilence
    ) {
        self.local = local
        self.remoteUfrag = remoteUfrag
        self.consentTimeout = consentTimeout
        self.rebindingSilence = rebindingSilence
    }

    /// The address to send to, if any.
    public var selectedAddress: TransportAddress? {
        if case .connected(let address) = state { return address }
        return nil
    }

    /// The USERNAME an incoming check must carry: "ourUfrag:theirUfrag" (RFC 8445 §7.2.2).
    public var expectedUsername: String { "\(local.ufrag):\(remoteUfrag)" }

    /// True if DTLS or SRTP from `address` may be processed.
    public func isValid(_ address: TransportAddress) -> Bool {
        valid.contains { $0.address == address }
    }

    /// An authenticated binding request arrived from `source`.
    public mutating func handleAuthenticatedRequest(
        from source: TransportAddress,
        useCandidate: Bool,
        now: ContinuousClock.Instant
    ) -> Change {
        if state == .expired { return .none }
        if let index = valid.firstIndex(where: { $0.address == source }) {
            valid[index].lastRequest = now
        } else {
            if valid.count == Self.maxValidAddresses { valid.removeFirst() }
            valid.append((source, now))
        }
        guard let current = selectedAddress else {
            nominated = useCandidate
            return select(source, now: now)
        }
        if current == source {
            lastConsent = now
            if useCandidate { nominated = true }
            return .none
        }
        let silentSince = lastReceiveOnSelected ?? lastConsent ?? now
        if useCandidate || now - silentSince >= rebindingSilence {
            nominated = nominated || useCandidate
            return select(source, now: now)
        }
        return .none
    }

    /// An authenticated DTLS or SRTP packet arrived from `source` (a valid address).
    /// Returns a change when media latches onto a valid address after the selected one fell silent.
    public mutating func noteAuthenticatedPacket(from source: TransportAddress, now: ContinuousClock.Instant) -> Change
    {
        guard let current = selectedAddress else { return .none }
        if current == source {
            lastReceiveOnSelected = now
            return .none
        }
        // Media, unlike a check, flows every 20 ms: 200 ms without it on the selected address is a move.
        let silentSince = lastReceiveOnSelected ?? lastConsent ?? now
        guard isValid(source), now - silentSince >= Self.mediaLatchSilence else { return .none }
        return select(source, now: now)
    }

    /// An SRTP packet from `source`, a new address, authenticated under this participant's keys: the
    /// modem handed over or the NAT rebound, and the browser keeps sending on the pair it nominated
    /// without a new check for seconds. Holding the keys proves the sender (SRTP's replay window
    /// stops an old packet replayed from elsewhere), so the address becomes valid, and media moves
    /// there once the selected address has been silent for `mediaLatchSilence`.
    public mutating func adoptAuthenticatedMediaSource(
        _ source: TransportAddress,
        now: ContinuousClock.Instant
    ) -> Change {
        guard case .connected(let current) = state, current != source else { return .none }
        if !isValid(source) {
            if valid.count == Self.maxValidAddresses { valid.removeFirst() }
            valid.append((source, now))
        }
        let silentSince = lastReceiveOnSelected ?? lastConsent ?? now
        guard now - silentSince >= Self.mediaLatchSilence else { return .none }
        return select(source, now: now)
    }

    /// How long the selected address must be silent before authenticated media from a new one moves it.
    public static let mediaLatchSilence: Duration = .milliseconds(200)

    /// Checks consent freshness; returns true when consent has just expired.
    public mutating func checkConsent(now: ContinuousClock.Instant) -> Bool {
        guard case .connected = state, let lastConsent, now - lastConsent >= consentTimeout else { return false }
        state = .expired
        return true
    }

    /// An ICE restart (RFC 8445 §9): new credentials on both sides. The selected address keeps
    /// carrying media, and checks under the new credentials may select another one.
    public mutating func restart(local: IceCredentials, remoteUfrag: String, now: ContinuousClock.Instant) {
        self.local = local
        self.remoteUfrag = remoteUfrag
        if state == .expired { state = .waiting }
        lastConsent = now
    }

    private mutating func select(_ address: TransportAddress, now: ContinuousClock.Instant) -> Change {
        if case .connected = state { addressChanges += 1 }
        state = .connected(address)
        lastConsent = now
        lastReceiveOnSelected = now
        return .selected(address)
    }
}
