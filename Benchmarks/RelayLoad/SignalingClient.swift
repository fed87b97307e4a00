import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The relay's HTTP signaling (docs/signaling.md) as the load harness uses it: join with an offer,
/// leave, and read the relay's Prometheus counters.
struct SignalingClient: Sendable {
    let base: String

    struct Joined: Sendable {
        var answer: String
        var session: String
    }

    enum Failure: Error, CustomStringConvertible {
        case status(Int, String)
        var description: String {
            switch self {
            case .status(let code, let body): "HTTP \(code): \(body.prefix(200))"
            }
        }
    }

    func join(room: String, role: String, offer: String) async throws -> Joined {
        var request = URLRequest(url: URL(string: "\(base)/api/rooms/\(room)/participants?role=\(role)")!)
        request.httpMethod = "POST"
        request.setValue("application/sdp", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(offer.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        let body = String(decoding: data, as: UTF8.self)
        guard http.statusCode == 201, let location = http.value(forHTTPHeaderField: "Location") else {
            throw Failure.status(http.statusCode, body)
        }
        return Joined(answer: body, session: location)
    }

    func leave(_ session: String) async {
        var request = URLRequest(url: URL(string: base + session)!)
        request.httpMethod = "DELETE"
        _ = try? await URLSession.shared.data(for: request)
    }

    /// Sum of every sample of each counter in `/metrics`, by name (labels folded).
    func counters() async throws -> [String: Double] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/metrics")!)
        var result: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = String(parts[0].prefix { $0 != "{" })
            result[name, default: 0] += value
        }
        return result
    }
}
