import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import Logging
import MediaCore
import NIOCore
import Testing

@testable import RelayDaemon

/// The relay `serve` runs, built by its composition root (`RelayApplication.build`) on loopback with
/// the port chosen by the kernel, and driven through HTTP as a client would (`HummingbirdTesting`).
/// The same routes are exercised with real browsers in the e2e suite; here each answer's status,
/// headers and body shape are pinned.
@Suite("Signaling and admin routes of the built relay")
struct RelayApplicationTests {
    static let adminToken = "admin-token-for-tests"
    static let captured = try! String(
        contentsOf: ConfigurationTests.repository.appendingPathComponent(
            "Tests/Fixtures/chromium-audio-video-offer.sdp"
        ),
        encoding: .utf8
    )
    /// The captured Chromium offer with `slots` receive-only audio/video pairs added the way the web
    /// client adds them (one per other participant it can show): copies of its own sections with new
    /// mids, `recvonly`, and no SSRC or track lines.
    static func offer(slots: Int) -> String {
        let lines = captured.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.firstIndex(where: { $0.hasPrefix("m=") }) else { return captured }
        var media: [[String]] = []
        for line in lines[first...] where !line.isEmpty {
            if line.hasPrefix("m=") { media.append([]) }
            media[media.count - 1].append(line)
        }
        var session = Array(lines[..<first])
        var added: [String] = []
        for slot in 0..<slots {
            for (index, section) in media.prefix(2).enumerated() {
                let mid = 2 + 2 * slot + index
                added.append(
                    contentsOf: section.compactMap { line in
                        if line.hasPrefix("a=ssrc") || line.hasPrefix("a=msid") { return nil }
                        if line.hasPrefix("a=mid:") { return "a=mid:\(mid)" }
                        if line == "a=sendrecv" { return "a=recvonly" }
                        return line
                    }
                )
            }
        }
        let mids = (0..<(2 + 2 * slots)).map(String.init).joined(separator: " ")
        session = session.map { $0.hasPrefix("a=group:BUNDLE") ? "a=group:BUNDLE \(mids)" : $0 }
        return (session + media.flatMap { $0 } + added).joined(separator: "\r\n") + "\r\n"
    }

    static func relay(tokenSecret: String? = nil, turn: TurnSettings? = nil) async throws -> RelayApplication {
        var settings = RelayConfiguration()
        settings.udp = HostPort(host: "127.0.0.1", port: 0)
        settings.tcp = .off
        let files = RuntimeSettings.Current(
            tokens: try await JoinTokenVerifier.make(hs256Secret: tokenSecret, es256PublicKeyPEM: nil),
            turn: turn,
            adminToken: adminToken
        )
        return try await RelayApplication.build(
            settings: settings,
            runtime: RuntimeSettings(files, logLevel: .warning),
            logger: Logger(label: "test")
        )
    }

