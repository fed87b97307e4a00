import Crypto
import Foundation
import JWTKit
import MediaCore
import Testing

@testable import RelayDaemon

@Suite("Join tokens (JWT HS256 and ES256)")
struct JoinTokenTests {
    static let secret = "a-shared-secret-of-at-least-32-bytes!"

    func sign(_ claims: JoinClaims, secret: String = JoinTokenTests.secret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    static func claims(
        room: String = "visit-1",
        role: String = "citizen",
        expiresIn seconds: TimeInterval = 600
    ) -> JoinClaims {
        JoinClaims(room: room, role: role, exp: ExpirationClaim(value: Date().addingTimeInterval(seconds)))
    }

    func denial(
        _ verifier: JoinTokenVerifier,
        _ header: String?,
        room: String = "visit-1",
        role: ParticipantRole = .citizen
    ) async -> JoinDenial? {
        do {
            try await verifier.authorize(authorization: header, room: room, role: role)
            return nil
        } catch {
            return error
        }
    }

    @Test("HS256: a valid token for the room and role is accepted; everything else is refused with the right status")
    func hs256() async throws {
        let verifier = try await JoinTokenVerifier.make(hs256Secret: Self.secret, es256PublicKeyPEM: nil)
        let good = try await sign(Self.claims())
        #expect(await denial(verifier, "Bearer \(good)") == nil)
        #expect(await denial(verifier, "bearer \(good)") == nil, "the scheme is case-insensitive (RFC 7235 §2.1)")

        #expect(await denial(verifier, nil) == .missingToken)
        #expect(await denial(verifier, "Basic dXNlcjpwYXNz") == .malformedHeader)
        #expect(await denial(verifier, "Bearer not.a.jwt") == .invalidToken)
        let expired = try await sign(Self.claims(expiresIn: -60))
        #expect(await denial(verifier, "Bearer \(expired)") == .expired)
        let otherSecret = try await sign(Self.claims(), secret: "another-secret-another-secret-another")
        #expect(await denial(verifier, "Bearer \(otherSecret)") == .invalidToken)
        #expect(await denial(verifier, "Bearer \(good)", room: "visit-2") == .wrongRoom(tokenRoom: "visit-1"))
        #expect(await denial(verifier, "Bearer \(good)", role: .staff) == .wrongRole(tokenRole: "citizen"))
        #expect(JoinDenial.expired.status == 401 && JoinDenial.wrongRoom(tokenRoom: "x").status == 403)
    }

    @Test("ES256: tokens signed with the scheduling system's private key verify with its public key")
    func es256() async throws {
        let privateKey = P256.Signing.PrivateKey()
        let publicPEM = privateKey.publicKey.pemRepresentation
        let verifier = try await JoinTokenVerifier.make(hs256Secret: nil, es256PublicKeyPEM: publicPEM)
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: try ES256PrivateKey(pem: privateKey.pemRepresentation))
        let token = try await signer.sign(Self.claims(role: "staff"))
        #expect(await denial(verifier, "Bearer \(token)", role: .staff) == nil)
        // An HS256 token signed with the public key's text must not pass (algorithm confusion).
        let confused = try await sign(Self.claims(role: "staff"), secret: publicPEM)
        #expect(await denial(verifier, "Bearer \(confused)", role: .staff) == .invalidToken)
    }

    @Test("without keys every join is allowed (the daemon permits that on loopback only)")
    func tokenless() async throws {
        let verifier = try await JoinTokenVerifier.make(hs256Secret: nil, es256PublicKeyPEM: nil)
        #expect(!verifier.requiresToken)
        #expect(await denial(verifier, nil) == nil)
    }

    @Test("tokenless joins are refused by the configuration when signaling is not on loopback")
    func tokenlessNeedsLoopback() {
        #expect(throws: ConfigurationError.self) {
            try RelayConfiguration.load(path: nil, environment: ["VISITRELAY_HTTP_LISTEN": "0.0.0.0:8080"])
        }
    }
}
