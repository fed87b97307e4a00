import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Janus's HTTP REST API (https://janus.conf.meetecho.com/docs/rest.html) with the VideoRoom plugin
/// (https://janus.conf.meetecho.com/docs/videoroom.html), as the load harness uses it: a session per
/// participant, a handle for its publisher and one for its subscriptions, rooms created per visit.
///
/// Requests are POSTs to `/janus` (create), `/janus/<session>` (attach, keepalive, destroy) and
/// `/janus/<session>/<handle>` (plugin messages). Synchronous plugin requests (`create`) answer at
/// once with `success`; asynchronous ones (`joinandconfigure`, subscriber `join`, `start`) answer
/// `ack` and deliver their result later as an `event` with the same transaction on the session's
/// long poll (`GET /janus/<session>`). This client polls only while it waits for such an event, so
/// a session carries one request at a time; events that concern nobody (`webrtcup`, `media`) are
/// read and dropped then. Janus drops a session 60 s after its last request (`session_timeout`), so
/// the owner sends `keepalive` every 20 s (`JanusTarget`).
struct JanusVideoRoomClient: Sendable {
    /// The API root, e.g. `http://127.0.0.1:8088/janus`.
    let base: String
    /// How long an asynchronous request may take to produce its event.
    static let eventTimeoutSeconds = 30

    struct Handle: Sendable {
        var session: UInt64
        var id: UInt64
    }

    // MARK: Core API

    func createSession() async throws -> UInt64 {
        let reply = try await post("", janus: "create", request: "create session")
        guard reply.janus == "success", let id = reply.data?.id else {
            throw JanusError.unexpected(reply.janus, request: "create session")
        }
        return id
    }

    func attach(session: UInt64) async throws -> Handle {
        let reply = try await post("/\(session)", janus: "attach", plugin: "janus.plugin.videoroom", request: "attach")
        guard reply.janus == "success", let id = reply.data?.id else {
            throw JanusError.unexpected(reply.janus, request: "attach")
        }
        return Handle(session: session, id: id)
    }

    func keepalive(session: UInt64) async throws {
        _ = try await post("/\(session)", janus: "keepalive", request: "keepalive")
    }

    /// Destroys the session; Janus detaches its handles, which hangs up their PeerConnections and
    /// removes the publisher from its room.
    func destroy(session: UInt64) async {
        _ = try? await post("/\(session)", janus: "destroy", request: "destroy session")
    }

    // MARK: VideoRoom

    /// Creates a room for one visit: VP8 and Opus only, no bitrate cap, no periodic FIR (`fir_freq`
    /// 0: Janus asks for keyframes only when a subscriber needs one).
    func createRoom(_ room: UInt64, publishers: Int, on handle: Handle) async throws {
        let body: JanusJSON = [
            "request": "create", "room": .number(room), "publishers": .number(UInt64(publishers)), "bitrate": 0,
            "bitrate_cap": false, "fir_freq": 0, "audiocodec": "opus", "videocodec": "vp8", "permanent": false,
        ]
        let reply = try await message(body, on: handle, request: "create room \(room)")
        guard reply.plugindata?.data.videoroom == "created" else {
            throw JanusError.unexpected("\(reply)", request: "create room")
        }
    }

    /// Joins `room` as a publisher and publishes our offer in one request (`joinandconfigure`);
    /// returns the feed id subscribers name and Janus's answer.
    func publish(
        room: UInt64,
        display: String,
        offer: String,
        on handle: Handle
    ) async throws -> (feed: UInt64, answer: String) {
        let body: JanusJSON = [
            "request": "joinandconfigure", "ptype": "publisher", "room": .number(room), "display": .string(display),
            "audio": true, "video": true,
        ]
        let request = "joinandconfigure room \(room) as \(display)"
        let reply = try await message(body, jsep: JanusJsep(type: "offer", sdp: offer), on: handle, request: request)
        guard let feed = reply.plugindata?.data.id, let jsep = reply.jsep, jsep.type == "answer" else {
            throw JanusError.unexpected("\(reply)", request: request)
        }
        return (feed, jsep.sdp)
    }

