import Foundation
import Logging
import MediaCore
import Testing

@testable import RelayDaemon

@Suite("Configuration file, environment and overrides")
struct ConfigurationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigurationError) -> RelayConfiguration {
        var configuration = RelayConfiguration()
        try configuration.apply(yaml: yaml, path: "test.yaml")
        try configuration.apply(environment: environment)
        try configuration.validate()
        return configuration
    }

    func error(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try load(yaml, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("an empty file and no environment give the embedded defaults: loopback only")
    func defaults() throws {
        let configuration = try load("")
        #expect(configuration == RelayConfiguration())
        #expect(configuration.httpListen.isLoopback && configuration.udp.isLoopback)
        #expect(configuration.tcpListen == configuration.udp)
    }

    @Test("the shipped default file parses to exactly the embedded defaults")
    func shippedDefault() throws {
        let text = try String(
            contentsOf: Self.repository.appendingPathComponent("systemd/visit-relay.yaml"),
            encoding: .utf8
        )
        #expect(try load(text) == RelayConfiguration())
    }

    @Test("every key is read from the file")
    func allKeys() throws {
        let configuration = try load(
            """
            http:
              listen: 0.0.0.0:8443
              tls_certificate: /etc/visit-relay/cert.pem
              tls_key: /etc/visit-relay/key.pem
            media:
              udp: 10.0.0.5:50000
              tcp: "off"
              workers: 2
              realtime_priority: 10
              announce: [198.51.100.7:50000, 198.51.100.7:50001]
              announce_tcp: 198.51.100.7:443,198.51.100.7:444
            rooms:
              max_participants: 3
            repair:
              relay_nack: false
            turn:
              urls:
                - turns:turn.example.dk:443?transport=tcp
              secret_file: /etc/visit-relay/turn-secret
              ttl_seconds: 600
            tokens:
              hs256_secret_file: /etc/visit-relay/token-secret
              es256_public_key_file: /etc/visit-relay/token-key.pem
            logging:
              level: debug
            web:
              root: /srv/web
            """
        )
        #expect(configuration.httpListen == HostPort(host: "0.0.0.0", port: 8443))
        #expect(
            configuration.tlsCertificateFile == "/etc/visit-relay/cert.pem"
                && configuration.tlsKeyFile == "/etc/visit-relay/key.pem"
        )
        #expect(configuration.udp == HostPort(host: "10.0.0.5", port: 50000) && configuration.tcpListen == nil)
        #expect(configuration.realtimePriority == 10)
        #expect(configuration.workers == 2 && configuration.announce == ["198.51.100.7:50000", "198.51.100.7:50001"])
        #expect(configuration.announceTCP == ["198.51.100.7:443", "198.51.100.7:444"])
        #expect(configuration.maxParticipants == 3 && !configuration.relayNack)
        #expect(
            configuration.turnURLs == ["turns:turn.example.dk:443?transport=tcp"] && configuration.turnTTLSeconds == 600
        )
        #expect(configuration.turnSecretFile == "/etc/visit-relay/turn-secret")
        #expect(configuration.logLevel == .debug && configuration.webRoot == "/srv/web")
        #expect(configuration.tokenSecretFile == "/etc/visit-relay/token-secret")
        #expect(configuration.tokenPublicKeyFile == "/etc/visit-relay/token-key.pem")
    }

    @Test("errors name the line and the key")
    func errorsNameLineAndKey() {
        let badValue = error("http:\n  listen: 127.0.0.1:8080\nmedia:\n  workers: many\n")
        #expect(
            badValue
                == ConfigurationError(
                    source: .file(path: "test.yaml", line: 4),
                    key: "media.workers",
                    message: "expected an integer 1...64, got \"many\""
                )
        )
        #expect(badValue?.description == "test.yaml:4: media.workers: expected an integer 1...64, got \"many\"")

        let unknown = error("media:\n  udpp: 127.0.0.1:1\n")
        #expect(unknown?.source == .file(path: "test.yaml", line: 2) && unknown?.key == "media.udpp")
        #expect(unknown?.message == "unknown key (did you mean media.udp?)")

        let syntax = error("media:\n  udp: [unclosed\n  workers: 2\n")
        if case .file(_, let line)? = syntax?.source {
            #expect(line >= 2)
        } else {
            Issue.record("no file location: \(String(describing: syntax))")
        }
        #expect(syntax?.message.hasPrefix("YAML syntax") == true)

        let notSection = error("media: 5\n")
        #expect(notSection?.key == "media")
        let badRange = error("rooms:\n  max_participants: 9\n")
        #expect(badRange?.key == "rooms.max_participants" && badRange?.source == .file(path: "test.yaml", line: 2))
        let badPriority = error("media:\n  workers: 1\n  realtime_priority: 100\n")
        #expect(
            badPriority?.key == "media.realtime_priority" && badPriority?.source == .file(path: "test.yaml", line: 3)
        )
        #expect(badPriority?.message == "expected an integer 0...99, got \"100\"")
        let badSrtp = error("media:\n  srtp: nss\n")
        #expect(badSrtp?.key == "media.srtp" && badSrtp?.message == "expected own or libsrtp, got \"nss\"")
        let badTurn = error("turn:\n  urls: [http://x]\n  secret_file: /x\n")
        #expect(badTurn?.message == "\"http://x\" must start with turn: or turns:")
    }

    @Test("cross-key checks: announce needs one address per worker; TURN urls need a secret")
    func crossKey() {
        #expect(error("media:\n  workers: 2\n  announce: [1.2.3.4:5]\n")?.key == "media.announce")
        #expect(error("turn:\n  urls: [turn:x:3478]\n")?.key == "turn.secret_file")
        #expect(error("http:\n  tls_certificate: /c.pem\n")?.key == "http.tls_key")
    }

    @Test("environment variables override the file, and a misspelt one is an error")
    func environment() throws {
        let configuration = try load(
            "media:\n  workers: 2\n",
            environment: ["VISITRELAY_MEDIA_WORKERS": "3", "PATH": "/bin"]
        )
        #expect(configuration.workers == 3)
        let typo = error("", environment: ["VISITRELAY_MEDIA_WORKER": "3"])
        #expect(typo?.source == .environment(variable: "VISITRELAY_MEDIA_WORKER"))
        let bad = error("", environment: ["VISITRELAY_REPAIR_RELAY_NACK": "maybe"])
        #expect(
            bad?.description
                == "environment VISITRELAY_REPAIR_RELAY_NACK: repair.relay_nack: expected true or false, got \"maybe\""
        )
    }

    @Test("command-line overrides win over file and environment")
    func overrides() throws {
        let configuration = try RelayConfiguration.load(
            path: nil,
            environment: ["VISITRELAY_HTTP_LISTEN": "127.0.0.1:9000"],
            overrides: [("--http", "http.listen", .scalar("127.0.0.1:9100"))]
        )
        #expect(configuration.httpListen.port == 9100)
        #expect(throws: ConfigurationError.self) {
            try RelayConfiguration.load(
                path: nil,
                environment: [:],
                overrides: [("--workers", "media.workers", .scalar("0"))]
            )
        }
    }

    @Test(
        "serve's options come from the key table: --name VALUE or --name=VALUE, turn-url repeats, the last of others wins"
    )
    func commandLineOptions() throws {
        let overrides = try ConfigurationKey.overrides(from: [
            "--http", "127.0.0.1:9100", "--turn-url=turns:a:443", "--workers", "2", "--turn-url", "turn:b:3478",
            "--relay-nack", "on", "--relay-nack=off", "--turn-secret-file", "/run/turn-secret",
        ])
        let configuration = try RelayConfiguration.load(path: nil, environment: [:], overrides: overrides)
        #expect(configuration.httpListen == HostPort(host: "127.0.0.1", port: 9100))
        #expect(configuration.workers == 2)
        #expect(configuration.turnURLs == ["turns:a:443", "turn:b:3478"])
        #expect(configuration.relayNack == false)
        // Every option names a key of the table, and its help is the key's.
        for (option, path) in ConfigurationKey.commandLine {
            #expect(ConfigurationKey.named(path) != nil, "--\(option) names no key \(path)")
            #expect(ConfigurationKey.commandLineHelp.contains("--\(option) VALUE  \(path), default "))
        }
        #expect(Set(ConfigurationKey.commandLine.map(\.option)).count == ConfigurationKey.commandLine.count)
    }

    @Test("a bad option names itself: unknown, without a value, a stray argument, or a value its key refuses")
    func badCommandLineOptions() throws {
        #expect(
            throws: ConfigurationError(
                source: .commandLine(option: "--bogus"),
                key: nil,
                message: "unknown option; known: --config, "
                    + ConfigurationKey.commandLine.map { "--\($0.option)" }.joined(separator: ", ")
            )
        ) {
            try ConfigurationKey.overrides(from: ["--bogus", "1"])
        }
        #expect(
            throws: ConfigurationError(
                source: .commandLine(option: "--udp"),
                key: "media.udp",
                message: "needs a value"
            )
        ) {
            try ConfigurationKey.overrides(from: ["--http", "127.0.0.1:1", "--udp"])
        }
        #expect(throws: ConfigurationError.self) { try ConfigurationKey.overrides(from: ["127.0.0.1:1"]) }
        do {
            _ = try RelayConfiguration.load(
                path: nil,
                environment: [:],
                overrides: try ConfigurationKey.overrides(from: ["--workers=0"])
            )
            Issue.record("--workers=0 was accepted")
        } catch {
            #expect(error.source == .commandLine(option: "--workers") && error.key == "media.workers")
        }
    }

    @Test("binding the wildcard address without an announced address is refused, naming the key and the value")
    func wildcardNeedsAnnounce() throws {
        let udp = error("media:\n  udp: 0.0.0.0:40000\n")
        #expect(udp?.key == "media.announce")
        #expect(udp?.message.hasPrefix("media.udp 0.0.0.0:40000 binds every address: set media.announce") == true)
        let udp6 = error("media:\n  udp: \"[::]:40000\"\n  tcp: \"off\"\n")
        #expect(
            udp6?.key == "media.announce" && udp6?.message.hasPrefix("media.udp [::]:40000 binds every address") == true
        )
        // ICE-TCP follows media.udp by default, so announcing UDP alone is not enough.
        let tcp = error("media:\n  udp: 0.0.0.0:40000\n  announce: 198.51.100.7:40000\n")
        #expect(tcp?.key == "media.announce_tcp")
        #expect(tcp?.message.hasPrefix("media.tcp 0.0.0.0:40000 (the media.udp address) binds every address") == true)
        let tcpOnly = error("media:\n  tcp: \"[0:0::0]:443\"\n")
        #expect(
            tcpOnly?.key == "media.announce_tcp" && tcpOnly?.message.hasPrefix("media.tcp [0:0::0]:443 binds") == true
        )
        #expect(throws: Never.self) {
            try load("media:\n  udp: 0.0.0.0:40000\n  announce: 198.51.100.7:40000\n  announce_tcp: 198.51.100.7:443\n")
        }
        #expect(throws: Never.self) {
            try load("media:\n  udp: \"[::]:40000\"\n  announce: \"[2001:db8::7]:40000\"\n  tcp: \"off\"\n")
        }
        #expect(!HostPort(host: "::1", port: 1).isWildcard && !HostPort(host: "10.0.0.0", port: 1).isWildcard)
        // The command line is checked the same way (serve and check-config both load through here).
        #expect(throws: ConfigurationError.self) {
            try RelayConfiguration.load(
                path: nil,
                environment: [:],
                overrides: [("--udp", "media.udp", .scalar("0.0.0.0:40000"))]
            )
        }
    }

    @Test("announced addresses are IP literals, IPv4 or [IPv6]; a name is refused naming the key")
    func announcedAddresses() throws {
        let v6 = try load(
            "media:\n  udp: \"[::1]:40000\"\n  announce: \"[2001:db8::7]:40000\"\n  announce_tcp: \"[2001:db8::7]:443\"\n"
        )
        #expect(v6.udp == HostPort(host: "::1", port: 40000))
        #expect(
            RelayConfiguration.transportAddress(v6.announce[0])
                == TransportAddress(ipv6High: 0x2001_0DB8_0000_0000, low: 7, port: 40000)
        )
        let name = error("media:\n  announce: relay.example.dk:40000\n")
        #expect(
            name?.key == "media.announce"
                && name?.message.hasPrefix("\"relay.example.dk:40000\" is not an IP address and port") == true
        )
        #expect(error("media:\n  announce_tcp: \"[::1:443\"\n")?.key == "media.announce_tcp")
    }

    /// The README's table is the operator's reference: every key must have its row with its own
    /// environment variable, and that variable must be the one the documented rule gives, so a key
    /// whose variable is spelt otherwise (or a table out of date) fails here.
    @Test("the README documents every key with its environment variable, and the variable follows the stated rule")
    func readmeDocumentsEveryKey() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(
            readme.contains("environment variables (`VISITRELAY_<SECTION>_<KEY>`"),
            "README no longer states the rule"
        )
        for key in ConfigurationKey.all {
            let parts = key.path.split(separator: ".")
            #expect(parts.count == 2, "\(key.path) is not section.key")
            let expected =
                "VISITRELAY_\(parts[0].uppercased())_\(parts.dropFirst().joined(separator: ".").uppercased())"
            #expect(
                key.environmentVariable == expected,
                "\(key.path): \(key.environmentVariable), the rule gives \(expected)"
            )
            #expect(
                readme.contains("| `\(key.path)` | `\(expected)` |"),
                "README lacks the row of \(key.path) with \(expected)"
            )
        }
    }
}
