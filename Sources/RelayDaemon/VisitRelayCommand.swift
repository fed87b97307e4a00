import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import MediaCore
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `visit-relay`: the VisitRelay daemon. With no arguments it serves the web client and signaling
/// on http://127.0.0.1:8080 and media on UDP 127.0.0.1:40000.
@main
struct VisitRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visit-relay",
        abstract: "WebRTC media relay (SFU) for municipal video visits.",
        version: MediaCore.version)

    @Option(help: "HTTP listen address for signaling and the web client (host:port).")
    var http = "127.0.0.1:8080"

    @Option(help: "UDP media base address (host:port); worker i binds port+i.")
    var udp = "127.0.0.1:40000"

    @Option(help: "Number of media workers (one event loop and UDP socket each).")
    var workers = 1

    @Option(
        help: "Address(es) announced as ICE candidates, one host:port per worker, comma-separated (behind NAT, or through a link emulator). Default: the bound address.")
    var announceAddress: String?

    @Option(
        help: "ICE-TCP listen base address (host:port; worker i listens on port+i), for browsers whose network blocks UDP. Default: the --udp address. \"off\" disables ICE-TCP.")
    var tcp: String?

    @Option(help: "Address(es) announced as passive ICE-TCP candidates, one host:port per worker (behind NAT). Default: the bound TCP address.")
    var announceTcpAddress: String?

    @Option(
        name: .customLong("turn-url"),
        help: "A TURN server URL handed to web clients, e.g. turns:turn.example.dk:443?transport=tcp (repeatable).")
    var turnURLs: [String] = []

    @Option(help: "File holding the TURN shared secret (coturn's static-auth-secret, use-auth-secret scheme).")
    var turnSecretFile: String?

    @Option(help: "Lifetime of the TURN credentials the relay issues, in seconds.")
    var turnTtl: UInt64 = 4 * 3600

    @Option(help: "Most participants in one room.")
    var maxParticipants = 4

    @Option(help: "Relay-side loss repair (NACK towards senders, retransmissions towards receivers): on or off.")
    var relayNack: Toggle = .on

    enum Toggle: String, ExpressibleByArgument, Sendable { case on, off }

    @Option(help: "Directory of the web client (default: the one built into the binary).")
    var webRoot: String?

    func run() async throws {
        let logger = {
            var logger = Logger(label: "visit-relay")
            logger.logLevel = .info
            return logger
        }()
        let (httpHost, httpPort) = try Self.split(http, option: "--http")
        let (udpHost, udpPort) = try Self.split(udp, option: "--udp")
        guard workers >= 1 && workers <= 64 else { throw ValidationError("--workers must be 1...64") }
        guard maxParticipants >= 2 && maxParticipants <= 8 else { throw ValidationError("--max-participants must be 2...8") }
        let announced = try announceAddress.map { list in
            try list.split(separator: ",").map { entry in
                guard let address = TransportAddress(String(entry)) else {
                    throw ValidationError("--announce-address: \"\(entry)\" is not IPv4 host:port")
                }
                return address
            }
        }
        if let announced, announced.count != workers {
            throw ValidationError("--announce-address needs one address per worker (\(workers))")
        }
        let tcpBase: (String, Int)? = try tcp == "off" ? nil : Self.split(tcp ?? udp, option: "--tcp")
        let announcedTCP = try Self.addressList(announceTcpAddress, option: "--announce-tcp-address", count: workers)
        let turn = try turnSettings()

        let identity = try DtlsIdentity(commonName: "visit-relay")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: workers)
        var startedWorkers: [MediaWorker] = []
        for index in 0..<workers {
            let bound = TransportAddress("\(udpHost):\(udpPort + index)") ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(udpPort + index))
            let boundTCP = tcpBase.map { host, port in
                TransportAddress("\(host):\(port + index)") ?? TransportAddress(ipv4: 0x7F00_0001, port: UInt16(port + index))
            }
            let core = RelayCore(
                configuration: RelayCoreConfiguration(
                    announcedAddress: announced?[index] ?? bound,
                    announcedTCPAddress: tcpBase == nil ? nil : announcedTCP?[index] ?? boundTCP,
                    maxParticipantsPerRoom: maxParticipants,
                    wallClock: WallClockReference(instant: .now, unixSeconds: Date().timeIntervalSince1970),
                    relayNack: relayNack == .on),
                identity: identity, seed: UInt64.random(in: 0...UInt64.max),
                firstParticipantID: UInt64(index) << 48 | 1)
            let worker = MediaWorker(index: index, eventLoop: group.next(), core: core, boundAddress: bound, logger: logger)
            _ = try await worker.start(host: udpHost, port: udpPort + index)
            if let (tcpHost, tcpPort) = tcpBase { _ = try await worker.startTCP(host: tcpHost, port: tcpPort + index) }
            startedWorkers.append(worker)
        }
        let directory = SessionDirectory()
        let mediaWorkers = startedWorkers
        for worker in mediaWorkers {
            worker.onEvents = { events, views in
                Task {
                    for (_, roomViews) in views {
                        for (participant, view) in roomViews {
                            await directory.send(RoomMessage.json(view), to: participant)
                        }
                    }
                    for case .participantDisconnected(let id, let reason) in events {
                        logger.info("participant disconnected", metadata: ["participant": "\(id)", "reason": "\(reason)"])
                    }
                }
            }
        }

        let router = Router(context: BasicWebSocketRequestContext.self)
        let root = webRoot ?? Bundle.module.resourcePath.map { $0 + "/Public" } ?? "Public"
        router.middlewares.add(FileMiddleware(root, searchForIndexHtml: true, logger: logger))
        SignalingRoutes(workers: mediaWorkers, directory: directory, maxParticipants: maxParticipants, turn: turn, logger: logger)
            .register(on: router)
        router.get("/r/:room") { _, _ in
            let data = try Data(contentsOf: URL(fileURLWithPath: root + "/index.html"))
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }

        let media = MediaService(workers: mediaWorkers, directory: directory, group: group, logger: logger)
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(httpHost, port: httpPort), serverName: "visit-relay"),
            services: [media],
            onServerRunning: { _ in
                let udpList = mediaWorkers.map { "\($0.boundAddress)" }.joined(separator: ", ")
                let tcpText = tcpBase.map { host, port in "; ICE-TCP \(host):\(port)\(workers > 1 ? "+" : "")" } ?? "; ICE-TCP off"
                let turnText = turn.map { "; TURN \($0.urls.joined(separator: " "))" } ?? ""
                logger.info(
                    "visit-relay \(MediaCore.version) ready: open http://\(httpHost):\(httpPort)/ (media UDP \(udpList)\(tcpText)\(turnText); DTLS fingerprint \(identity.fingerprint.hex))")
            },
            logger: logger)
        try await app.runService()
    }

    /// The TURN servers and secret for web clients, if any are configured.
    func turnSettings() throws -> TurnSettings? {
        guard !turnURLs.isEmpty else {
            if turnSecretFile != nil { throw ValidationError("--turn-secret-file needs at least one --turn-url") }
            return nil
        }
        for url in turnURLs where !(url.hasPrefix("turn:") || url.hasPrefix("turns:")) {
            throw ValidationError("--turn-url: \"\(url)\" must start with turn: or turns:")
        }
        guard let turnSecretFile else { throw ValidationError("--turn-url needs --turn-secret-file") }
        let secret: String
        do {
            secret = try String(contentsOfFile: turnSecretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ValidationError("--turn-secret-file: cannot read \(turnSecretFile): \(error.localizedDescription)")
        }
        guard secret.count >= 16 else { throw ValidationError("--turn-secret-file: the secret must have at least 16 characters") }
        guard (60...86_400).contains(turnTtl) else { throw ValidationError("--turn-ttl must be 60...86400 seconds") }
        return TurnSettings(urls: turnURLs, secret: secret, lifetimeSeconds: turnTtl)
    }

    static func addressList(_ list: String?, option: String, count: Int) throws -> [TransportAddress]? {
        guard let list else { return nil }
        let addresses = try list.split(separator: ",").map { entry in
            guard let address = TransportAddress(String(entry)) else {
                throw ValidationError("\(option): \"\(entry)\" is not IPv4 host:port")
            }
            return address
        }
        guard addresses.count == count else { throw ValidationError("\(option) needs one address per worker (\(count))") }
        return addresses
    }

    static func split(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw ValidationError("\(option) expects host:port, got \"\(text)\"") }
        return (String(text[..<colon]), port)
    }
}

/// Runs the media workers for the application's lifetime; on SIGTERM/SIGINT tells clients the
/// relay is draining and closes the sockets.
struct MediaService: Service {
    let workers: [MediaWorker]
    let directory: SessionDirectory
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("stopping: draining sessions")
        await directory.startDraining()
        for worker in workers { await worker.stop() }
        try await group.shutdownGracefully()
    }
}
