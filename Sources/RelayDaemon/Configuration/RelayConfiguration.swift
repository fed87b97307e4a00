import Logging
import MediaCore

/// Everything the daemon reads from its configuration file (YAML), environment and command line.
/// The defaults are the embedded configuration: started with no file, the relay serves loopback only.
///
/// Precedence, lowest first: these defaults, the file (`--config`), `VISITRELAY_*` environment
/// variables, then command-line options. `ConfigurationKey.all` lists every key with its documentation.
struct RelayConfiguration: Sendable, Equatable {
    /// `http.listen`: signaling and the web client.
    var httpListen = HostPort(host: "127.0.0.1", port: 8080)
    /// `http.tls_certificate`, `http.tls_key`: PEM files; both set, signaling and the web client are
    /// served over HTTPS (browsers allow the camera only on secure origins beyond localhost).
    var tlsCertificateFile: String?
    var tlsKeyFile: String?
    /// `media.udp`: the first worker's UDP socket; worker i binds port+i.
    var udp = HostPort(host: "127.0.0.1", port: 40000)
    /// `media.tcp`: the ICE-TCP listener base; nil (`off`) disables ICE-TCP. Unset: the UDP address.
    var tcp: TcpSetting = .sameAsUDP
    /// `media.workers`
    var workers = 1
    /// `media.socket_buffer_kib`: each worker's UDP receive and send buffer.
    var socketBufferKiB = 4096
    /// `media.realtime_priority`: SCHED_RR priority of the worker threads; 0 leaves them to the normal
    /// scheduler (`RealtimeScheduling`).
    var realtimePriority = 0
    /// `media.srtp`: true for our own AES-GCM RTP transform, false for libsrtp throughout.
    var ownSrtp = true
    /// `media.announce`: one host:port per worker, announced instead of the bound UDP address.
    var announce: [String] = []
    /// `media.announce_tcp`
    var announceTCP: [String] = []
    /// `rooms.max_participants`
    var maxParticipants = 4
    /// `repair.relay_nack`
    var relayNack = true
    /// `repair.audio`
    var audioRepair = true
    /// `bwe.transport_feedback`
    var transportFeedback = true
    /// `bwe.downlink_estimation`
    var downlinkEstimation = true
    /// `bwe.simulcast`
    var simulcast = true
    /// `security.unknown_source_rate`, `security.unknown_source_burst`: datagrams per second (and
    /// at once) a worker handles from each address bound to no participant; rate 0 is no limit.
    var unknownSourceRate = 50
    var unknownSourceBurst = 100
    /// `security.joins_per_minute` (per client address), `security.joins_per_second` (the relay); 0 is no limit.
    var joinsPerMinutePerAddress = 30
    var joinsPerSecond = 20
    /// `turn.urls`, `turn.secret_file`, `turn.ttl_seconds`
    var turnURLs: [String] = []
    var turnSecretFile: String?
    var turnTTLSeconds: UInt64 = 4 * 3600
    /// `tokens.hs256_secret_file`, `tokens.es256_public_key_file`: join-token keys. Neither set:
    /// tokenless joins, allowed only while `http.listen` is loopback.
    var tokenSecretFile: String?
    var tokenPublicKeyFile: String?
    /// `limits.*`: the global ceiling and per-role limits, kbit/s.
    var limitCeilingKbps: Int?
    var roleLimits: [ParticipantRole: KbpsPair] = [:]
    /// `admin.token_file`: the bearer token of the admin API; unset, the admin API is off.
    var adminTokenFile: String?
    /// `logging.level`
    var logLevel: Logger.Level = .info
    /// `shutdown.grace_seconds`: after SIGTERM, how long sessions may take to leave before exit.
    var shutdownGraceSeconds = 10
    /// `web.root`: a directory served instead of the built-in web client.
    var webRoot: String?

    enum TcpSetting: Sendable, Equatable {
        case sameAsUDP
        case off
        case listen(HostPort)
    }

    /// The ICE-TCP base address in effect, if ICE-TCP is on.
    var tcpListen: HostPort? {
        switch tcp {
        case .sameAsUDP: udp
        case .off: nil
        case .listen(let address): address
        }
    }
}

/// A `host:port` pair as written in the configuration ("127.0.0.1:40000", "[::1]:8080").
struct HostPort: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; nil when the port is missing or out of range.
    init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for 127.0.0.0/8, ::1 and "localhost": nothing outside this machine can connect.
    var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }

    /// True for the unspecified address, `0.0.0.0` or any spelling of `::` (RFC 4291 §2.5.2): a socket
    /// bound there takes every interface's traffic, but the address itself names no interface a
    /// browser could send to, so it can never be announced as a candidate.
    var isWildcard: Bool {
        host == "0.0.0.0" || (host.contains(":") && host.allSatisfy { $0 == "0" || $0 == ":" })
    }
}
