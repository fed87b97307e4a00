import Foundation
import Logging
import NIOConcurrencyHelpers

/// swift-log to standard output, one structured line per event, for journald: a syslog priority
/// prefix (`<6>`, which journald turns into the entry's priority; sd-daemon(3)), the message, then
/// `key=value` metadata in logfmt. Callers log identifiers (room, role, participant id, reason), never
/// tokens, media or personal data.
struct JournalLogHandler: LogHandler {
    let label: String
    let level: NIOLockedValueBox<Logger.Level>
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { level.withLockedValue { $0 } }
        set { level.withLockedValue { $0 = newValue } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        Self.write(Self.line(level: event.level, message: "\(event.message)", metadata: merged))
    }

    static func line(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = "<\(priority(level))>\(message.replacingOccurrences(of: "\n", with: " "))"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quoted("\(metadata[key]!)"))"
        }
        return line + "\n"
    }

    /// syslog(3) priorities: debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) else {
            return value
        }
        return "\""
            + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private static let output = NIOLockedValueBox(FileHandle.standardOutput)

    static func write(_ line: String) {
        output.withLockedValue { $0.write(Data(line.utf8)) }
    }
}
