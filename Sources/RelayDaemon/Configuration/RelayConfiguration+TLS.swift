import NIOCore
import NIOSSL

/// The HTTPS certificate chain and private key, read from `http.tls_certificate` and `http.tls_key`
/// and checked to belong together. `serve` reads one at start and again on every SIGHUP (certificates
/// are renewed every 60-90 days; that must need neither a restart nor a dropped visit).
struct TLSIdentity: Sendable {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// Where they were read from, for the log.
    let certificateFile: String

    /// The leaf certificate's serial number in hex, which the reload log names so an operator can
    /// see the renewed certificate is the one served.
    var serialHex: String {
        chain.first.map { $0.serialNumber.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined() }
            ?? ""
    }

    /// The override a new TLS connection's handshake takes its certificate and key from.
    var contextOverride: NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chain.map { .certificate($0) }
        override.privateKey = .privateKey(key)
        return override
    }
}

extension RelayConfiguration {
    /// Reads and checks the HTTPS certificate chain and key, when both are configured: the files
    /// parse as PEM, the chain is not empty, and the key is the certificate's (a TLS context is built
    /// from them, as a connection's handshake would). A wrong pair fails here, at start, in
    /// `check-config` or in a reload, instead of in every browser's handshake afterwards.
    func tlsIdentity() throws(ConfigurationError) -> TLSIdentity? {
        guard let tlsCertificateFile, let tlsKeyFile else { return nil }
        func fail(_ key: String, _ file: String, _ error: any Error) -> ConfigurationError {
            ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: key,
                message: "cannot use \(file): \(error)"
            )
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tlsCertificateFile)
        } catch {
            throw fail("http.tls_certificate", tlsCertificateFile, error)
        }
        guard !chain.isEmpty else {
            throw fail("http.tls_certificate", tlsCertificateFile, NIOSSLError.failedToLoadCertificate)
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tlsKeyFile, format: .pem)
        } catch {
            throw fail("http.tls_key", tlsKeyFile, error)
        }
        do {
            _ = try NIOSSLContext(configuration: Self.serverTLS(chain: chain, key: key))
        } catch {
            throw ConfigurationError(
                source: .commandLine(option: "configuration"),
                key: "http.tls_key",
                message: "\(tlsKeyFile) is not the private key of \(tlsCertificateFile): \(error)"
            )
        }
        return TLSIdentity(chain: chain, key: key, certificateFile: tlsCertificateFile)
    }

    /// The TLS server configuration for HTTPS, serving `initial` until `current` says otherwise.
    ///
    /// NIOSSL builds one TLS context when the server starts; its `sslContextCallback` runs once per
    /// client hello and may hand that connection another certificate and key. Asking `current` there
    /// is what makes a reload apply to every new connection while the established ones (a visit's
    /// events WebSocket) keep the certificate they were opened with.
    static func tlsConfiguration(
        initial: TLSIdentity,
        current: @escaping @Sendable () -> TLSIdentity?
    ) -> TLSConfiguration {
        var configuration = serverTLS(chain: initial.chain, key: initial.key)
        configuration.sslContextCallback = { _, promise in
            promise.succeed(current()?.contextOverride ?? .noChanges)
        }
        return configuration
    }

    private static func serverTLS(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
