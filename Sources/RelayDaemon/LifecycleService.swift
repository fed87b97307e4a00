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
    /// Re-reads the configuration (file, environment, command line) for a reload.
    let reload: @Sendable () async throws -> (JoinTokenVerifier, TurnSettings?, RelayConfiguration)
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
            do {
                let (tokens, turn, configuration) = try await reload()
                runtime.replace(tokens: tokens, turn: turn, logLevel: configuration.logLevel)
                for key in Self.restartOnlyDifferences(initial, configuration) {
                    logger.warning("configuration key changed but needs a restart to apply", metadata: ["key": "\(key)"])
                }
                logger.info("configuration reloaded", metadata: ["tokens": "\(tokens.requiresToken ? "required" : "none")"])
            } catch {
                logger.error("configuration reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
            }
            notifier.notify("READY=1\nSTATUS=serving")
        }
    }

    /// Keys whose change a reload cannot apply (sockets and workers are bound at start).
    static func restartOnlyDifferences(_ old: RelayConfiguration, _ new: RelayConfiguration) -> [String] {
        var keys: [String] = []
        if old.httpListen != new.httpListen { keys.append("http.listen") }
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
        if old.transportFeedback != new.transportFeedback { keys.append("bwe.transport_feedback") }
        if old.downlinkEstimation != new.downlinkEstimation { keys.append("bwe.downlink_estimation") }
        if old.simulcast != new.simulcast { keys.append("bwe.simulcast") }
        if old.webRoot != new.webRoot { keys.append("web.root") }
        if old.unknownSourceRate != new.unknownSourceRate { keys.append("security.unknown_source_rate") }
        if old.unknownSourceBurst != new.unknownSourceBurst { keys.append("security.unknown_source_burst") }
        if old.joinsPerMinutePerAddress != new.joinsPerMinutePerAddress { keys.append("security.joins_per_minute") }
        if old.joinsPerSecond != new.joinsPerSecond { keys.append("security.joins_per_second") }
        return keys
    }
}
