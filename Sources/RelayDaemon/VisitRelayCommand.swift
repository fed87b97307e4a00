import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import NIOSSL
import Logging
import MediaCore
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// `visit-relay`: the VisitRelay daemon. With no arguments it runs on its embedded defaults: the web
/// client and signaling on http://127.0.0.1:8080, media on UDP and ICE-TCP 127.0.0.1:40000.
@main
struct VisitRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visit-relay",
        abstract: "WebRTC media relay (SFU) for municipal video visits.",
        version: MediaCore.version,
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// `visit-relay check-config PATH`: reads a configuration file (and the `VISITRELAY_*` environment)
/// the way the daemon would, prints the first problem with its line and key, and exits non-zero.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Check a configuration file and exit (non-zero on the first error).")

    @Argument(help: "The YAML configuration file.")
    var path: String

    func run() async throws {
        do {
            print(try await Self.check(path: path, environment: ProcessInfo.processInfo.environment))
        } catch {
            FileHandle.standardError.write(Data("visit-relay: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension CheckConfigCommand {
    /// Loads the file as `serve` does and reads every file it names (token keys, TURN secret, admin
    /// token, TLS certificate and key, through `runtimeFiles`), so a file `serve` would refuse is
    /// refused here too. Returns the line printed on success.
    static func check(path: String, environment: [String: String]) async throws(ConfigurationError) -> String {
        let configuration = try RelayConfiguration.load(path: path, environment: environment)
        _ = try await configuration.runtimeFiles()
        return "\(path): ok (\(configuration.workers) worker(s), http \(configuration.httpListen), media \(configuration.udp))"
    }
}

/// Runs the relay (the default subcommand).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the relay (the default).")

    @Option(help: "YAML configuration file (see README: Configuration). Without it, the embedded defaults.")
    var config: String?

    @Option(help: "Override http.listen: signaling and web client address (host:port).")
    var http: String?

    @Option(help: "Override media.udp: UDP media base address (host:port); worker i binds port+i.")
    var udp: String?

    @Option(help: "Override media.workers.")
    var workers: Int?

    @Option(help: "Override media.announce: addresses announced as UDP candidates, one host:port ([IPv6]:port) per worker, comma-separated.")
    var announceAddress: String?

    @Option(help: "Override media.tcp: ICE-TCP listen base address (host:port), or off.")
    var tcp: String?

    @Option(help: "Override media.announce_tcp.")
    var announceTcpAddress: String?

    @Option(name: .customLong("turn-url"), help: "Override turn.urls (repeatable).")
    var turnURLs: [String] = []

    @Option(help: "Override turn.secret_file.")
    var turnSecretFile: String?

    @Option(help: "Override turn.ttl_seconds.")
    var turnTtl: String?

    @Option(help: "Override rooms.max_participants.")
    var maxParticipants: Int?

    @Option(help: "Override repair.relay_nack: on or off.")
    var relayNack: String?

    @Option(help: "Override repair.audio: on or off.")
    var audioRepair: String?

    @Option(help: "Override bwe.transport_feedback: on or off.")
    var transportFeedback: String?

    @Option(help: "Override bwe.downlink_estimation: on or off.")
    var downlinkEstimation: String?

    @Option(help: "Override bwe.simulcast: on or off.")
    var simulcast: String?

    @Option(help: "Override web.root: directory of the web client.")
    var webRoot: String?

    /// Command-line overrides as (option, key, value), applied after the file and the environment.
    var overrides: [(String, String, ConfigurationKey.Value)] {
        var list: [(String, String, ConfigurationKey.Value)] = []
        func add(_ option: String, _ key: String, _ text: String?) {
            if let text { list.append((option, key, .scalar(text))) }
        }
        add("--http", "http.listen", http)
        add("--udp", "media.udp", udp)
        add("--workers", "media.workers", workers.map(String.init))
        add("--announce-address", "media.announce", announceAddress)
        add("--tcp", "media.tcp", tcp)
        add("--announce-tcp-address", "media.announce_tcp", announceTcpAddress)
        if !turnURLs.isEmpty { list.append(("--turn-url", "turn.urls", .list(turnURLs))) }
        add("--turn-secret-file", "turn.secret_file", turnSecretFile)
        add("--turn-ttl", "turn.ttl_seconds", turnTtl)
        add("--max-participants", "rooms.max_participants", maxParticipants.map(String.init))
        add("--relay-nack", "repair.relay_nack", relayNack)
        add("--audio-repair", "repair.audio", audioRepair)
        add("--transport-feedback", "bwe.transport_feedback", transportFeedback)
        add("--downlink-estimation", "bwe.downlink_estimation", downlinkEstimation)
        add("--simulcast", "bwe.simulcast", simulcast)
        add("--web-root", "web.root", webRoot)
        return list
    }

    /// The configuration in effect and the files it names, or a validation error naming the file
    /// line, variable or option.
    func resolvedConfiguration() async throws -> (RelayConfiguration, RuntimeSettings.Current) {
        do {
            let settings = try RelayConfiguration.load(path: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
            return (settings, try await settings.runtimeFiles())
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let (settings, files) = try await resolvedConfiguration()
        let (tokens, turn) = (files.tokens, files.turn)
        let runtime = RuntimeSettings(files, logLevel: settings.logLevel)
        // Each new HTTPS connection takes the certificate a reload last read (established ones keep theirs).
        let tls = files.tls.map { RelayConfiguration.tlsConfiguration(initial: $0, current: { runtime.current.tls }) }
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: runtime.logLevel) }
        let logger = Logger(label: "visit-relay")
        let (httpHost, httpPort) = (settings.httpListen.host, settings.httpListen.port)
        let (udpHost, udpPort) = (settings.udp.host, settings.udp.port)
        let workers = settings.workers
        let maxParticipants = settings.maxParticipants
        let tcpBase = settings.tcpListen.map { ($0.host, $0.port) }
        // validate() has checked each is an IP address and port, one per worker.
        let announced = settings.announce.isEmpty ? nil : settings.announce.compactMap(RelayConfiguration.transportAddress)
        let announcedTCP = settings.announceTCP.isEmpty ? nil : settings.announceTCP.compactMap(RelayConfiguration.transportAddress)
        if let config { logger.info("configuration read", metadata: ["path": "\(config)"]) }
        if !tokens.requiresToken {
            logger.warning("joins need no token: allowed because http.listen \(settings.httpListen) is loopback only; set tokens.* before exposing the relay")
        }

        let identity = try DtlsIdentity(commonName: "visit-relay")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: workers)
        var startedWorkers: [MediaWorker] = []
        for index in 0..<workers {
            let bound = TransportAddress(HostPort(host: udpHost, port: udpPort + index).description)
                ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(udpPort + index))
            let boundTCP = tcpBase.map { host, port in
                TransportAddress(HostPort(host: host, port: port + index).description) ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(port + index))
            }
            var coreConfiguration = RelayCoreConfiguration(
                    announcedAddress: announced?[index] ?? bound,
                    announcedTCPAddress: tcpBase == nil ? nil : announcedTCP?[index] ?? boundTCP,
                    maxParticipantsPerRoom: maxParticipants,
                    wallClock: WallClockReference(instant: .now, unixSeconds: Date().timeIntervalSince1970),
                    relayNack: settings.relayNack, transportFeedback: settings.transportFeedback,
                    downlinkEstimation: settings.downlinkEstimation,
                    unknownSourceRate: settings.unknownSourceRate, unknownSourceBurst: settings.unknownSourceBurst)
            coreConfiguration.simulcast = settings.simulcast
            coreConfiguration.audioRepair = settings.audioRepair
            coreConfiguration.srtpRTP = settings.ownSrtp ? .preferOwn : .libsrtp
            let core = RelayCore(
                configuration: coreConfiguration,
                identity: identity, seed: UInt64.random(in: 0...UInt64.max),
                firstParticipantID: UInt64(index) << 48 | 1)
            let worker = MediaWorker(index: index, eventLoop: group.next(), core: core, boundAddress: bound, logger: logger)
            _ = try await worker.start(host: udpHost, port: udpPort + index, socketBufferBytes: settings.socketBufferKiB * 1024,
                                       realtimePriority: settings.realtimePriority)
            if let (tcpHost, tcpPort) = tcpBase { _ = try await worker.startTCP(host: tcpHost, port: tcpPort + index) }
            startedWorkers.append(worker)
        }
        let directory = SessionDirectory()
        let mediaWorkers = startedWorkers
        let metrics = RelayMetrics()
        let limits = LimitController(LimitPolicy(ceilingKbps: settings.limitCeilingKbps, roles: settings.roleLimits))
        for worker in mediaWorkers {
            worker.onEvents = { events, views in
                Task {
                    // A session the relay ended by itself is removed from signaling as a DELETE would
                    // (its WebSocket told `bye` with the reason) before the others see the new room.
                    for case .sessionEnded(let id, let room, let reason) in events {
                        metrics.recordSessionEnd(reason: reason)
                        limits.forget(id)
                        await directory.end(participant: id, reason: reason)
                        logger.info("session ended", metadata: ["participant": "\(id)", "room": "\(room)", "reason": "\(reason.rawValue)"])
                    }
                    for (_, roomViews) in views {
                        for (participant, view) in roomViews {
                            await directory.send(RoomMessage.json(view), to: participant)
                        }
                    }
                }
            }
        }

        let router = Router(context: RelayRequestContext.self)
        let root = settings.webRoot ?? Bundle.module.resourcePath.map { $0 + "/Public" } ?? "Public"
        router.middlewares.add(FileMiddleware(root, searchForIndexHtml: true, logger: logger))
        SignalingRoutes(workers: mediaWorkers, directory: directory, maxParticipants: maxParticipants, simulcast: settings.simulcast, runtime: runtime,
            metrics: metrics, limits: limits,
            joinLimiter: JoinRateLimiter(perAddressPerMinute: settings.joinsPerMinutePerAddress, relayPerSecond: settings.joinsPerSecond),
            logger: logger)
            .register(on: router)
        AdminRoutes(workers: mediaWorkers, directory: directory, limits: limits, runtime: runtime, logger: logger)
            .register(on: router)
        router.get("/r/:room") { _, _ in
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/index.html"))
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }

        let media = MediaService(workers: mediaWorkers, group: group, logger: logger)
        let notifier = SystemdNotifier()
        let drain = DrainService(directory: directory, grace: .seconds(settings.shutdownGraceSeconds), notifier: notifier, logger: logger)
        let overrides = self.overrides
        let configPath = config
        let lifecycle = LifecycleService(
            notifier: notifier, workers: mediaWorkers, runtime: runtime,
            reload: {
                let settings = try RelayConfiguration.load(path: configPath, environment: ProcessInfo.processInfo.environment, overrides: overrides)
                let result = (try await settings.runtimeFiles(), settings)
                // The file's ceiling and role limits replace the running ones; room and participant
                // limits set through the admin API stay.
                limits.update { policy in
                    policy.ceilingKbps = settings.limitCeilingKbps
                    policy.roles = settings.roleLimits
                }
                await limits.apply(to: mediaWorkers, directory: directory)
                return result
            },
            initial: settings, logger: logger)
        let plain: HTTPServerBuilder = .http1WebSocketUpgrade(webSocketRouter: router)
        let server = try tls.map { try HTTPServerBuilder.tls(plain, tlsConfiguration: $0) } ?? plain
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(httpHost, port: httpPort), serverName: "visit-relay"),
            services: [media, lifecycle],
            onServerRunning: { _ in
                notifier.notify("READY=1\nSTATUS=serving\nMAINPID=\(getpid())")
                let udpList = mediaWorkers.map { "\($0.boundAddress)" }.joined(separator: ", ")
                let tcpText = tcpBase.map { host, port in "; ICE-TCP \(host):\(port)\(workers > 1 ? "+" : "")" } ?? "; ICE-TCP off"
                let turnText = turn.map { "; TURN \($0.urls.joined(separator: " "))" } ?? ""
                logger.info(
                    "visit-relay \(MediaCore.version) ready: open \(tls == nil ? "http" : "https")://\(httpHost):\(httpPort)/ (media UDP \(udpList)\(tcpText)\(turnText); DTLS fingerprint \(identity.fingerprint.hex))")
            },
            logger: logger)
        // Graceful shutdown runs in reverse order: first the drain (clients told, joins refused,
        // sessions given the grace period) while signaling and media still run, then the application.
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: drain)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
    }

}

/// Runs the media workers for the application's lifetime and closes their sockets at its end.
struct MediaService: Service {
    let workers: [MediaWorker]
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("stopping media workers")
        for worker in workers { await worker.stop() }
        try await group.shutdownGracefully()
    }
}

/// SIGTERM/SIGINT: tells systemd (`STOPPING=1`) and every client (`bye: draining`), refuses new
/// joins, and waits until the sessions have left or the grace period is over. It is shut down
/// before the application, so signaling and media keep running meanwhile.
struct DrainService: Service {
    let directory: SessionDirectory
    let grace: Duration
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        // Joins are refused before anyone is told the relay stops (a join racing STOPPING=1 gets 503).
        await directory.startDraining()
        notifier.notify("STOPPING=1\nSTATUS=draining")
        logger.info("draining: joins refused, clients told", metadata: ["grace_seconds": "\(grace.components.seconds)"])
        let deadline = ContinuousClock.now + grace
        while await directory.sessionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let left = await directory.sessionCount
        logger.info("drained", metadata: ["sessions_left": "\(left)"])
    }
}
