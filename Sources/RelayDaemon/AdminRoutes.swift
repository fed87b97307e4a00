import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import MediaCore
import NIOCore

/// The admin API under `/admin/v1` (README "Admin API"): rooms and participants with their path
/// quality and rates, and the bitrate limits, readable and settable at runtime. Every request needs
/// `Authorization: Bearer <admin.token_file>`; without that key the API answers 404.
struct AdminRoutes: Sendable {
    let workers: [MediaWorker]
    let directory: SessionDirectory
    let limits: LimitController
    /// Holds the admin bearer token (`adminToken`, nil when the admin API is off), read per request so
    /// that a SIGHUP after the token file changed applies to the next request without a restart.
    let runtime: RuntimeSettings
    let logger: Logger

    struct ParticipantJSON: Codable {
        var id: String
        var role: String
        var connected: Bool
        var connectedForSeconds: Double
        var rttMs: Double?
        var lossUp: Double
        var lossDown: Double
        var bitrateInKbps: Double
        var bitrateOutKbps: Double
        var video: String
        var limits: KbpsPair
        var senderCapKbps: Double?
        /// The relay's estimate of the path towards the participant, and the standing queue it sees there.
        var downlinkEstimateKbps: Double?
        var downlinkQueueMs: Double?
        /// What it receives: `video` (every shown participant's video), `paused` (the allocator paused
        /// at least one: the downlink is below the floor, audio goes on) or `none` (nobody shown).
        var receiving: String
        /// The rids it sends with simulcast, and the rid forwarded to it per slot showing a simulcast sender.
        var simulcastLayers: [String]
        var receivedLayers: [String]
    }

    struct RoomJSON: Codable {
        var room: String
        var worker: Int
        var participants: [ParticipantJSON]
    }

    struct PolicyJSON: Codable {
        var ceilingKbps: Int?
        var roles: [String: KbpsPair]
        var rooms: [String: KbpsPair]
        var participants: [String: KbpsPair]
    }

    func register(on router: Router<RelayRequestContext>) {
        let group = router.group("admin/v1")
        group.get("rooms") { request, _ in
            if let refusal = authorize(request) { return refusal }
            return try await json(rooms())
        }
        group.get("limits") { request, _ in
            if let refusal = authorize(request) { return refusal }
            return try json(policyJSON(limits.current))
        }
        group.put("limits") { request, _ in
            if let refusal = authorize(request) { return refusal }
            struct Body: Codable {
                var ceilingKbps: Int?
                var roles: [String: KbpsPair]?
            }
            let body: Body
            do { body = try await decode(Body.self, request) } catch { return bad("\(error)") }
            var roles: [ParticipantRole: KbpsPair] = [:]
            for (name, pair) in body.roles ?? [:] {
                guard let role = ParticipantRole(rawValue: name) else { return bad("unknown role \(name)") }
                if let problem = pair.problem { return bad("roles.\(name): \(problem)") }
                roles[role] = pair
            }
            if let ceiling = body.ceilingKbps, !KbpsPair.allowed.contains(ceiling) {
                return bad("ceilingKbps out of range: \(ceiling)")
            }
            limits.update { policy in
                policy.ceilingKbps = body.ceilingKbps
                policy.roles = roles
            }
            return try await applied()
        }
        group.put("rooms/:room/limits") { request, context in
            if let refusal = authorize(request) { return refusal }
            let room = context.parameters.get("room") ?? ""
            let pair: KbpsPair
            do { pair = try await decode(KbpsPair.self, request) } catch { return bad("\(error)") }
            if let problem = pair.problem { return bad(problem) }
            limits.update { $0.rooms[room] = pair == KbpsPair() ? nil : pair }
            return try await applied()
        }
        group.put("participants/:id/limits") { request, context in
            if let refusal = authorize(request) { return refusal }
            guard let raw = context.parameters.get("id").flatMap(UInt64.init) else {
                return bad("participant ids are integers")
            }
            let id = ParticipantID(rawValue: raw)
            guard await directory.allSessions.contains(where: { $0.participant == id }) else {
                return SignalingRoutes.error(.notFound, "no-participant", "no participant \(raw)")
            }
            let pair: KbpsPair
            do { pair = try await decode(KbpsPair.self, request) } catch { return bad("\(error)") }
            if let problem = pair.problem { return bad(problem) }
            limits.update { $0.participants[id] = pair == KbpsPair() ? nil : pair }
            return try await applied()
        }
    }

