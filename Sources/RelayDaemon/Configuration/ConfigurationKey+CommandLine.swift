/// `serve`'s command-line options: each is a configuration key (`ConfigurationKey.all`) under a
/// short name, so its help, its default and how its value is read come from the key's row, and a
/// new option is one line here. Options are applied after the file and the environment.
extension ConfigurationKey {
    /// Option name (without `--`) and the key it sets. `turn.urls` may be given more than once; any
    /// other option given twice takes its last value.
    static let commandLine: [(option: String, path: String)] = [
        ("http", "http.listen"),
        ("udp", "media.udp"),
        ("workers", "media.workers"),
        ("announce-address", "media.announce"),
        ("tcp", "media.tcp"),
        ("announce-tcp-address", "media.announce_tcp"),
        ("turn-url", "turn.urls"),
        ("turn-secret-file", "turn.secret_file"),
        ("turn-ttl", "turn.ttl_seconds"),
        ("max-participants", "rooms.max_participants"),
        ("relay-nack", "repair.relay_nack"),
        ("audio-repair", "repair.audio"),
        ("transport-feedback", "bwe.transport_feedback"),
        ("downlink-estimation", "bwe.downlink_estimation"),
        ("simulcast", "bwe.simulcast"),
        ("web-root", "web.root"),
    ]

    /// Keys whose repeated options make a list instead of replacing each other.
    static let repeatableOptions: Set<String> = ["turn.urls"]

    /// The overrides `arguments` name, as (option, key, value) for `RelayConfiguration.load`:
    /// `--name VALUE` or `--name=VALUE`. An unknown option, or one without a value, is an error
    /// naming it.
    static func overrides(from arguments: [String]) throws(ConfigurationError) -> [(String, String, Value)] {
        var scalars: [(String, String, Value)] = []
        var lists: [(option: String, path: String, items: [String])] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(
                    source: .commandLine(option: argument),
                    key: nil,
                    message: "unexpected argument (options are --name VALUE)"
                )
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let option = "--\(name)"
            guard let path = commandLine.first(where: { $0.option == name })?.path else {
                let known = commandLine.map { "--\($0.option)" }.joined(separator: ", ")
                throw ConfigurationError(
                    source: .commandLine(option: option),
                    key: nil,
                    message: "unknown option; known: --config, \(known)"
                )
            }
            let value: String
            if let equals = body.firstIndex(of: "=") {
                value = String(body[body.index(after: equals)...])
                index += 1
            } else {
                guard index + 1 < arguments.count else {
                    throw ConfigurationError(source: .commandLine(option: option), key: path, message: "needs a value")
                }
                value = arguments[index + 1]
                index += 2
            }
            if repeatableOptions.contains(path) {
                if let at = lists.firstIndex(where: { $0.path == path }) {
                    lists[at].items.append(value)
                } else {
                    lists.append((option, path, [value]))
                }
            } else {
                scalars.removeAll { $0.1 == path }
                scalars.append((option, path, .scalar(value)))
            }
        }
        return scalars + lists.map { ($0.option, $0.path, .list($0.items)) }
    }

    /// The options as `serve --help` lists them, from the keys' own help and defaults.
    static var commandLineHelp: String {
        var lines = ["Each option overrides the configuration key it names (README: Configuration):"]
        for (option, path) in commandLine {
            guard let key = named(path) else { continue }
            let repeatable = repeatableOptions.contains(path) ? " Repeatable." : ""
            lines.append("  --\(option) VALUE  \(path), default \(key.defaultText)")
            lines.append("      \(key.help)\(repeatable)")
        }
        return lines.joined(separator: "\n")
    }
}
