import Foundation
import MediaCore
import Yams

extension RelayConfiguration {
    /// Reads a YAML configuration file over the defaults. Every key must be known; errors name the
    /// file, line and key. A mapping of sections (`media:`) holding keys (`udp: ...`), two levels deep.
    mutating func apply(yaml text: String, path: String) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(
                source: .file(path: path, line: Self.line(of: error)),
                key: nil,
                message: "YAML syntax: \(Self.problem(of: error))"
            )
        } catch {
            throw ConfigurationError(source: .file(path: path, line: 1), key: nil, message: "\(error)")
        }
        guard let root else { return }  // an empty file: the defaults
        guard let sections = root.mapping else {
            throw ConfigurationError(
                source: .file(path: path, line: root.mark?.line ?? 1),
                key: nil,
                message: "expected a mapping of sections (http:, media:, ...)"
            )
        }
        for (sectionNode, body) in sections {
            let section = sectionNode.string ?? ""
            let sectionLine = sectionNode.mark?.line ?? 1
            if body.null != nil { continue }  // a section whose keys are all commented out
            guard let entries = body.mapping else {
                throw ConfigurationError(
                    source: .file(path: path, line: sectionLine),
                    key: section,
                    message: "expected a mapping of keys under \"\(section):\""
                )
            }
            for (keyNode, valueNode) in entries {
                let dotted = "\(section).\(keyNode.string ?? "")"
                let line = keyNode.mark?.line ?? sectionLine
                guard let key = ConfigurationKey.named(dotted) else {
                    throw ConfigurationError(
                        source: .file(path: path, line: line),
                        key: dotted,
                        message: "unknown key\(Self.suggestion(for: dotted))"
                    )
                }
                let value: ConfigurationKey.Value
                switch valueNode {
                case .scalar(let scalar): value = .scalar(scalar.string)
                case .sequence(let sequence):
                    var items: [String] = []
                    for item in sequence {
                        guard let text = item.scalar?.string else {
                            throw ConfigurationError(
                                source: .file(path: path, line: item.mark?.line ?? line),
                                key: dotted,
                                message: "list items must be plain values"
                            )
                        }
                        items.append(text)
                    }
                    value = .list(items)
                default:
                    throw ConfigurationError(
                        source: .file(path: path, line: line),
                        key: dotted,
                        message: "expected a value or a list, got a mapping"
                    )
                }
                do {
                    try key.apply(&self, value)
                } catch {
                    throw ConfigurationError(
                        source: .file(path: path, line: valueNode.mark?.line ?? line),
                        key: dotted,
                        message: error.message
                    )
                }
            }
        }
    }

    /// Applies `VISITRELAY_*` variables that name a known key; an unknown `VISITRELAY_` variable is
    /// an error too (a typo must not be silently ignored).
    mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        let known = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.environmentVariable, $0) })
        for (variable, text) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix("VISITRELAY_") {
            if Self.ignoredEnvironment.contains(variable) { continue }
            guard let key = known[variable] else {
                throw ConfigurationError(
                    source: .environment(variable: variable),
                    key: nil,
                    message: "not a configuration key"
                )
            }
            do {
                try key.apply(&self, .scalar(text))
            } catch {
                throw ConfigurationError(
                    source: .environment(variable: variable),
                    key: key.path,
                    message: error.message
                )
            }
        }
    }

    /// Variables with the prefix that belong to the build and test tooling, not the daemon.
    static let ignoredEnvironment: Set<String> = ["VISITRELAY_BENCHMARKS", "VISITRELAY_TRACES"]

    /// Cross-key checks, once everything is applied.
    func validate() throws(ConfigurationError) {
        func fail(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(source: .commandLine(option: "configuration"), key: key, message: message)
        }
        for (key, items) in [("media.announce", announce), ("media.announce_tcp", announceTCP)] {
            for item in items where Self.transportAddress(item) == nil {
                throw fail(
                    key,
                    "\"\(item)\" is not an IP address and port (a.b.c.d:port or [IPv6]:port); browsers get it as their candidate"
                )
            }
        }
        if !announce.isEmpty && announce.count != workers {
            throw fail(
                "media.announce",
                "media.announce needs one address per worker (\(workers)), got \(announce.count)"
            )
        }
        if !announceTCP.isEmpty && announceTCP.count != workers {
            throw fail(
                "media.announce_tcp",
                "media.announce_tcp needs one address per worker (\(workers)), got \(announceTCP.count)"
            )
        }
        // A wildcard bind announces nothing a browser can reach (it used to announce 0.0.0.0, or
        // 127.0.0.1 for an address the candidate parser did not read): the operator must say which
        // address browsers use.
        if udp.isWildcard && announce.isEmpty {
            throw fail(
                "media.announce",
                "media.udp \(udp) binds every address: set media.announce to the address browsers reach (one host:port per worker)"
            )
        }
        if let tcp = tcpListen, tcp.isWildcard && announceTCP.isEmpty {
            throw fail(
                "media.announce_tcp",
                "media.tcp \(tcp)\(self.tcp == .sameAsUDP ? " (the media.udp address)" : "") binds every address: set media.announce_tcp to the address browsers reach (one host:port per worker), or media.tcp: off"
            )
        }
        if !turnURLs.isEmpty && turnSecretFile == nil {
            throw fail("turn.secret_file", "turn.urls needs turn.secret_file")
        }
        if tokenSecretFile == nil && tokenPublicKeyFile == nil && !httpListen.isLoopback {
            throw fail(
                "tokens.hs256_secret_file",
                "http.listen \(httpListen) is not loopback: set tokens.hs256_secret_file or tokens.es256_public_key_file (tokenless joins are for loopback only)"
            )
        }
        if (tlsCertificateFile == nil) != (tlsKeyFile == nil) {
            throw fail(
                tlsCertificateFile == nil ? "http.tls_certificate" : "http.tls_key",
                "http.tls_certificate and http.tls_key go together"
            )
        }
        if turnURLs.isEmpty && turnSecretFile != nil {
            throw fail("turn.urls", "turn.secret_file is set but turn.urls is empty")
        }
    }

    /// An announced `host:port` as the candidate address browsers get: an IPv4 or IPv6 literal
    /// (`198.51.100.7:40000`, `[2001:db8::7]:40000`), never a name.
    static func transportAddress(_ text: String) -> TransportAddress? {
        HostPort(parsing: text).flatMap { TransportAddress($0.description) }
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): mark.line
        default: 1
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _): problem
        default: "\(error)"
        }
    }

    /// " (did you mean media.udp?)" for a key one edit away from a known one.
    static func suggestion(for key: String) -> String {
        let close = ConfigurationKey.all.map(\.path).first { candidate in
            candidate.count >= 4 && editDistance(candidate, key) <= 2
        }
        return close.map { " (did you mean \($0)?)" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension RelayConfiguration {
    /// Defaults, then the file at `path` (if any), then the environment, then command-line
    /// overrides `(option, key, value)`; then the cross-key checks.
    static func load(
        path: String?,
        environment: [String: String],
        overrides: [(String, String, ConfigurationKey.Value)] = []
    ) throws(ConfigurationError) -> RelayConfiguration {
        var configuration = RelayConfiguration()
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(
                    source: .commandLine(option: "--config"),
                    key: nil,
                    message: "cannot read \(path): \(error.localizedDescription)"
                )
            }
            try configuration.apply(yaml: text, path: path)
        }
        try configuration.apply(environment: environment)
        for (option, path, value) in overrides {
            guard let key = ConfigurationKey.named(path) else { continue }
            do {
                try key.apply(&configuration, value)
            } catch {
                throw ConfigurationError(source: .commandLine(option: option), key: path, message: error.message)
            }
        }
        try configuration.validate()
        return configuration
    }

    /// The admin API's bearer token, read from `admin.token_file`; nil leaves the API off.
    func adminToken() throws(ConfigurationError) -> String? {
        guard let adminTokenFile else { return nil }
        let token: String
        do {
            token = try String(contentsOfFile: adminTokenFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        } catch {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "admin.token_file",
                message: "cannot read \(adminTokenFile): \(error.localizedDescription)"
            )
        }
        guard token.utf8.count >= 24 else {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "admin.token_file",
                message: "the admin token must have at least 24 characters"
            )
        }
        return token
    }

    /// The join-token verifier; reads the key files.
    func joinTokenVerifier() async throws(ConfigurationError) -> JoinTokenVerifier {
        func read(_ path: String?, key: String) throws(ConfigurationError) -> String? {
            guard let path else { return nil }
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(
                    source: .commandLine(option: "configuration"),
                    key: key,
                    message: "cannot read \(path): \(error.localizedDescription)"
                )
            }
        }
        let secret = try read(tokenSecretFile, key: "tokens.hs256_secret_file")?.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        if let secret, secret.utf8.count < 32 {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "tokens.hs256_secret_file",
                message: "the HS256 secret must have at least 32 bytes"
            )
        }
        let pem = try read(tokenPublicKeyFile, key: "tokens.es256_public_key_file")
        do {
            return try await JoinTokenVerifier.make(hs256Secret: secret, es256PublicKeyPEM: pem)
        } catch {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "tokens.es256_public_key_file",
                message: "not an ES256 (P-256) public key in PEM: \(error)"
            )
        }
    }

    /// The TURN servers and secret for web clients, if configured; reads the secret file.
    func turnSettings() throws(ConfigurationError) -> TurnSettings? {
        guard !turnURLs.isEmpty, let turnSecretFile else { return nil }
        let secret: String
        do {
            secret = try String(contentsOfFile: turnSecretFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        } catch {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "turn.secret_file",
                message: "cannot read \(turnSecretFile): \(error.localizedDescription)"
            )
        }
        guard secret.count >= 16 else {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "turn.secret_file",
                message: "the secret must have at least 16 characters"
            )
        }
        return TurnSettings(urls: turnURLs, secret: secret, lifetimeSeconds: turnTTLSeconds)
    }
}
