/// A JSON value to send to Janus: request bodies are small, plugin-specific objects
/// (https://janus.conf.meetecho.com/docs/videoroom.html), written as literals at the call site.
enum JanusJSON: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case string(String)
    case number(UInt64)
    case bool(Bool)
    case array([JanusJSON])
    case object([String: JanusJSON])

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: UInt64) { self = .number(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JanusJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JanusJSON)...) {
        self = .object(Dictionary(uniqueKeysWithValues: elements))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A session description carried next to a plugin message (Janus REST API, "jsep").
struct JanusJsep: Codable, Sendable {
    var type: String
    var sdp: String
}

/// What Janus sends back, synchronously to a POST or later on the session's long poll
/// (https://janus.conf.meetecho.com/docs/rest.html): `success`, `ack`, `error`, `event`, and
/// transaction-less notifications (`webrtcup`, `media`, `slowlink`, `hangup`, `keepalive`).
struct JanusReply: Decodable, Sendable {
    struct Identifier: Decodable, Sendable { var id: UInt64 }
    struct Failure: Decodable, Sendable {
        var code: Int
        var reason: String
    }
    struct PluginData: Decodable, Sendable { var data: VideoRoomData }
    /// The VideoRoom plugin's part: what happened (`videoroom`), the feed id on `joined`, or an error.
    struct VideoRoomData: Decodable, Sendable {
        var videoroom: String?
        var id: UInt64?
        var errorCode: Int?
        var error: String?
        enum CodingKeys: String, CodingKey {
            case videoroom, id, error
            case errorCode = "error_code"
        }
    }

    var janus: String
    var transaction: String?
    var data: Identifier?
    var error: Failure?
    var plugindata: PluginData?
    var jsep: JanusJsep?
}

/// A failure talking to Janus, with what was asked and what came back.
enum JanusError: Error, CustomStringConvertible {
    case http(status: Int, path: String, body: String)
    case janus(code: Int, reason: String, request: String)
    case videoRoom(code: Int, reason: String, request: String)
    case unexpected(String, request: String)
    case noEvent(transaction: String, request: String, seconds: Int)

    var description: String {
        switch self {
        case .http(let status, let path, let body): "Janus HTTP \(status) on \(path): \(body.prefix(300))"
        case .janus(let code, let reason, let request): "Janus error \(code) (\(reason)) for \(request)"
        case .videoRoom(let code, let reason, let request): "VideoRoom error \(code) (\(reason)) for \(request)"
        case .unexpected(let reply, let request): "unexpected Janus reply to \(request): \(reply.prefix(300))"
        case .noEvent(let transaction, let request, let seconds):
            "no event for transaction \(transaction) (\(request)) within \(seconds) s"
        }
    }
}
