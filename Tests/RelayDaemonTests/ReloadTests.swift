import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import RelayDaemon

/// SIGHUP reload (`LifecycleService.reloadOnce`) and `check-config` over real files: the HTTPS
/// certificate and key, the admin token file, and which keys need a restart.
///
/// `Tests/Fixtures/tls` holds two self-signed P-256 test certificates for 127.0.0.1 (serials 0a0a and
/// 0b0b, valid for 100 years) with their keys; they protect nothing.
@Suite("Reload (SIGHUP) and check-config")
struct ReloadTests {
    static let fixtures = ConfigurationTests.repository.appendingPathComponent("Tests/Fixtures/tls")

    /// A directory with `cert.pem`, `key.pem` (fixture `a`), `admin-token` and `visit-relay.yaml`.
    final class Files {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vr-reload-\(UUID())")
        var cert: String { directory.appendingPathComponent("cert.pem").path }
        var key: String { directory.appendingPathComponent("key.pem").path }
        var token: String { directory.appendingPathComponent("admin-token").path }
        var config: String { directory.appendingPathComponent("visit-relay.yaml").path }

        init(extraYAML: String = "") throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try use(certificate: "a", key: "a")
            try write(token, "first-admin-token-0123456789\n")
            try writeConfig(extraYAML)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func use(certificate: String, key keyName: String) throws {
            try write(
                cert,
                try String(contentsOf: fixtures.appendingPathComponent("\(certificate)-cert.pem"), encoding: .utf8)
            )
            try write(
                key,
                try String(contentsOf: fixtures.appendingPathComponent("\(keyName)-key.pem"), encoding: .utf8)
            )
        }

        func writeConfig(_ extra: String) throws {
            try write(
                config,
                "http:\n  tls_certificate: \(cert)\n  tls_key: \(key)\nadmin:\n  token_file: \(token)\n" + extra
            )
        }

        func write(_ path: String, _ text: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// Log lines at warning and above, as `level message key=value`.
    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
        func clear() { lock.withLock { lines.removeAll() } }
    }

    struct CapturingHandler: LogHandler {
        let captured: Captured
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            captured.append(([event.level.rawValue, "\(event.message)"] + fields).joined(separator: " "))
        }
    }

    static func service(_ files: Files, captured: Captured) async throws -> (LifecycleService, RuntimeSettings) {
        let initial = try RelayConfiguration.load(path: files.config, environment: [:])
        let runtime = RuntimeSettings(try await initial.runtimeFiles(), logLevel: .info)
        let path = files.config
        let service = LifecycleService(
            notifier: SystemdNotifier(environment: [:]),
            workers: [],
            runtime: runtime,
            reload: {
                let configuration = try RelayConfiguration.load(path: path, environment: [:])
                return (try await configuration.runtimeFiles(), configuration)
            },
            initial: initial,
            logger: Logger(label: "test") { _ in CapturingHandler(captured: captured) }
        )
        return (service, runtime)
    }