    /// Constant-time comparison of the bearer token; 404 when the API is off, 401 otherwise.
    func authorize(_ request: Request) -> Response? {
        guard let token = runtime.current.adminToken else {
            return SignalingRoutes.error(.notFound, "admin-off", "the admin API is off: set admin.token_file")
        }
        let presented = Array((request.headers[.authorization] ?? "").utf8)
        let expected = Array("Bearer \(token)".utf8)
        var difference = presented.count ^ expected.count
        for i in 0..<expected.count { difference |= Int(expected[i] ^ (i < presented.count ? presented[i] : 0)) }
        guard difference == 0 else {
            var response = SignalingRoutes.error(
                .unauthorized,
                "admin-unauthorized",
                "the admin API needs Authorization: Bearer <admin token>"
            )
            response.headers[.wwwAuthenticate] = "Bearer realm=\"visit-relay-admin\""
            return response
        }
        return nil
    }

    func rooms() async throws -> [RoomJSON] {
        let now = ContinuousClock.now
        var result: [RoomJSON] = []
        for worker in workers {
            let reports = try await worker.participantReports()
            for room in Set(reports.map(\.room)).sorted() {
                let members = reports.filter { $0.room == room }.map { r in
                    ParticipantJSON(
                        id: "\(r.id.rawValue)",
                        role: r.role.rawValue,
                        connected: r.connected,
                        connectedForSeconds: Self.seconds(now - r.joinedAt),
                        rttMs: r.roundTripTime.map { Self.seconds($0) * 1000 },
                        lossUp: r.lossUp,
                        lossDown: r.lossDown,
                        bitrateInKbps: Double(r.bitrateInBps) / 1000,
                        bitrateOutKbps: Double(r.bitrateOutBps) / 1000,
                        video: r.sendsVideo ? "forwarding" : "none",
                        limits: KbpsPair(
                            upKbps: r.limits.upBps.map { Int($0 / 1000) },
                            downKbps: r.limits.downBps.map { Int($0 / 1000) }
                        ),
                        senderCapKbps: r.senderCapBps.map { Double($0) / 1000 },
                        downlinkEstimateKbps: r.downlinkEstimateBps.map { Double($0) / 1000 },
                        downlinkQueueMs: r.downlinkStandingQueueMs.map { ($0 * 10).rounded() / 10 },
                        receiving: r.shownSlots == 0 ? "none" : r.pausedVideoSlots > 0 ? "paused" : "video",
                        simulcastLayers: r.simulcastLayers,
                        receivedLayers: r.receivedLayers
                    )
                }
                result.append(RoomJSON(room: room, worker: worker.index, participants: members))
            }
        }
        return result
    }

    func policyJSON(_ policy: LimitPolicy) -> PolicyJSON {
        PolicyJSON(
            ceilingKbps: policy.ceilingKbps,
            roles: Dictionary(uniqueKeysWithValues: policy.roles.map { ($0.key.rawValue, $0.value) }),
            rooms: policy.rooms,
            participants: Dictionary(uniqueKeysWithValues: policy.participants.map { ("\($0.key.rawValue)", $0.value) })
        )
    }

    /// Pushes the new policy to every running session (effective on each worker's next 10 ms tick)
    /// and answers with the policy now in force.
    func applied() async throws -> Response {
        await limits.apply(to: workers, directory: directory)
        logger.notice("bitrate limits changed")
        return try json(policyJSON(limits.current))
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 16 * 1024)
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }

    func bad(_ message: String) -> Response { SignalingRoutes.error(.badRequest, "bad-limits", message) }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SignalingRoutes.json(.ok, String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
