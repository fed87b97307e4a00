import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import MediaCore
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// The daemon's composition root, in the shape of Hummingbird's template (`buildApplication`,
/// `buildRouter`): everything `serve` starts is made here from a configuration and the files it
/// names, so the tests build the same relay the daemon runs and drive its routes
/// (`RelayApplicationTests`, with `HummingbirdTesting`). `ServeCommand` only resolves the
/// configuration, sets up logging and runs what this returns.
struct RelayApplication {
    /// Signaling, admin API, web client and media workers (as a service of the application).
    let application: Application<RouterResponder<RelayRequestContext>>
    /// Shut down before `application`, so clients are told and sessions leave while signaling and
    /// media still run.
    let drain: DrainService
    let services: RelayServices
    let logger: Logger

    /// Runs until SIGTERM or SIGINT, then drains and stops.
    func run() async throws {
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [.init(service: application), .init(service: drain)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await serviceGroup.run()
    }
}

/// What every route shares: the media workers and the state signaling keeps beside them.
struct RelayServices: Sendable {
    let workers: [MediaWorker]
    let directory: SessionDirectory
    let runtime: RuntimeSettings
    let metrics: RelayMetrics
    let limits: LimitController
    let joinLimiter: JoinRateLimiter
}

extension RelayApplication {
    /// Builds the relay `settings` describe: binds the media workers (UDP, and ICE-TCP unless off),
    /// wires their events to signaling, and builds the router and the HTTP(S) server.
    /// `runtime` holds the files the configuration names (`RelayConfiguration.runtimeFiles`) and the
    /// log level; `reload` re-reads both on SIGHUP (nil: the same `settings` and files again).
    static func build(
        settings: RelayConfiguration,
        runtime: RuntimeSettings,
        reload: (@Sendable () async throws -> (RelayConfiguration, RuntimeSettings.Current))? = nil,
        logger: Logger
    ) async throws -> RelayApplication {
        let files = runtime.current
        if !files.tokens.requiresToken {
            logger.warning(
                "joins need no token: allowed because http.listen \(settings.httpListen) is loopback only; set tokens.* before exposing the relay"
            )
        }
        let identity = try DtlsIdentity(commonName: "visit-relay")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.workers)
        let workers = try await startMediaWorkers(settings: settings, identity: identity, group: group, logger: logger)
        let services = RelayServices(
            workers: workers,
            directory: SessionDirectory(),
            runtime: runtime,
            metrics: RelayMetrics(),
            limits: LimitController(LimitPolicy(ceilingKbps: settings.limitCeilingKbps, roles: settings.roleLimits)),
            joinLimiter: JoinRateLimiter(
                perAddressPerMinute: settings.joinsPerMinutePerAddress,
                relayPerSecond: settings.joinsPerSecond
            )
        )
        deliverRoomEvents(services, logger: logger)
        let router = buildRouter(services, settings: settings, logger: logger)

