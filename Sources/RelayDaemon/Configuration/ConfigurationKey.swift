import Foundation
import Logging
import MediaCore

/// One documented configuration key: its dotted path, what it does, its default, and how a value is
/// applied. The table is the single source for the file loader, the environment overrides
/// (`VISITRELAY_` + the path in capitals with `.` as `_`), and the README (a test checks every key is
/// documented there).
struct ConfigurationKey: Sendable {
    /// A scalar or a list, as written in YAML (lists may also be comma-separated scalars).
    enum Value: Sendable {
        case scalar(String)
        case list([String])

        var items: [String] {
            switch self {
            case .scalar(let text):
                text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case .list(let items): items
            }
        }
    }

    let path: String
    let defaultText: String
    let help: String
    /// Applies a value; throws a message (without location: the caller adds it).
    private let applyValue: @Sendable (inout RelayConfiguration, Value) throws -> Void

    struct KeyError: Error { let message: String }

    init(
        path: String,
        defaultText: String,
        help: String,
        apply: @escaping @Sendable (inout RelayConfiguration, Value) throws -> Void
    ) {
        self.path = path
        self.defaultText = defaultText
        self.help = help
        self.applyValue = apply
    }

    /// Applies `value` to `configuration`; the error message has no location (the caller adds it).
    func apply(_ configuration: inout RelayConfiguration, _ value: Value) throws(KeyError) {
        do {
            try applyValue(&configuration, value)
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError(message: "\(error)")
        }
    }

