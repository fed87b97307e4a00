/// A configuration problem, always naming where it is: the file and line, or the environment
/// variable, and the key.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    enum Source: Equatable, Sendable {
        case file(path: String, line: Int)
        case environment(variable: String)
        case commandLine(option: String)
    }

    var source: Source
    /// The dotted key (`media.workers`), or nil for a syntax error before any key.
    var key: String?
    var message: String

    var description: String {
        let keyText = key.map { "\($0): " } ?? ""
        switch source {
        case .file(let path, let line): return "\(path):\(line): \(keyText)\(message)"
        case .environment(let variable): return "environment \(variable): \(keyText)\(message)"
        // The key too: a file the configuration names (a certificate, a token file) fails here, and
        // the operator must see which key named it.
        case .commandLine(let option): return "\(option): \(keyText)\(message)"
        }
    }
}