    /// Subscribes to `feeds` on one PeerConnection (VideoRoom multistream `join` with `streams`);
    /// returns Janus's offer.
    func subscribe(room: UInt64, feeds: [UInt64], on handle: Handle) async throws -> String {
        let body: JanusJSON = [
            "request": "join", "ptype": "subscriber", "room": .number(room),
            "streams": .array(feeds.map { ["feed": .number($0)] }),
        ]
        let request = "subscribe to \(feeds) in room \(room)"
        let reply = try await message(body, on: handle, request: request)
        guard reply.plugindata?.data.videoroom == "attached", let jsep = reply.jsep, jsep.type == "offer" else {
            throw JanusError.unexpected("\(reply)", request: request)
        }
        return jsep.sdp
    }

    /// Completes a subscription with our answer (`start`).
    func start(answer: String, on handle: Handle) async throws {
        let reply = try await message(
            ["request": "start"],
            jsep: JanusJsep(type: "answer", sdp: answer),
            on: handle,
            request: "start"
        )
        guard reply.plugindata?.data.videoroom == "event" else {
            throw JanusError.unexpected("\(reply)", request: "start")
        }
    }

    // MARK: Transport

    private struct Envelope: Encodable {
        var janus: String
        var transaction: String
        var plugin: String?
        var body: JanusJSON?
        var jsep: JanusJsep?
    }

    /// A plugin message; waits for the event when Janus acknowledges first. Throws the plugin's
    /// own error (`error_code`, `error`) as `JanusError.videoRoom`.
    private func message(
        _ body: JanusJSON,
        jsep: JanusJsep? = nil,
        on handle: Handle,
        request: String
    ) async throws -> JanusReply {
        let transaction = Self.transaction()
        let envelope = Envelope(janus: "message", transaction: transaction, body: body, jsep: jsep)
        var reply = try await send(envelope, path: "/\(handle.session)/\(handle.id)", request: request)
        if reply.janus == "ack" {
            reply = try await awaitEvent(session: handle.session, transaction: transaction, request: request)
        }
        if let data = reply.plugindata?.data, let code = data.errorCode {
            throw JanusError.videoRoom(code: code, reason: data.error ?? "", request: request)
        }
        return reply
    }

    /// A core request (`janus` names it): create, attach, keepalive, destroy.
    private func post(_ path: String, janus: String, plugin: String? = nil, request: String) async throws -> JanusReply
    {
        let envelope = Envelope(janus: janus, transaction: Self.transaction(), plugin: plugin)
        return try await send(envelope, path: path, request: request)
    }

    private func send(_ envelope: Envelope, path: String, request: String) async throws -> JanusReply {
        var urlRequest = URLRequest(url: URL(string: base + path)!)
        urlRequest.httpMethod = "POST"
        urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        urlRequest.httpBody = try JSONEncoder().encode(envelope)
        let data = try await fetch(urlRequest, path: path)
        let reply = try JSONDecoder().decode(JanusReply.self, from: data)
        if reply.janus == "error", let error = reply.error {
            throw JanusError.janus(code: error.code, reason: error.reason, request: request)
        }
        return reply
    }

    /// Long-polls the session (`maxev`: up to 10 events per answer, as a JSON array) until the event
    /// for `transaction` arrives.
    private func awaitEvent(session: UInt64, transaction: String, request: String) async throws -> JanusReply {
        let deadline = ContinuousClock.now + .seconds(Self.eventTimeoutSeconds)
        while ContinuousClock.now < deadline {
            let path = "/\(session)?maxev=10&rid=\(UInt64.random(in: 0...UInt64(1e15)))"
            var urlRequest = URLRequest(url: URL(string: base + path)!)
            urlRequest.timeoutInterval = 45  // Janus answers an idle poll with a keepalive after 30 s
            let data = try await fetch(urlRequest, path: path)
            let replies: [JanusReply]
            if let many = try? JSONDecoder().decode([JanusReply].self, from: data) {
                replies = many
            } else {
                replies = [try JSONDecoder().decode(JanusReply.self, from: data)]
            }
            if let reply = replies.first(where: { $0.transaction == transaction }) { return reply }
        }
        throw JanusError.noEvent(transaction: transaction, request: request, seconds: Self.eventTimeoutSeconds)
    }

    /// One HTTP exchange. Through the completion-handler API on purpose: FoundationNetworking's
    /// async `data(for:)` traps ("a task that in not in the registry") when the calling task is
    /// cancelled while the request runs, as the keepalive task is when a run ends.
    private func fetch(_ request: URLRequest, path: String) async throws -> Data {
        let (data, status): (Data, Int) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: (data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
                }
            }.resume()
        }
        guard status == 200 else {
            throw JanusError.http(status: status, path: path, body: String(decoding: data, as: UTF8.self))
        }
        return data
    }

    private static func transaction() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }
}
