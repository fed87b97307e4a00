import Dispatch
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

// visit-relay: for now it prints its version and configuration, proves its crypto stack loads
// (a DTLS identity is generated), and waits for SIGTERM or SIGINT. The relay itself is issue 4.

let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--version") {
    print("visit-relay \(MediaCore.version)")
    exit(0)
}

let identity: DtlsIdentity
do {
    identity = try DtlsIdentity(commonName: "visit-relay")
} catch {
    print("visit-relay: cannot create the DTLS identity: \(error)")
    exit(1)
}

print("visit-relay \(MediaCore.version)")
print("configuration: embedded defaults (no config file support yet)")
print("  dtls: DTLS 1.2, certificate ECDSA P-256, fingerprint \(identity.fingerprint.sdpValue)")
print("  srtp profiles: \(identity.srtpProfiles.map(\.description).joined(separator: ", "))")
print("status: media forwarding is not implemented yet; waiting for SIGTERM or SIGINT")

signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
var sources: [any DispatchSourceSignal] = []
for signalNumber in [SIGTERM, SIGINT] {
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
    source.setEventHandler {
        print("visit-relay: received signal \(signalNumber), stopping")
        exit(0)
    }
    source.resume()
    sources.append(source)
}
dispatchMain()
