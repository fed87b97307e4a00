import Logging
import NIOConcurrencyHelpers

/// The settings that change without a restart (SIGHUP or the admin API): join-token keys, TURN
/// servers and secret, the admin token, the HTTPS certificate and key, the log level. Signaling and
/// the admin API read the current value per request, the HTTPS server per new connection.
final class RuntimeSettings: Sendable {
    /// What `serve` reads from the files the configuration names. A reload reads all of them again
    /// and replaces them together, or (on any error) none of them.
    struct Current: Sendable {
        var tokens: JoinTokenVerifier
        var turn: TurnSettings?
        /// The admin API's bearer token (`admin.token_file`); nil: the admin API is off.
        var adminToken: String? = nil
        /// The HTTPS certificate and key (`http.tls_certificate`, `http.tls_key`); nil: plain HTTP.
        var tls: TLSIdentity? = nil
    }

    private let box: NIOLockedValueBox<Current>
    /// Shared with every `JournalLogHandler`, so a reload changes the level of every logger.
    let logLevel: NIOLockedValueBox<Logger.Level>

    convenience init(tokens: JoinTokenVerifier, turn: TurnSettings?, logLevel: Logger.Level) {
        self.init(Current(tokens: tokens, turn: turn), logLevel: logLevel)
    }

    init(_ current: Current, logLevel: Logger.Level) {
        box = NIOLockedValueBox(current)
        self.logLevel = NIOLockedValueBox(logLevel)
    }

    var current: Current { box.withLockedValue { $0 } }

    func replace(_ current: Current, logLevel: Logger.Level) {
        box.withLockedValue { $0 = current }
        self.logLevel.withLockedValue { $0 = logLevel }
    }
}

extension RelayConfiguration {
    /// Reads every file the configuration names for the running relay (join-token keys, TURN secret,
    /// admin token, HTTPS certificate and key) and checks each the way `serve` uses it. `serve` calls
    /// it at start and on SIGHUP, `check-config` to find the same errors before either.
    func runtimeFiles() async throws(ConfigurationError) -> RuntimeSettings.Current {
        RuntimeSettings.Current(
            tokens: try await joinTokenVerifier(),
            turn: try turnSettings(),
            adminToken: try adminToken(),
            tls: try tlsIdentity()
        )
    }
}
