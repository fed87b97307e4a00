import Foundation
import JWTKit
import MediaCore

/// The claims of a join token, issued by the municipality's scheduling system for one visit.
///
/// ```json
/// {"room": "visit-2291", "role": "citizen", "exp": 1763899200}
/// ```
/// `exp` is required (RFC 7519 §4.1.4); a token without it never expires and is refused.
struct JoinClaims: JWTPayload, Equatable {
    var room: String
    var role: String
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Why a join was refused: 401 when the caller did not prove anything, 403 when the token is valid
/// but for another room or role.
enum JoinDenial: Error, Equatable {
    case missingToken
    case malformedHeader
    case invalidToken
    case expired
    case wrongRoom(tokenRoom: String)
    case wrongRole(tokenRole: String)

    var status: Int {
        switch self {
        case .missingToken, .malformedHeader, .invalidToken, .expired: 401
        case .wrongRoom, .wrongRole: 403
        }
    }

    var code: String {
        switch self {
        case .missingToken: "token-missing"
        case .malformedHeader: "token-malformed"
        case .invalidToken: "token-invalid"
        case .expired: "token-expired"
        case .wrongRoom: "token-wrong-room"
        case .wrongRole: "token-wrong-role"
        }
    }

    /// The body's message: says what is wrong without echoing the token.
    var message: String {
        switch self {
        case .missingToken: "this relay needs a join token: Authorization: Bearer <token>"
        case .malformedHeader: "the Authorization header must be \"Bearer <token>\""
        case .invalidToken: "the join token is not valid (bad signature, algorithm or claims)"
        case .expired: "the join token has expired"
        case .wrongRoom(let room): "the join token is for another room (\(room))"
        case .wrongRole(let role): "the join token is for the role \(role)"
        }
    }
}

/// Checks join tokens: JWT (RFC 7519) signed with HS256 (a shared secret) or ES256 (the scheduling
/// system's public key), carrying room, role and expiry. With no key configured, joins need no
/// token; the daemon allows that only when signaling listens on loopback.
struct JoinTokenVerifier: Sendable {
    let keys: JWTKeyCollection?

    static let tokenless = JoinTokenVerifier(keys: nil)

    var requiresToken: Bool { keys != nil }

    static func make(hs256Secret: String?, es256PublicKeyPEM: String?) async throws -> JoinTokenVerifier {
        guard hs256Secret != nil || es256PublicKeyPEM != nil else { return .tokenless }
        let keys = JWTKeyCollection()
        if let hs256Secret { await keys.add(hmac: HMACKey(from: hs256Secret), digestAlgorithm: .sha256) }
        if let es256PublicKeyPEM { await keys.add(ecdsa: try ES256PublicKey(pem: es256PublicKeyPEM)) }
        return JoinTokenVerifier(keys: keys)
    }

    /// Checks the `Authorization` header of a join to `room` as `role`.
    func authorize(authorization: String?, room: String, role: ParticipantRole) async throws(JoinDenial) {
        guard let keys else { return }
        guard let authorization, !authorization.isEmpty else { throw .missingToken }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else { throw .malformedHeader }
        let claims: JoinClaims
        do {
            claims = try await keys.verify(String(parts[1]), as: JoinClaims.self, iteratingKeys: true)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw .expired
        } catch {
            throw .invalidToken
        }
        guard claims.room == room else { throw .wrongRoom(tokenRoom: claims.room) }
        guard claims.role == role.rawValue else { throw .wrongRole(tokenRole: claims.role) }
    }
}
