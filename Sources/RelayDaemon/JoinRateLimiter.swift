import Foundation
import MediaCore
import NIOCore
import Synchronization

/// Join-flood limits: each client address may attempt `perAddress` joins a minute (all at once
/// after a quiet minute), and the relay as a whole `perSecond` joins a second. Attempts count before
/// the token is checked, so a flood of bad tokens is limited too. An over-limit join gets 429 with
/// Retry-After and changes nothing.
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

    /// 0 turns a limit off.
    init(perAddressPerMinute: Int, relayPerSecond: Int) {
        self.perAddressPerMinute = perAddressPerMinute
        self.relayPerSecond = relayPerSecond
        let seed = UInt64.random(in: 0...UInt64.max)
        budgets = Mutex(
            Budgets(
                perAddress: SourceRateLimiter(rate: perAddressPerMinute, per: .seconds(60), burst: max(1, perAddressPerMinute), seed: seed),
                relay: SourceRateLimiter(rate: relayPerSecond, burst: max(1, relayPerSecond), slotCount: 1, seed: seed)))
    }

    /// Charges one join attempt from `client` at `now`, or says which budget refused it.
    func admit(client: TransportAddress, now: ContinuousClock.Instant = .now) -> Refusal? {
        budgets.withLock { budgets -> Refusal? in
            if !budgets.relay.admit(Self.relayKey, now: now) {
                return Refusal(retryAfterSeconds: 1, scope: .relay)
            }
            if !budgets.perAddress.admit(client.on(.tcp).withoutPort, now: now) {
                let seconds = perAddressPerMinute > 0 ? max(1, 60 / perAddressPerMinute) : 1
                return Refusal(retryAfterSeconds: seconds, scope: .address)
            }
            return nil
        }
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
        guard let socket = try? SocketAddress(ipAddress: trimmed, port: 0), let address = TransportAddress(socket) else { return nil }
        self = address
    }
}