    @Test("a reload serves the renewed certificate and key and takes the new admin token")
    func reloadsCertificateAndAdminToken() async throws {
        let files = try Files()
        let captured = Captured()
        let (service, runtime) = try await Self.service(files, captured: captured)
        #expect(
            runtime.current.tls?.serialHex == "0a0a" && runtime.current.adminToken == "first-admin-token-0123456789"
        )
        try files.use(certificate: "b", key: "b")
        try files.write(files.token, "second-admin-token-0123456789\n")
        await service.reloadOnce()
        #expect(runtime.current.tls?.serialHex == "0b0b")
        #expect(runtime.current.adminToken == "second-admin-token-0123456789")
        #expect(captured.all.isEmpty, "\(captured.all)")
    }

    @Test(
        "a reload with a bad certificate, a key of another certificate, or a short admin token keeps everything running and names the key",
        arguments: [
            ("garbage certificate", "http.tls_certificate"),
            ("key of another certificate", "http.tls_key"),
            ("short admin token", "admin.token_file"),
            ("missing admin token file", "admin.token_file"),
        ]
    )
    func badFilesKeepTheOldOnes(breakage: String, key: String) async throws {
        let files = try Files()
        let captured = Captured()
        let (service, runtime) = try await Self.service(files, captured: captured)
        switch breakage {
        case "garbage certificate": try files.write(files.cert, "not a certificate\n")
        case "key of another certificate": try files.use(certificate: "b", key: "a")
        case "short admin token":
            try files.use(certificate: "b", key: "b")
            try files.write(files.token, "short\n")
        default: try FileManager.default.removeItem(atPath: files.token)
        }
        await service.reloadOnce()
        #expect(runtime.current.tls?.serialHex == "0a0a", "the running certificate stays")
        #expect(runtime.current.adminToken == "first-admin-token-0123456789", "the running admin token stays")
        let errors = captured.all.filter { $0.hasPrefix("error configuration reload failed") }
        #expect(errors.count == 1 && errors.first?.contains("\(key): ") == true, "\(captured.all)")
    }

    @Test("each key that needs a restart is named in the log; reloadable ones are not")
    func restartOnlyKeysAreLogged() async throws {
        let files = try Files()
        let captured = Captured()
        let (service, runtime) = try await Self.service(files, captured: captured)
        try files.writeConfig("media:\n  workers: 2\nshutdown:\n  grace_seconds: 30\nlogging:\n  level: debug\n")
        await service.reloadOnce()
        let warnings = captured.all.filter { $0.hasPrefix("warning configuration key changed but needs a restart") }
        #expect(
            warnings.map { $0.components(separatedBy: "key=").last ?? "" } == [
                "media.workers", "shutdown.grace_seconds",
            ]
        )
        #expect(runtime.logLevel.withLockedValue { $0 } == .debug)
    }

    /// Sample values differing from the defaults, one per key: the test below fails for a new key
    /// until it is classified.
    static let samples: [String: String] = [
        "http.listen": "127.0.0.1:9443", "http.tls_certificate": "/other/cert.pem", "http.tls_key": "/other/key.pem",
        "media.udp": "127.0.0.1:50000", "media.tcp": "off", "media.workers": "2", "media.socket_buffer_kib": "128",
        "media.realtime_priority": "10", "media.srtp": "libsrtp", "media.announce": "198.51.100.7:40000",
        "media.announce_tcp": "198.51.100.7:443", "rooms.max_participants": "3", "repair.relay_nack": "false",
        "repair.audio": "false",
        "bwe.transport_feedback": "false", "bwe.downlink_estimation": "false", "bwe.simulcast": "false",
        "security.unknown_source_rate": "10", "security.unknown_source_burst": "10", "security.joins_per_minute": "5",
        "security.joins_per_second": "5", "turn.urls": "turn:turn.example.dk:3478", "turn.secret_file": "/other/turn",
        "turn.ttl_seconds": "600", "tokens.hs256_secret_file": "/other/secret",
        "tokens.es256_public_key_file": "/other/key.pem",
        "limits.ceiling_kbps": "800", "limits.citizen_up_kbps": "800", "limits.citizen_down_kbps": "800",
        "limits.staff_up_kbps": "800", "limits.staff_down_kbps": "800", "limits.interpreter_up_kbps": "800",
        "limits.interpreter_down_kbps": "800", "admin.token_file": "/other/admin", "logging.level": "debug",
        "shutdown.grace_seconds": "30", "web.root": "/srv/web",
    ]

    @Test("every configuration key either reloads or is named as needing a restart when it changes")
    func everyKeyIsClassified() throws {
        var base = RelayConfiguration()
        base.tlsCertificateFile = "/etc/visit-relay/cert.pem"
        base.tlsKeyFile = "/etc/visit-relay/key.pem"
        for key in ConfigurationKey.all {
            guard let sample = Self.samples[key.path] else {
                Issue.record("\(key.path) has no sample value: is it reloadable or restart-only?")
                continue
            }
            var changed = base
            try key.apply(&changed, .scalar(sample))
            #expect(changed != base, "the sample for \(key.path) changes nothing")
            let named = LifecycleService.restartOnlyDifferences(base, changed)
            let expected = LifecycleService.reloadableKeys.contains(key.path) ? [] : [key.path]
            #expect(named == expected, "\(key.path): a reload names \(named)")
        }
        #expect(LifecycleService.reloadableKeys.isSubset(of: Set(ConfigurationKey.all.map(\.path))))
        // The certificate files reload; switching between HTTP and HTTPS needs a restart.
        #expect(
            LifecycleService.restartOnlyDifferences(RelayConfiguration(), base) == [
                "http.tls_certificate", "http.tls_key",
            ]
        )
    }

    @Test("a new TLS connection's handshake takes the certificate the holder has now")
    func handshakeTakesTheCurrentCertificate() async throws {
        let files = try Files()
        let first = try #require(try RelayConfiguration.load(path: files.config, environment: [:]).tlsIdentity())
        try files.use(certificate: "b", key: "b")
        let second = try #require(try RelayConfiguration.load(path: files.config, environment: [:]).tlsIdentity())
        let holder = SwappableValue(first)
        let configuration = RelayConfiguration.tlsConfiguration(initial: first, current: { holder.value })
        let callback = try #require(configuration.sslContextCallback)
        let loop = EmbeddedEventLoop()
        func served() throws -> [NIOSSLCertificateSource]? {
            let promise = loop.makePromise(of: NIOSSLContextConfigurationOverride.self)
            callback(NIOSSLClientExtensionValues(serverHostname: nil), promise)
            return try promise.futureResult.wait().certificateChain
        }
        #expect(try served() == [.certificate(first.chain[0])])
        holder.value = second
        #expect(try served() == [.certificate(second.chain[0])])
    }

    @Test("check-config reads the TLS files and the admin token file as serve does")
    func checkConfigReadsTheFiles() async throws {
        let files = try Files()
        let ok = try await CheckConfigCommand.check(path: files.config, environment: [:])
        #expect(ok.hasPrefix("\(files.config): ok"))
        try files.use(certificate: "b", key: "a")
        await #expect(throws: ConfigurationError.self) {
            try await CheckConfigCommand.check(path: files.config, environment: [:])
        }
        do {
            _ = try await CheckConfigCommand.check(path: files.config, environment: [:])
        } catch {
            #expect(error.key == "http.tls_key" && error.message.contains("is not the private key of"), "\(error)")
        }
        try files.use(certificate: "a", key: "a")
        try files.write(files.token, "short\n")
        do {
            _ = try await CheckConfigCommand.check(path: files.config, environment: [:])
            Issue.record("a short admin token passed check-config")
        } catch {
            #expect(error.key == "admin.token_file")
        }
    }
}

/// A value a test changes between two calls of a `@Sendable` closure.
final class SwappableValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