    var environmentVariable: String {
        "VISITRELAY_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// `limits.<role>_up_kbps` or `limits.<role>_down_kbps`.
    static func roleLimit(_ role: ParticipantRole, up: Bool, _ what: String) -> ConfigurationKey {
        .init(
            path: "limits.\(role.rawValue)_\(up ? "up" : "down")_kbps",
            defaultText: "none",
            help: "\(what), kbit/s (32-100000)."
        ) { c, v in
            let kbps = try integer(v, in: KbpsPair.allowed)
            if up {
                c.roleLimits[role, default: KbpsPair()].upKbps = kbps
            } else {
                c.roleLimits[role, default: KbpsPair()].downKbps = kbps
            }
        }
    }

    static let all: [ConfigurationKey] = [
        .init(path: "http.listen", defaultText: "127.0.0.1:8080", help: "Signaling and web client address (host:port).")
        { c, v in
            c.httpListen = try hostPort(v)
        },
        .init(
            path: "http.tls_certificate",
            defaultText: "none (plain HTTP)",
            help: "PEM certificate chain; with http.tls_key, serve HTTPS."
        ) { c, v in
            c.tlsCertificateFile = try scalar(v)
        },
        .init(path: "http.tls_key", defaultText: "none", help: "PEM private key for http.tls_certificate.") { c, v in
            c.tlsKeyFile = try scalar(v)
        },
        .init(path: "media.udp", defaultText: "127.0.0.1:40000", help: "UDP media base address; worker i binds port+i.")
        { c, v in
            c.udp = try hostPort(v)
        },
        .init(path: "media.tcp", defaultText: "the media.udp address", help: "ICE-TCP listen base address, or off.") {
            c,
            v in
            let text = try scalar(v)
            c.tcp = text == "off" ? .off : .listen(try hostPort(.scalar(text)))
        },
        .init(path: "media.workers", defaultText: "1", help: "Media workers (an event loop and socket each), 1-64.") {
            c,
            v in
            c.workers = try integer(v, in: 1...64)
        },
        .init(
            path: "media.socket_buffer_kib",
            defaultText: "4096",
            help:
                "Each worker's UDP receive and send buffer, KiB, 64-65536 (the kernel caps it at net.core.rmem_max and wmem_max)."
        ) { c, v in
            c.socketBufferKiB = try integer(v, in: 64...65_536)
        },
        .init(
            path: "media.realtime_priority",
            defaultText: "0 (normal scheduling)",
            help:
                "SCHED_RR priority of the media worker threads, 1-99, or 0 for the normal scheduler (needs root, CAP_SYS_NICE or LimitRTPRIO)."
        ) { c, v in
            c.realtimePriority = try integer(v, in: 0...RealtimeScheduling.priorities.upperBound)
        },
        .init(
            path: "media.srtp",
            defaultText: "own",
            help: "What protects RTP under AEAD_AES_128_GCM: own (our transform, no allocation per packet) or libsrtp."
        ) { c, v in
            let text = try scalar(v)
            switch text {
            case "own": c.ownSrtp = true
            case "libsrtp": c.ownSrtp = false
            default: throw KeyError(message: "expected own or libsrtp, got \"\(text)\"")
            }
        },
        .init(
            path: "media.announce",
            defaultText: "[] (the bound address)",
            help:
                "Addresses announced as UDP candidates, one host:port per worker; required when media.udp is 0.0.0.0 or [::]."
        ) { c, v in
            c.announce = try addresses(v)
        },
        .init(
            path: "media.announce_tcp",
            defaultText: "[] (the bound address)",
            help:
                "Addresses announced as ICE-TCP candidates, one per worker; required when media.tcp is 0.0.0.0 or [::]."
        ) { c, v in
            c.announceTCP = try addresses(v)
        },
        .init(path: "rooms.max_participants", defaultText: "4", help: "Most participants in one room, 2-8.") { c, v in
            c.maxParticipants = try integer(v, in: 2...8)
        },
        .init(path: "repair.relay_nack", defaultText: "true", help: "Relay-side loss repair (NACK and RTX).") { c, v in
            c.relayNack = try boolean(v)
        },
        .init(
            path: "repair.audio",
            defaultText: "true",
            help: "Audio repair: RED towards receivers that offer it, from their loss; audio NACK and retransmission."
        ) { c, v in
            c.audioRepair = try boolean(v)
        },
        .init(
            path: "bwe.transport_feedback",
            defaultText: "true",
            help: "Transport-wide congestion control feedback to senders (transport-cc)."
        ) { c, v in
            c.transportFeedback = try boolean(v)
        },
        .init(
            path: "bwe.downlink_estimation",
            defaultText: "true",
            help:
                "The relay's own estimate of each receiver's downlink (transport-cc on what it forwards) caps senders via REMB."
        ) { c, v in
            c.downlinkEstimation = try boolean(v)
        },
        .init(
            path: "bwe.simulcast",
            defaultText: "true",
            help:
                "Take simulcast from senders that offer it and forward each receiver the encoding its downlink carries."
        ) { c, v in
            c.simulcast = try boolean(v)
        },
        .init(
            path: "security.unknown_source_rate",
            defaultText: "50",
            help: "Datagrams/s a worker handles from each address no participant has proven, 0-100000 (0: no limit)."
        ) { c, v in
            c.unknownSourceRate = try integer(v, in: 0...100_000)
        },
        .init(
            path: "security.unknown_source_burst",
            defaultText: "100",
            help: "Such datagrams one address may send at once, 1-100000."
        ) { c, v in
            c.unknownSourceBurst = try integer(v, in: 1...100_000)
        },
        .init(
            path: "security.joins_per_minute",
            defaultText: "30",
            help: "Join attempts per client address per minute, 0-100000 (0: no limit); over it: 429."
        ) { c, v in
            c.joinsPerMinutePerAddress = try integer(v, in: 0...100_000)
        },
        .init(
            path: "security.joins_per_second",
            defaultText: "20",
            help: "Join attempts per second for the whole relay, 0-100000 (0: no limit); over it: 429."
        ) { c, v in
            c.joinsPerSecond = try integer(v, in: 0...100_000)
        },
        .init(path: "turn.urls", defaultText: "[]", help: "TURN server URLs for web clients (turn: or turns:).") {
            c,
            v in
            let urls = v.items
            for url in urls where !(url.hasPrefix("turn:") || url.hasPrefix("turns:")) {
                throw KeyError(message: "\"\(url)\" must start with turn: or turns:")
            }
            c.turnURLs = urls
        },
        .init(
            path: "turn.secret_file",
            defaultText: "none",
            help: "File with the TURN shared secret (coturn static-auth-secret)."
        ) { c, v in
            c.turnSecretFile = try scalar(v)
        },
        .init(path: "turn.ttl_seconds", defaultText: "14400", help: "Lifetime of issued TURN credentials, 60-86400 s.")
        { c, v in
            c.turnTTLSeconds = UInt64(try integer(v, in: 60...86_400))
        },
        .init(
            path: "tokens.hs256_secret_file",
            defaultText: "none",
            help: "File with the HS256 secret join tokens are signed with."
        ) { c, v in
            c.tokenSecretFile = try scalar(v)
        },
        .init(
            path: "tokens.es256_public_key_file",
            defaultText: "none",
            help: "PEM file with the ES256 public key join tokens are signed with."
        ) { c, v in
            c.tokenPublicKeyFile = try scalar(v)
        },
        .init(
            path: "limits.ceiling_kbps",
            defaultText: "none",
            help: "Global ceiling on every participant's up and down rate, kbit/s (32-100000)."
        ) { c, v in
            c.limitCeilingKbps = try integer(v, in: KbpsPair.allowed)
        },
        roleLimit(.citizen, up: true, "What a citizen may send"),
        roleLimit(.citizen, up: false, "What a citizen may be sent"),
        roleLimit(.staff, up: true, "What staff may send"),
        roleLimit(.staff, up: false, "What staff may be sent"),
        roleLimit(.interpreter, up: true, "What an interpreter may send"),
        roleLimit(.interpreter, up: false, "What an interpreter may be sent"),
        .init(
            path: "admin.token_file",
            defaultText: "none (admin API off)",
            help: "File with the bearer token of the admin API (/admin/v1)."
        ) { c, v in
            c.adminTokenFile = try scalar(v)
        },
        .init(
            path: "logging.level",
            defaultText: "info",
            help: "trace, debug, info, notice, warning, error or critical."
        ) { c, v in
            let text = try scalar(v)
            guard let level = Logger.Level(rawValue: text) else {
                throw KeyError(
                    message: "expected one of trace, debug, info, notice, warning, error, critical; got \"\(text)\""
                )
            }
            c.logLevel = level
        },
        .init(
            path: "shutdown.grace_seconds",
            defaultText: "10",
            help: "After SIGTERM: seconds sessions may take to leave before the relay exits, 0-300."
        ) { c, v in
            c.shutdownGraceSeconds = try integer(v, in: 0...300)
        },
        .init(path: "web.root", defaultText: "the built-in web client", help: "Directory served as the web client.") {
            c,
            v in
            c.webRoot = try scalar(v)
        },
    ]

    static func named(_ path: String) -> ConfigurationKey? { all.first { $0.path == path } }

    // MARK: Value readers

    static func scalar(_ value: Value) throws(KeyError) -> String {
        guard case .scalar(let text) = value else { throw KeyError(message: "expected a single value, got a list") }
        return text
    }

    static func hostPort(_ value: Value) throws(KeyError) -> HostPort {
        let text = try scalar(value)
        guard let address = HostPort(parsing: text) else {
            throw KeyError(message: "expected host:port, got \"\(text)\"")
        }
        return address
    }

    static func integer(_ value: Value, in range: ClosedRange<Int>) throws(KeyError) -> Int {
        let text = try scalar(value)
        guard let number = Int(text), range.contains(number) else {
            throw KeyError(message: "expected an integer \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    static func boolean(_ value: Value) throws(KeyError) -> Bool {
        let text = try scalar(value)
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw KeyError(message: "expected true or false, got \"\(text)\"")
        }
    }

    static func addresses(_ value: Value) throws(KeyError) -> [String] {
        let items = value.items
        for item in items where HostPort(parsing: item) == nil {
            throw KeyError(message: "expected host:port, got \"\(item)\"")
        }
        return items
    }
}
