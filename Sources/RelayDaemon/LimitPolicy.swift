import MediaCore
import NIOConcurrencyHelpers

/// An up/down pair of limits in kbit/s; nil means "not set at this level".
struct KbpsPair: Codable, Equatable, Sendable {
    var upKbps: Int?
    var downKbps: Int?

    static let allowed = 32...100_000

    /// The first value outside `allowed`, as an error message.
    var problem: String? {
        for (name, value) in [("upKbps", upKbps), ("downKbps", downKbps)] {
            if let value, !Self.allowed.contains(value) {
                return "\(name) must be \(Self.allowed.lowerBound)...\(Self.allowed.upperBound), got \(value)"
            }
        }
        return nil
    }
}

/// The operator's bitrate limits: a global ceiling, per role (from the configuration), per room and
/// per participant (from the admin API). The most specific level that sets a direction wins —
/// participant, then room, then role — and the ceiling caps the result.
struct LimitPolicy: Equatable, Sendable {
    var ceilingKbps: Int?
    var roles: [ParticipantRole: KbpsPair] = [:]
    var rooms: [String: KbpsPair] = [:]
    var participants: [ParticipantID: KbpsPair] = [:]

    func resolve(participant: ParticipantID, room: String, role: ParticipantRole) -> BitrateLimits {
        let levels = [participants[participant], rooms[room], roles[role]]
        func pick(_ value: (KbpsPair) -> Int?) -> UInt64? {
            var chosen: Int?
            for level in levels { if chosen == nil, let level { chosen = value(level) } }
            let capped = [chosen, ceilingKbps].compactMap { $0 }.min()
            return capped.map { UInt64($0) * 1000 }
        }
        return BitrateLimits(upBps: pick(\.upKbps), downBps: pick(\.downKbps))
    }
}

/// Holds the policy and pushes resolved limits to the participants' workers whenever it or the
/// set of participants changes (a join, the admin API, a reload).
final class LimitController: Sendable {
    private let policy: NIOLockedValueBox<LimitPolicy>

    init(_ policy: LimitPolicy) { self.policy = NIOLockedValueBox(policy) }

    var current: LimitPolicy { policy.withLockedValue { $0 } }

    func update(_ change: (inout LimitPolicy) -> Void) {
        policy.withLockedValue { change(&$0) }
    }

    /// Drops a departed participant's own limits (ids are never reused).
    func forget(_ participant: ParticipantID) {
        policy.withLockedValue { _ = $0.participants.removeValue(forKey: participant) }
    }

    /// Resolves every session's limits and hands them to its worker (applied on the next tick).
    func apply(to workers: [MediaWorker], directory: SessionDirectory) async {
        let policy = current
        var byWorker: [Int: [(ParticipantID, BitrateLimits)]] = [:]
        for session in await directory.allSessions {
            byWorker[session.worker, default: []].append(
                (
                    session.participant,
                    policy.resolve(participant: session.participant, room: session.room, role: session.role)
                )
            )
        }
        for (index, changes) in byWorker { try? await workers[index].setLimits(changes) }
    }
}
