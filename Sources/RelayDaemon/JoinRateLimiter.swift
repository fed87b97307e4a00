import Foundation
import MediaCore
import NIOCore
import Synchronization

/// Join-flood limits: each client address may attempt `perAddress` joins a minute (all at once
/// after a quiet minute), and the relay as a whole admits `perSecond` joins a second. An over-limit
/// join gets 429 with Retry-After and changes nothing.
///
/// The two budgets are charged in two steps, so that one address cannot lock out the others: first
/// the address's own budget (`admitAddress`), which counts before the token is checked, so a flood of
/// bad tokens is limited too; then, only for a request that passed its address's budget and its token
/// check, the relay-wide one (`admitRelay`). A flood from one address is therefore cut at that
/// address and a token guesser is refused with 401/403, and neither spends what the relay shares
/// between everyone.
///
/// Behind a reverse proxy on the same host every request comes from loopback; then the client is
/// the last address the proxy appended to X-Forwarded-For. That header is believed from loopback
/// peers only, since anyone else can write it.
final class JoinRateLimiter: Sendable {
    struct Refusal: Error, Equatable {
        /// Whole seconds until the budget that refused has room again (at least 1).
        let retryAfterSeconds: Int
        let scope: Scope
    }

    enum Scope: String, Sendable { case address, relay }

    private struct Budgets: ~Copyable {
        var perAddress: SourceRateLimiter
        var relay: SourceRateLimiter
    }

    let perAddressPerMinute: Int
    let relayPerSecond: Int
    private let budgets: Mutex<Budgets>

    /// Slots of the per-address table. Two addresses hashed to one slot share a budget: with the
    /// media workers' 1024, one address in 1024 would share a flooder's and be refused with it (the
    /// likeliest cause of one failed parallel run of JoinRouteLimitTests). 65,536 slots (about 3 MiB,
    /// once per relay) make that one in 65,536.
    static let addressSlots = 65_536

    /// 0 turns a limit off.
    init(perAddressPerMinute: Int, relayPerSecond: Int) {
        self.perAddressPerMinute = perAddressPerMinute
        self.relayPerSecond = relayPerSecond
        let seed = UInt64.random(in: 0...UInt64.max)
        budgets = Mutex(
            Budgets(
                perAddress: SourceRateLimiter(
                    rate: perAddressPerMinute,
                    per: .seconds(60),
                    burst: max(1, perAddressPerMinute),
                    slotCount: Self.addressSlots,
                    seed: seed
                ),
                relay: SourceRateLimiter(rate: relayPerSecond, burst: max(1, relayPerSecond), slotCount: 1, seed: seed)
            )
        )
    }

    /// Charges one join attempt to `client`'s own budget at `now`, or refuses it (scope `.address`).
    /// Called first, before the token check: what one address sends is paid for by that address.
    func admitAddress(client: TransportAddress, now: ContinuousClock.Instant = .now) -> Refusal? {
        let admitted = budgets.withLock { $0.perAddress.admit(client.on(.tcp).withoutPort, now: now) }
        guard admitted else {
            let seconds = perAddressPerMinute > 0 ? max(1, 60 / perAddressPerMinute) : 1
            return Refusal(retryAfterSeconds: seconds, scope: .address)
        }
        return nil
    }

    /// Charges one join to the relay-wide budget at `now`, or refuses it (scope `.relay`). Called only
    /// for a join that passed `admitAddress` and the token check, so neither a flooding address nor a
    /// failed token can spend the budget every other address's joins depend on.
    func admitRelay(now: ContinuousClock.Instant = .now) -> Refusal? {
        let admitted = budgets.withLock { $0.relay.admit(Self.relayKey, now: now) }
        return admitted ? nil : Refusal(retryAfterSeconds: 1, scope: .relay)
    }

    /// The client a request is from: its peer, or for a loopback peer the last X-Forwarded-For entry.
    static func client(peer: SocketAddress?, forwardedFor: String?) -> TransportAddress {
        let direct = peer.flatMap { TransportAddress($0) } ?? relayKey
        guard direct.isLoopback, let forwardedFor,
            let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces),
            let address = TransportAddress(forwardedHost: last)
        else { return direct }
        return address
    }

    private static let relayKey = TransportAddress(ipv4: 0, port: 0)
}

extension TransportAddress {
    var withoutPort: TransportAddress { TransportAddress(ipv6High: high, low: low, port: 0, transport: transport) }

    var isLoopback: Bool {
        if let v4 = ipv4 { return v4 >> 24 == 127 }
        return high == 0 && low == 1
    }

    /// An address as a proxy writes it in X-Forwarded-For: IPv4 or IPv6 text, no port.
    init?(forwardedHost text: String) {
        let trimmed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard let socket = try? SocketAddress(ipAddress: trimmed, port: 0), let address = TransportAddress(socket)
        else { return nil }
        self = address
    }
}
