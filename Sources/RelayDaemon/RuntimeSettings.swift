import Logging
import NIOConcurrencyHelpers

/// The settings that change without a restart (SIGHUP or the admin API): join-token keys, TURN
/// servers and secret, the log level. Signaling reads the current value per request.
final class RuntimeSettings: Sendable {
    struct Current: Sendable {
        var tokens: JoinTokenVerifier
        var turn: TurnSettings?
    }

    private let box: NIOLockedValueBox<Current>
    /// Shared with every `JournalLogHandler`, so a reload changes the level of every logger.
    let logLevel: NIOLockedValueBox<Logger.Level>

    init(tokens: JoinTokenVerifier, turn: TurnSettings?, logLevel: Logger.Level) {
        box = NIOLockedValueBox(Current(tokens: tokens, turn: turn))
        self.logLevel = NIOLockedValueBox(logLevel)
    }

    var current: Current { box.withLockedValue { $0 } }

    func replace(tokens: JoinTokenVerifier, turn: TurnSettings?, logLevel: Logger.Level) {
        box.withLockedValue { $0 = Current(tokens: tokens, turn: turn) }
        self.logLevel.withLockedValue { $0 = logLevel }
    }
}