        let notifier = SystemdNotifier()
        let limits = services.limits
        let directory = services.directory
        let lifecycle = LifecycleService(
            notifier: notifier,
            workers: workers,
            runtime: runtime,
            reload: {
                let (settings, files) = try await reload?() ?? (settings, files)
                // The file's ceiling and role limits replace the running ones; room and participant
                // limits set through the admin API stay.
                limits.update { policy in
                    policy.ceilingKbps = settings.limitCeilingKbps
                    policy.roles = settings.roleLimits
                }
                await limits.apply(to: workers, directory: directory)
                return (files, settings)
            },
            initial: settings,
            logger: logger
        )
        // Each new HTTPS connection takes the certificate a reload last read (established ones keep theirs).
        let tls = files.tls.map { RelayConfiguration.tlsConfiguration(initial: $0, current: { runtime.current.tls }) }
        let plain: HTTPServerBuilder = .http1WebSocketUpgrade(webSocketRouter: router)
        let server = try tls.map { try HTTPServerBuilder.tls(plain, tlsConfiguration: $0) } ?? plain
        let (httpHost, httpPort) = (settings.httpListen.host, settings.httpListen.port)
        let tcpText = settings.tcpListen.map { "; ICE-TCP \($0)\(settings.workers > 1 ? "+" : "")" } ?? "; ICE-TCP off"
        let turnText = files.turn.map { "; TURN \($0.urls.joined(separator: " "))" } ?? ""
        let application = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(httpHost, port: httpPort), serverName: "visit-relay"),
            services: [MediaService(workers: workers, group: group, logger: logger), lifecycle],
            onServerRunning: { _ in
                notifier.notify("READY=1\nSTATUS=serving\nMAINPID=\(getpid())")
                let udpList = workers.map { "\($0.boundAddress)" }.joined(separator: ", ")
                logger.info(
                    "visit-relay \(MediaCore.version) ready: open \(tls == nil ? "http" : "https")://\(httpHost):\(httpPort)/ (media UDP \(udpList)\(tcpText)\(turnText); DTLS fingerprint \(identity.fingerprint.hex))"
                )
            },
            logger: logger
        )
        let drain = DrainService(
            directory: directory,
            grace: .seconds(settings.shutdownGraceSeconds),
            notifier: notifier,
            logger: logger
        )
        return RelayApplication(application: application, drain: drain, services: services, logger: logger)
    }

    /// One media worker per `media.workers`, each on its own event loop and sockets (worker i binds
    /// port+i), each with its own `RelayCore`.
    static func startMediaWorkers(
        settings: RelayConfiguration,
        identity: DtlsIdentity,
        group: MultiThreadedEventLoopGroup,
        logger: Logger
    ) async throws -> [MediaWorker] {
        let (udpHost, udpPort) = (settings.udp.host, settings.udp.port)
        let tcpBase = settings.tcpListen.map { ($0.host, $0.port) }
        // validate() has checked each is an IP address and port, one per worker.
        let announced =
            settings.announce.isEmpty ? nil : settings.announce.compactMap(RelayConfiguration.transportAddress)
        let announcedTCP =
            settings.announceTCP.isEmpty ? nil : settings.announceTCP.compactMap(RelayConfiguration.transportAddress)
        var workers: [MediaWorker] = []
        for index in 0..<settings.workers {
            let bound =
                TransportAddress(HostPort(host: udpHost, port: udpPort + index).description)
                ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(udpPort + index))
            let boundTCP = tcpBase.map { host, port in
                TransportAddress(HostPort(host: host, port: port + index).description)
                    ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(port + index))
            }
            var coreConfiguration = RelayCoreConfiguration(
                announcedAddress: announced?[index] ?? bound,
                announcedTCPAddress: tcpBase == nil ? nil : announcedTCP?[index] ?? boundTCP,
                maxParticipantsPerRoom: settings.maxParticipants,
                wallClock: WallClockReference(instant: .now, unixSeconds: Date().timeIntervalSince1970),
                relayNack: settings.relayNack,
                transportFeedback: settings.transportFeedback,
                downlinkEstimation: settings.downlinkEstimation,
                unknownSourceRate: settings.unknownSourceRate,
                unknownSourceBurst: settings.unknownSourceBurst
            )
            coreConfiguration.simulcast = settings.simulcast
            coreConfiguration.audioRepair = settings.audioRepair
            coreConfiguration.srtpRTP = settings.ownSrtp ? .preferOwn : .libsrtp
            let core = RelayCore(
                configuration: coreConfiguration,
                identity: identity,
                seed: UInt64.random(in: 0...UInt64.max),
                firstParticipantID: UInt64(index) << 48 | 1
            )
            let worker = MediaWorker(
                index: index,
                eventLoop: group.next(),
                core: core,
                boundAddress: bound,
                logger: logger
            )
            _ = try await worker.start(
                host: udpHost,
                port: udpPort + index,
                socketBufferBytes: settings.socketBufferKiB * 1024,
                realtimePriority: settings.realtimePriority
            )
            if let (tcpHost, tcpPort) = tcpBase { _ = try await worker.startTCP(host: tcpHost, port: tcpPort + index) }
            workers.append(worker)
        }
        return workers
    }

    /// A session the relay ended by itself is removed from signaling as a DELETE would (its WebSocket
    /// told `bye` with the reason) before the others see the new room. One task per worker takes its
    /// batches in the order the worker made them, so room views reach each client in order.
    static func deliverRoomEvents(_ services: RelayServices, logger: Logger) {
        let (directory, metrics, limits) = (services.directory, services.metrics, services.limits)
        for worker in services.workers {
            let (batches, continuation) = AsyncStream<([RelayEvent], [String: [(ParticipantID, RoomView)]])>
                .makeStream()
            worker.onEvents = { events, views in continuation.yield((events, views)) }
            Task {
                for await (events, views) in batches {
                    for case .sessionEnded(let id, let room, let reason) in events {
                        metrics.recordSessionEnd(reason: reason)
                        limits.forget(id)
                        await directory.end(participant: id, reason: reason)
                        logger.info(
                            "session ended",
                            metadata: ["participant": "\(id)", "room": "\(room)", "reason": "\(reason.rawValue)"]
                        )
                    }
                    for (_, roomViews) in views {
                        for (participant, view) in roomViews {
                            await directory.send(SignalingMessage.room(view), to: participant)
                        }
                    }
                }
            }
        }
    }

    /// The routes: the web client (`web.root`, else the bundled one; `/r/<room>` is its page),
    /// signaling (docs/signaling.md) and the admin API.
    static func buildRouter(
        _ services: RelayServices,
        settings: RelayConfiguration,
        logger: Logger
    ) -> Router<RelayRequestContext> {
        let router = Router(context: RelayRequestContext.self)
        let root = settings.webRoot ?? Bundle.module.resourcePath.map { $0 + "/Public" } ?? "Public"
        router.middlewares.add(FileMiddleware(root, searchForIndexHtml: true, logger: logger))
        SignalingRoutes(
            workers: services.workers,
            directory: services.directory,
            maxParticipants: settings.maxParticipants,
            simulcast: settings.simulcast,
            runtime: services.runtime,
            metrics: services.metrics,
            limits: services.limits,
            joinLimiter: services.joinLimiter,
            logger: logger
        ).register(on: router)
        AdminRoutes(
            workers: services.workers,
            directory: services.directory,
            limits: services.limits,
            runtime: services.runtime,
            logger: logger
        )
        .register(on: router)
        router.get("/r/:room") { _, _ in
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/index.html"))
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }
}
