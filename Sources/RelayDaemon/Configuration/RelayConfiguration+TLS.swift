import NIOSSL

extension RelayConfiguration {
    /// The TLS server configuration for HTTPS, when a certificate and key are configured.
    func tlsConfiguration() throws(ConfigurationError) -> TLSConfiguration? {
        guard let tlsCertificateFile, let tlsKeyFile else { return nil }
        func fail(_ key: String, _ error: any Error) -> ConfigurationError {
            ConfigurationError(source: .commandLine(option: "configuration"), key: key, message: "cannot use it: \(error)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tlsCertificateFile)
        } catch {
            throw fail("http.tls_certificate", error)
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tlsKeyFile, format: .pem)
        } catch {
            throw fail("http.tls_key", error)
        }
        guard !chain.isEmpty else { throw fail("http.tls_certificate", NIOSSLError.failedToLoadCertificate) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