    static var admin: HTTPFields { [.authorization: "Bearer \(adminToken)"] }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    static func join(
        _ client: some TestClientProtocol,
        room: String = "visit-1",
        role: String = "citizen",
        slots: Int = 3
    ) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/rooms/\(room)/participants?role=\(role)",
            method: .post,
            headers: [.contentType: "application/sdp"],
            body: ByteBuffer(string: offer(slots: slots))
        )
    }

    @Test(
        "a join with a Chromium offer is answered (201, SDP, session location); the admin API lists it until it leaves"
    )
    func joinListLeave() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.router) { client in
            let joined = try await Self.join(client)
            #expect(joined.status == .created)
            #expect(joined.headers[.contentType] == "application/sdp")
            let location = try #require(joined.headers[.location])
            #expect(location.hasPrefix("/api/sessions/"))
            let answer = String(buffer: joined.body)
            #expect(answer.hasPrefix("v=0"))
            #expect(answer.contains("a=ice-lite"))
            #expect(answer.contains("a=setup:passive"))
            let participant = try #require(joined.headers[HTTPField.Name("X-Participant-Id")!])

            let rooms = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: Self.admin)
            #expect(rooms.status == .ok)
            let listed = try Self.decode([AdminRoutes.RoomJSON].self, rooms)
            #expect(listed.map(\.room) == ["visit-1"])
            // The admin API names participants by number, signaling (header, room messages) as "p<number>".
            #expect(listed.first?.participants.map { "p\($0.id)" } == [participant])
            #expect(listed.first?.participants.first?.role == "citizen")

            #expect(try await client.execute(uri: location, method: .delete).status == .noContent)
            let again = try await client.execute(uri: location, method: .delete)
            #expect(again.status == .notFound)
            #expect(try Self.decode(SignalingMessage.ErrorBody.self, again).error == "no-session")
            let after = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: Self.admin)
            #expect(try Self.decode([AdminRoutes.RoomJSON].self, after).isEmpty)

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"visitrelay_joins_total{outcome="joined"} 1"#))
        }
    }

    @Test(
        "bad joins get a typed error and add no session",
        arguments: [
            ("/api/rooms/has%20space/participants?role=citizen", "v=0", HTTPResponse.Status.badRequest, "bad-room"),
            ("/api/rooms/visit-1/participants?role=king", "v=0", .badRequest, "bad-role"),
            ("/api/rooms/visit-1/participants?role=staff", "not an offer", .badRequest, "bad-offer"),
            (
                "/api/rooms/visit-1/participants?role=staff", String(repeating: "a", count: 70_000), .contentTooLarge,
                "offer-too-large"
            ),
        ]
    )
    func badJoins(uri: String, body: String, status: HTTPResponse.Status, code: String) async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.router) { client in
            let response = try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body))
            #expect(response.status == status)
            #expect(response.headers[.contentType] == "application/json")
            let error = try Self.decode(SignalingMessage.ErrorBody.self, response)
            #expect(error.error == code)
            #expect(!error.message.isEmpty)
            let rooms = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: Self.admin)
            #expect(try Self.decode([AdminRoutes.RoomJSON].self, rooms).isEmpty)
        }
    }

    @Test(
        "with join tokens, a join without one gets 401 with a Bearer challenge and /api/config needs the token's room"
    )
    func tokensRequired() async throws {
        let relay = try await Self.relay(tokenSecret: JoinRouteLimitTests.secret)
        try await relay.application.test(.router) { client in
            let joined = try await Self.join(client)
            #expect(joined.status == .unauthorized)
            #expect(joined.headers[.wwwAuthenticate] == #"Bearer realm="visit-relay""#)
            let forged = try await client.execute(
                uri: "/api/rooms/visit-1/participants?role=citizen",
                method: .post,
                headers: [.authorization: "Bearer a.b.c"],
                body: ByteBuffer(string: Self.offer(slots: 1))
            )
            #expect(forged.status == .unauthorized)
            #expect(try await client.execute(uri: "/api/config", method: .get).status == .badRequest)
            #expect(
                try await client.execute(uri: "/api/config?room=visit-1&role=staff", method: .get).status
                    == .unauthorized
            )
        }
    }

    @Test("/api/config hands out a TURN credential per request in RTCIceServer shape, never cached")
    func clientConfiguration() async throws {
        let turn = TurnSettings(
            urls: ["turn:127.0.0.1:3478?transport=udp", "turns:relay.example:443"],
            secret: "s3cret",
            lifetimeSeconds: 600
        )
        let relay = try await Self.relay(turn: turn)
        try await relay.application.test(.router) { client in
            let response = try await client.execute(uri: "/api/config", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try Self.decode(SignalingMessage.ClientConfiguration.self, response)
            #expect(body.maxParticipants == 4)
            #expect(body.simulcast)
            let server = try #require(body.iceServers.first)
            #expect(server.urls == turn.urls)
            // coturn's use-auth-secret: "<expiry>:<label>", password = base64(HMAC-SHA1(secret, username)).
            let expiry = try #require(server.username.split(separator: ":").first.flatMap { UInt64($0) })
            #expect(abs(Double(expiry) - Date().timeIntervalSince1970 - 600) < 60)
            let mac = HMAC<Insecure.SHA1>.authenticationCode(
                for: Data(server.username.utf8),
                using: SymmetricKey(data: Data("s3cret".utf8))
            )
            #expect(server.credential == Data(mac).base64EncodedString())
        }
    }

    @Test("the admin API: 401 without the token, 400 naming what is wrong, limits set and read back")
    func adminLimits() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.router) { client in
            let refused = try await client.execute(
                uri: "/admin/v1/limits",
                method: .get,
                headers: [.authorization: "Bearer wrong"]
            )
            #expect(refused.status == .unauthorized)
            #expect(try Self.decode(SignalingMessage.ErrorBody.self, refused).error == "admin-unauthorized")
            #expect(try await client.execute(uri: "/admin/v1/rooms", method: .get).status == .unauthorized)

            let badRole = try await client.execute(
                uri: "/admin/v1/limits",
                method: .put,
                headers: Self.admin,
                body: ByteBuffer(string: #"{"roles":{"king":{"downKbps":500}}}"#)
            )
            #expect(badRole.status == .badRequest)
            #expect(try Self.decode(SignalingMessage.ErrorBody.self, badRole).message.contains("king"))
            let notJSON = try await client.execute(
                uri: "/admin/v1/limits",
                method: .put,
                headers: Self.admin,
                body: ByteBuffer(string: "{")
            )
            #expect(notJSON.status == .badRequest)

            let set = try await client.execute(
                uri: "/admin/v1/limits",
                method: .put,
                headers: Self.admin,
                body: ByteBuffer(string: #"{"ceilingKbps":2000,"roles":{"citizen":{"downKbps":500}}}"#)
            )
            #expect(set.status == .ok)
            let read = try Self.decode(
                AdminRoutes.PolicyJSON.self,
                try await client.execute(uri: "/admin/v1/limits", method: .get, headers: Self.admin)
            )
            #expect(read.ceilingKbps == 2000)
            #expect(read.roles["citizen"]?.downKbps == 500)
            let unknown = try await client.execute(
                uri: "/admin/v1/participants/999/limits",
                method: .put,
                headers: Self.admin,
                body: ByteBuffer(string: "{}")
            )
            #expect(unknown.status == .notFound)
        }
    }

    @Test(
        "ICE restart: PATCH with fresh credentials is answered with the relay's new ones; a bad offer leaves the session"
    )
    func iceRestart() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.router) { client in
            let joined = try await Self.join(client)
            let location = try #require(joined.headers[.location])
            func credentials(_ sdp: String) -> [String] {
                sdp.split(separator: "\r\n").filter { $0.hasPrefix("a=ice-ufrag:") || $0.hasPrefix("a=ice-pwd:") }.map(
                    String.init
                )
            }
            let restartOffer = Self.offer(slots: 3).split(separator: "\r\n", omittingEmptySubsequences: false).map {
                line in
                line.hasPrefix("a=ice-ufrag:")
                    ? "a=ice-ufrag:RsTt"
                    : line.hasPrefix("a=ice-pwd:") ? "a=ice-pwd:restartedpasswordof24chars" : String(line)
            }.joined(separator: "\r\n")
            let restarted = try await client.execute(
                uri: location,
                method: .patch,
                body: ByteBuffer(string: restartOffer)
            )
            #expect(restarted.status == .ok)
            #expect(restarted.headers[.contentType] == "application/sdp")
            let before = Set(credentials(String(buffer: joined.body)))
            let after = Set(credentials(String(buffer: restarted.body)))
            #expect(!after.isEmpty && after.isDisjoint(with: before), "the relay's ICE credentials change on restart")

            let broken = try await client.execute(uri: location, method: .patch, body: ByteBuffer(string: "v=0"))
            #expect(broken.status == .badRequest)
            #expect(try Self.decode(SignalingMessage.ErrorBody.self, broken).error == "bad-offer")
            let unknown = try await client.execute(
                uri: "/api/sessions/nobody",
                method: .patch,
                body: ByteBuffer(string: restartOffer)
            )
            #expect(unknown.status == .notFound)
            let rooms = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: Self.admin)
            #expect(try Self.decode([AdminRoutes.RoomJSON].self, rooms).first?.participants.count == 1)
        }
    }

    @Test("the events WebSocket answers ping with pong, and refuses an unknown session")
    func eventsPing() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.live) { client in
            let location = try #require(try await Self.join(client).headers[.location])
            let received = MessageLog()
            _ = try await client.ws("\(location)/events") { inbound, outbound, _ in
                try await outbound.write(.text(#"{"type":"ping"}"#))
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    guard case .text(let text) = message else { continue }
                    await received.append(text)
                    if text.contains("pong") { return }
                }
            }
            let messages = await received.messages
            #expect(messages.first.map(Self.occupied) == 0, "the room view comes first, on connect")
            #expect(messages.last == #"{"type":"pong"}"#)
            await #expect(throws: (any Error).self) {
                try await client.ws("/api/sessions/nobody/events") { _, _, _ in }
            }
        }
    }

    @Test("/api/stats is one object per worker with its counters; /healthz and the room page answer")
    func statsAndPages() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.router) { client in
            let stats = try Self.decode(RelayStats.self, try await client.execute(uri: "/api/stats", method: .get))
            #expect(stats.workers.map(\.worker) == [0])
            #expect(stats.workers.first?.drops.keys.sorted() == DropReason.allCases.map { "\($0)" }.sorted())
            #expect(String(buffer: try await client.execute(uri: "/healthz", method: .get).body) == "ok\n")
            let page = try await client.execute(uri: "/r/visit-1", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("<html"))
        }
    }

    /// Room views from the worker reach the events WebSocket in the order the worker made them: three
    /// others join and leave one after another, and the first client sees the room fill and empty
    /// again, each message no staler than the one before, the last one the room as it ended.
    @Test("the events WebSocket gets the room's changes in order and bye on leave")
    func roomEventsInOrder() async throws {
        let relay = try await Self.relay()
        try await relay.application.test(.live) { client in
            let first = try #require(try await Self.join(client, role: "citizen").headers[.location])
            let received = MessageLog()
            let socket = Task {
                try await client.ws("\(first)/events") { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard case .text(let text) = message else { continue }
                        await received.append(text)
                        if text.contains(#""type":"bye""#) { return }
                    }
                }
            }
            try await received.wait { $0.count >= 1 }
            // Back to back, without waiting for each view: the views of the four changes are made
            // one after another by the worker and must arrive in that order.
            var others: [String] = []
            for role in ["staff", "interpreter", "staff"] {
                others.append(try #require(try await Self.join(client, role: role).headers[.location]))
            }
            for other in others.reversed() {
                #expect(try await client.execute(uri: other, method: .delete).status == .noContent)
            }
            try await received.wait { $0.last.map(Self.occupied) == 0 && $0.count >= 7 }
            #expect(try await client.execute(uri: first, method: .delete).status == .noContent)
            try await received.wait { $0.last?.contains(#""type":"bye""#) == true }
            _ = try await socket.value
            let rooms = await received.messages.dropLast().map(Self.occupied)
            // 0, 1, 2, 3, then 2, 1, 0: never a view older than one already delivered.
            var peak = false
            for (previous, next) in zip(rooms, rooms.dropFirst()) {
                if next < previous { peak = true }
                #expect(peak ? next <= previous : next >= previous, "room views out of order: \(rooms)")
            }
            #expect(rooms.last == 0)
            let all = await received.messages
            #expect(all.last == #"{"reason":"left","type":"bye"}"#, "messages: \(all)")
        }
    }

    /// A worker hands signaling a burst of room views (as it does when several joins and leaves land
    /// in one tick after another); the session's stream gets every one, in the order made. Before, each
    /// batch went out in a task of its own and a later view could overtake an earlier one.
    @Test("a burst of room views from a worker reaches the session's events in the order the worker made them")
    func roomViewBurstKeepsOrder() async throws {
        let relay = try await Self.relay()
        let (directory, worker) = (relay.services.directory, relay.services.workers[0])
        let me = ParticipantID(rawValue: 7)
        await directory.add(token: "t", worker: 0, participant: me, room: "r", role: .citizen)
        let (stream, continuation) = AsyncStream<String>.makeStream()
        #expect(await directory.attach(token: "t", events: continuation))
        let count = 2000
        for n in 0..<count {
            let slot = RoomSlot(slot: n, audioMid: "a", videoMid: "v", participant: nil, role: nil, videoPaused: false)
            worker.onEvents?(
                [.roomChanged(room: "r")],
                ["r": [(me, RoomView(room: "r", participant: me, role: .citizen, slots: [slot]))]]
            )
        }
        var order: [Int] = []
        for await message in stream {
            let room = try JSONDecoder().decode(SignalingMessage.Room.self, from: Data(message.utf8))
            order.append(room.slots.first?.slot ?? -1)
            if order.count == count { break }
        }
        #expect(order == Array(0..<count))
    }

    static func occupied(_ message: String) -> Int {
        guard let room = try? JSONDecoder().decode(SignalingMessage.Room.self, from: Data(message.utf8)) else {
            return -1
        }
        return room.slots.filter { $0.participant != nil }.count
    }
}

/// What the test's WebSocket received, awaited with a deadline.
actor MessageLog {
    private(set) var messages: [String] = []

    func append(_ message: String) { messages.append(message) }

    nonisolated func wait(timeout: Duration = .seconds(10), until condition: @Sendable ([String]) -> Bool) async throws
    {
        let deadline = ContinuousClock.now + timeout
        while !condition(await messages) {
            guard ContinuousClock.now < deadline else {
                throw MessageLogTimeout(messages: await messages)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct MessageLogTimeout: Error, CustomStringConvertible {
    let messages: [String]
    var description: String { "condition not met within the timeout; received \(messages)" }
}
