import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The daemon's conversation with systemd (`Type=notify`) and its reload: `READY=1` once serving,
/// `RELOADING=1` … `READY=1` around a SIGHUP reload, `WATCHDOG=1` while every media worker's event
/// loop answers. (`STOPPING=1` comes from `DrainService`.)
struct LifecycleService: Service {
    let notifier: SystemdNotifier
    let workers: [MediaWorker]
    let runtime: RuntimeSettings
    /// Re-reads the configuration (file, environment, command line) and the files it names
    /// (`RelayConfiguration.runtimeFiles`) for a reload.
    let reload: @Sendable () async throws -> (RuntimeSettings.Current, RelayConfiguration)
    let initial: RelayConfiguration
    let logger: Logger

    /// A worker whose loop does not answer within this time is unhealthy: no watchdog ping.
    static let healthTimeout: Duration = .seconds(2)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let interval = notifier.watchdogInterval {
                    group.addTask { await watchdog(every: interval / 2) }
                }
                group.addTask { await reloads() }
                await group.waitForAll()
            }
        }
    }

    private func watchdog(every interval: Duration) async {
        while !Task.isCancelled {
            if await healthy() {
                notifier.notify("WATCHDOG=1")
            } else {
                logger.error("a media worker's event loop did not answer: no watchdog ping")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Every worker's event loop runs a trivial task within `healthTimeout`.
    func healthy() async -> Bool {
        for worker in workers {
            let answered = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await worker.eventLoop.submit { true }.get()) ?? false }
                group.addTask {
                    try? await Task.sleep(for: Self.healthTimeout)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !answered { return false }
        }
        return true
    }

    private func reloads() async {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals {
            notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())")
            await reloadOnce()
            notifier.notify("READY=1\nSTATUS=serving")
        }
    }

    /// One SIGHUP: everything is re-read, and applied only if all of it is good. A file that does not
    /// parse, a certificate whose key does not match, or an admin token that is too short refuses the
    /// whole reload with an error naming the key, and the running settings stay (a half-applied reload
    /// would be harder to reason about than none). Keys that need a restart are each named.
    func reloadOnce() async {
        let previous = runtime.current
        do {
            var (reloaded, configuration) = try await reload()
            // Plain HTTP and HTTPS are different servers, bound at start: a reload switches neither
            // way (`restartOnlyDifferences` names it), and an HTTPS server keeps serving a certificate.
            if (previous.tls == nil) != (reloaded.tls == nil) { reloaded.tls = previous.tls }
            runtime.replace(reloaded, logLevel: configuration.logLevel)
            for key in Self.restartOnlyDifferences(initial, configuration) {
                logger.warning("configuration key changed but needs a restart to apply", metadata: ["key": "\(key)"])
            }
            var metadata: Logger.Metadata = [
                "tokens": "\(reloaded.tokens.requiresToken ? "required" : "none")",
                "admin_api": "\(reloaded.adminToken == nil ? "off" : "on")",
            ]
            if let tls = reloaded.tls { metadata["tls_certificate_serial"] = "\(tls.serialHex)" }
            logger.info("configuration reloaded", metadata: metadata)
        } catch {
            logger.error(
                "configuration reload failed; keeping the running configuration",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// Keys a reload applies at once: read per request (tokens, TURN, admin token, limits, log level)
    /// or per new TLS connection (the certificate and key, while HTTPS is on).
    static let reloadableKeys: Set<String> = [
        "http.tls_certificate", "http.tls_key", "turn.urls", "turn.secret_file", "turn.ttl_seconds",
        "tokens.hs256_secret_file", "tokens.es256_public_key_file", "limits.ceiling_kbps",
        "limits.citizen_up_kbps", "limits.citizen_down_kbps", "limits.staff_up_kbps", "limits.staff_down_kbps",
        "limits.interpreter_up_kbps", "limits.interpreter_down_kbps", "admin.token_file", "logging.level",
    ]

    /// Keys whose change a reload cannot apply (sockets and workers are bound at start), as a
    /// reload logs them. Every key of `ConfigurationKey.all` is here or in `reloadableKeys` (a test
    /// checks both lists against the table). The TLS files reload, but turning HTTPS on or off does not.
    static func restartOnlyDifferences(_ old: RelayConfiguration, _ new: RelayConfiguration) -> [String] {
        var keys: [String] = []
        if old.httpListen != new.httpListen { keys.append("http.listen") }
        if (old.tlsCertificateFile == nil) != (new.tlsCertificateFile == nil) { keys.append("http.tls_certificate") }
        if (old.tlsKeyFile == nil) != (new.tlsKeyFile == nil) { keys.append("http.tls_key") }
        if old.udp != new.udp { keys.append("media.udp") }
        if old.tcp != new.tcp { keys.append("media.tcp") }
        if old.workers != new.workers { keys.append("media.workers") }
        if old.socketBufferKiB != new.socketBufferKiB { keys.append("media.socket_buffer_kib") }
        if old.realtimePriority != new.realtimePriority { keys.append("media.realtime_priority") }
        if old.ownSrtp != new.ownSrtp { keys.append("media.srtp") }
        if old.announce != new.announce { keys.append("media.announce") }
        if old.announceTCP != new.announceTCP { keys.append("media.announce_tcp") }
        if old.maxParticipants != new.maxParticipants { keys.append("rooms.max_participants") }
        if old.relayNack != new.relayNack { keys.append("repair.relay_nack") }
        if old.audioRepair != new.audioRepair { keys.append("repair.audio") }
        if old.transportFeedback != new.transportFeedback { keys.append("bwe.transport_feedback") }
        if old.downlinkEstimation != new.downlinkEstimation { keys.append("bwe.downlink_estimation") }
        if old.simulcast != new.simulcast { keys.append("bwe.simulcast") }
        if old.webRoot != new.webRoot { keys.append("web.root") }
        if old.unknownSourceRate != new.unknownSourceRate { keys.append("security.unknown_source_rate") }
        if old.unknownSourceBurst != new.unknownSourceBurst { keys.append("security.unknown_source_burst") }
        if old.joinsPerMinutePerAddress != new.joinsPerMinutePerAddress { keys.append("security.joins_per_minute") }
        if old.joinsPerSecond != new.joinsPerSecond { keys.append("security.joins_per_second") }
        if old.shutdownGraceSeconds != new.shutdownGraceSeconds { keys.append("shutdown.grace_seconds") }
        return keys
    }
}
