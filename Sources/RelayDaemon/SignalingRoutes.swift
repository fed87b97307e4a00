import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import MediaCore
import NIOCore

/// The HTTP API of docs/signaling.md: join, leave, ICE restart, room events, config, health.
struct SignalingRoutes: Sendable {
    static let maxOfferBytes = 64 * 1024
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    let workers: [MediaWorker]
    let directory: SessionDirectory
    let maxParticipants: Int
    /// Whether the relay takes simulcast (`bwe.simulcast`); the web client offers it only then.
    let simulcast: Bool
    let runtime: RuntimeSettings
    let metrics: RelayMetrics
    let limits: LimitController
    let joinLimiter: JoinRateLimiter
    let logger: Logger

    func register(on router: Router<RelayRequestContext>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ in
            var snapshots: [RelayMetrics.WorkerSnapshot] = []
            for worker in workers { snapshots.append(try await worker.metricsSnapshot()) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: metrics.render(snapshots)))
            )
        }
        router.get("/api/config") { request, _ in
            // TURN credentials are issued per request and expire (coturn's use-auth-secret scheme).
            // With join tokens configured they go only to someone invited: the client shows the token
            // for its room and role (`?room=&role=`), as it will when it joins. Without that check
            // anyone could take credentials and use the TURN server as an open relay.
            let current = runtime.current
            if current.tokens.requiresToken {
                guard let room = request.uri.queryParameters.get("room"), !room.isEmpty else {
                    return Self.error(
                        .badRequest,
                        "bad-room",
                        "with join tokens, /api/config needs ?room= and ?role= of the token"
                    )
                }
                guard let role = Self.role(of: request) else { return Self.badRole() }
                do throws(JoinDenial) {
                    try await current.tokens.authorize(
                        authorization: request.headers[.authorization],
                        room: room,
                        role: role
                    )
                } catch {
                    return Self.refusal(error)
                }
            }
            let body = SignalingMessage.ClientConfiguration(
                maxParticipants: maxParticipants,
                simulcast: simulcast,
                iceServers: current.turn.map { [$0.iceServer()] } ?? []
            )
            var response = Self.json(.ok, SignalingMessage.text(body))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.get("/api/stats") { _, _ in
            var stats = RelayStats(workers: [])
            for worker in workers {
                let (counters, tcp, openTCP) = try await worker.counters()
                stats.workers.append(WorkerStats(worker: worker.index, counters: counters, tcp: tcp, openTCP: openTCP))
            }
            return Self.json(.ok, SignalingMessage.text(stats))
        }
        router.post("/api/rooms/:room/participants") { request, context in
            try await join(request: request, context: context)
        }
        router.delete("/api/sessions/:session") { _, context in
            let token = context.parameters.get("session") ?? ""
            guard let session = await directory.remove(token: token) else {
                return Self.error(.notFound, "no-session", "no such session")
            }
            try await workers[session.worker].leave(session.participant, reason: .left)
            return Response(status: .noContent)
        }
        router.patch("/api/sessions/:session") { request, context in
            let token = context.parameters.get("session") ?? ""
            guard let session = await directory.session(token) else {
                return Self.error(.notFound, "no-session", "no such session")
            }
            let offer: String
            do { offer = try await Self.readOffer(request) } catch { return Self.tooLarge() }
            do {
                let answer = try await workers[session.worker].restartIce(session.participant, offer: offer)
                return Self.sdp(.ok, answer)
            } catch let error as JoinError {
                return Self.error(.badRequest, "bad-offer", Self.describe(error))
            }
        }
        router.ws("/api/sessions/:session/events") { _, context in
            let token = context.parameters.get("session") ?? ""
            return await directory.session(token) == nil ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let token = context.requestContext.parameters.get("session") ?? ""
            let (stream, continuation) = AsyncStream<String>.makeStream()
            guard await directory.attach(token: token, events: continuation),
                let session = await directory.session(token)
            else { return }
            if let view = try? await workers[session.worker].roomView(for: session.participant) {
                continuation.yield(SignalingMessage.room(view))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in stream { try await outbound.write(.text(message)) }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 4096) {
                        if case .text(let text) = message, text.contains(#""ping""#) {
                            continuation.yield(SignalingMessage.text(SignalingMessage.Pong()))
                        }
                    }
                    continuation.finish()
                }
                try await group.next()
                group.cancelAll()
            }
            await directory.detach(token: token)
        }
    }

    private func join(request: Request, context: RelayRequestContext) async throws -> Response {
        let room = context.parameters.get("room") ?? ""
        guard Self.isValidRoom(room) else {
            return Self.error(.badRequest, "bad-room", "room names are 1-64 characters of A-Z, a-z, 0-9, _ and -")
        }
        guard let role = Self.role(of: request) else { return Self.badRole() }
        // Limits in this order (README "Signaling limits"): the client address's own budget, then the
        // token, and only then the relay-wide budget, so neither a flooding address nor a failed token
        // spends what every other address's joins need. Room and role checks cost nothing, so they go
        // first; the offer is read only after every limit.
        let client = JoinRateLimiter.client(
            peer: context.remoteAddress,
            forwardedFor: request.headers[Self.forwardedFor]
        )
        if let refusal = joinLimiter.admitAddress(client: client) { return rateLimited(refusal, room: room) }
        do {
            try await runtime.current.tokens.authorize(
                authorization: request.headers[.authorization],
                room: room,
                role: role
            )
        } catch {
            logger.notice("join refused", metadata: ["room": "\(room)", "reason": "\(error.code)"])
            metrics.recordJoin(outcome: error.code)
            return Self.refusal(error)
        }
        guard await !directory.draining else {
            return Self.error(.serviceUnavailable, "draining", "the relay is shutting down; try again shortly")
        }
        if let refusal = joinLimiter.admitRelay() { return rateLimited(refusal, room: room) }
        let offer: String
        do { offer = try await Self.readOffer(request) } catch { return Self.tooLarge() }
        // A rejoin names the session it replaces (`?replaces=`, the token of its own earlier session):
        // that one goes first, so a citizen whose old session is still here never counts twice and
        // never finds the room full of itself. Only the token's holder can name it.
        if let replaced = request.uri.queryParameters.get("replaces").map({ String($0) }),
            let old = await directory.session(replaced), old.room == room,
            await directory.remove(token: replaced, reason: .replaced) != nil
        {
            try? await workers[old.worker].leave(old.participant, reason: .replaced)
            logger.info(
                "session replaced by a rejoin",
                metadata: ["room": "\(room)", "participant": "\(old.participant)"]
            )
        }
        let workerIndex = await directory.worker(forRoom: room, workers: workers.count)
        do {
            let result = try await workers[workerIndex].join(room: room, role: role, offer: offer)
            let token = Self.newToken()
            await directory.add(
                token: token,
                worker: workerIndex,
                participant: result.participant,
                room: room,
                role: role
            )
            await limits.apply(to: workers, directory: directory)
            metrics.recordJoin(outcome: "joined")
            logger.info(
                "participant joined",
                metadata: ["room": "\(room)", "role": "\(role.rawValue)", "participant": "\(result.participant)"]
            )
            var headers = HTTPFields()
            headers[.contentType] = "application/sdp"
            headers[.location] = "/api/sessions/\(token)"
            headers[HTTPField.Name("X-Participant-Id")!] = "\(result.participant)"
            return Response(
                status: .created,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: result.answerSDP))
            )
        } catch let error as JoinError {
            if case .roomFull = error {
                metrics.recordJoin(outcome: "room-full")
                return Self.error(.conflict, "room-full", Self.describe(error))
            }
            metrics.recordJoin(outcome: "bad-offer")
            return Self.error(.badRequest, "bad-offer", Self.describe(error))
        }
    }

    /// 429 with Retry-After for a join over one of `joinLimiter`'s budgets, counted and logged with
    /// the budget that refused it.
    private func rateLimited(_ refusal: JoinRateLimiter.Refusal, room: String) -> Response {
        metrics.recordJoin(outcome: "rate-limited")
        logger.notice(
            "join refused",
            metadata: ["room": "\(room)", "reason": "rate-limited", "limit": "\(refusal.scope.rawValue)"]
        )
        let limit =
            refusal.scope == .address
            ? "\(joinLimiter.perAddressPerMinute) join attempts a minute from one address"
            : "\(joinLimiter.relayPerSecond) join attempts a second"
        var response = Self.error(
            .tooManyRequests,
            "rate-limited",
            "too many joins: the limit is \(limit); retry later"
        )
        response.headers[.retryAfter] = "\(refusal.retryAfterSeconds)"
        return response
    }

    static func isValidRoom(_ room: String) -> Bool {
        !room.isEmpty && room.utf8.count <= 64
            && room.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
                    || c == 0x2D
            }
    }

    static func readOffer(_ request: Request) async throws -> String {
        let buffer = try await request.body.collect(upTo: maxOfferBytes)
        return String(buffer: buffer)
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func describe(_ error: JoinError) -> String {
        switch error {
        case .badOffer(let message): message
        case .roomFull(let room, let limit): "room \(room) already has \(limit) participants"
        case .unknownParticipant(let id): "unknown participant \(id)"
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func sdp(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/sdp"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, SignalingMessage.text(SignalingMessage.ErrorBody(error: code, message: message)))
    }

    /// The participant role a join (or, with tokens, a config request) names in `?role=`.
    static func role(of request: Request) -> ParticipantRole? {
        request.uri.queryParameters.get("role").flatMap { ParticipantRole(rawValue: String($0)) }
    }

    static func badRole() -> Response {
        error(.badRequest, "bad-role", "role must be citizen, staff or interpreter")
    }

    /// A join token refused: 401 with a Bearer challenge (missing, malformed, invalid, expired) or 403
    /// (a valid token for another room or role), with the denial's code and message.
    static func refusal(_ denial: JoinDenial) -> Response {
        var response = error(denial.status == 401 ? .unauthorized : .forbidden, denial.code, denial.message)
        if denial.status == 401 { response.headers[.wwwAuthenticate] = "Bearer realm=\"visit-relay\"" }
        return response
    }

    static func tooLarge() -> Response {
        error(.contentTooLarge, "offer-too-large", "offers are limited to \(maxOfferBytes) bytes")
    }
}
