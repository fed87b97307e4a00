import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MediaCore
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `visit-relay`: the VisitRelay daemon. With no arguments it runs on its embedded defaults: the web
/// client and signaling on http://127.0.0.1:8080, media on UDP and ICE-TCP 127.0.0.1:40000.
@main
struct VisitRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visit-relay",
        abstract: "WebRTC media relay (SFU) for municipal video visits.",
        version: MediaCore.version,
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

/// `visit-relay check-config PATH`: reads a configuration file (and the `VISITRELAY_*` environment)
/// the way the daemon would, prints the first problem with its line and key, and exits non-zero.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file and exit (non-zero on the first error)."
    )

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
        return
            "\(path): ok (\(configuration.workers) worker(s), http \(configuration.httpListen), media \(configuration.udp))"
    }
}

/// Runs the relay (the default subcommand).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the relay (the default).",
        discussion: ConfigurationKey.commandLineHelp
    )

    @Option(help: "YAML configuration file (see README: Configuration). Without it, the embedded defaults.")
    var config: String?

    /// Every other option is a configuration key's (`ConfigurationKey.commandLine`), read by
    /// `ConfigurationKey.overrides(from:)` so the keys' table is the one place they are defined.
    @Argument(parsing: .allUnrecognized, help: .hidden)
    var overrideArguments: [String] = []

    /// Command-line overrides as (option, key, value), applied after the file and the environment.
    func overrides() throws(ConfigurationError) -> [(String, String, ConfigurationKey.Value)] {
        try ConfigurationKey.overrides(from: overrideArguments)
    }

    /// The configuration in effect and the files it names, or a validation error naming the file
    /// line, variable or option.
    func resolvedConfiguration() async throws -> (RelayConfiguration, RuntimeSettings.Current) {
        do {
            let settings = try RelayConfiguration.load(
                path: config,
                environment: ProcessInfo.processInfo.environment,
                overrides: try overrides()
            )
            return (settings, try await settings.runtimeFiles())
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let (settings, files) = try await resolvedConfiguration()
        let runtime = RuntimeSettings(files, logLevel: settings.logLevel)
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: runtime.logLevel) }
        let logger = Logger(label: "visit-relay")
        if let config { logger.info("configuration read", metadata: ["path": "\(config)"]) }
        let (overrides, configPath) = (try overrides(), config)
        let relay = try await RelayApplication.build(
            settings: settings,
            runtime: runtime,
            reload: {
                let settings = try RelayConfiguration.load(
                    path: configPath,
                    environment: ProcessInfo.processInfo.environment,
                    overrides: overrides
                )
                return (settings, try await settings.runtimeFiles())
            },
            logger: logger
        )
        try await relay.run()
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
