import Foundation
import MediaCore

/// TURN servers the web client should use when UDP to the relay is blocked (a municipal network
/// that allows only TLS on 443), and the shared secret for coturn's `use-auth-secret` scheme.
struct TurnSettings: Sendable {
    var urls: [String]
    var secret: String
    var lifetimeSeconds: UInt64

    /// The `iceServers` entry for one client, with a credential issued now. The label carries no
    /// personal data: only a random tag, so coturn's logs can tell allocations apart.
    func iceServer(now: Date = Date()) -> SignalingMessage.IceServer {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let credential = TurnCredential(
            secret: secret,
            label: "visit-\(tag)",
            nowUnixSeconds: UInt64(now.timeIntervalSince1970),
            lifetimeSeconds: lifetimeSeconds
        )
        return SignalingMessage.IceServer(urls: urls, username: credential.username, credential: credential.password)
    }
}
