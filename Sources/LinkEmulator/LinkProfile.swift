import Foundation
import LinkModel

/// A named link profile from profiles.json: an uplink (client → relay) and a downlink configuration.
struct LinkProfile {
    var name: String
    var description: String
    var uplink: LinkConfiguration
    var downlink: LinkConfiguration
    var rebindEverySeconds: Double?

    struct ProfileError: Error, CustomStringConvertible {
        let description: String
    }

    /// One direction as written in the file.
    struct DirectionSpec: Decodable {
        struct GilbertElliott: Decodable {
            var goodToBad: Double
            var badToGood: Double
            var lossInGood: Double
            var lossInBad: Double
        }
        struct OutageSpec: Decodable {
            var startMs: Double
            var durationMs: Double
        }
        var trace: String?
        var rateBps: Double?
        var queueBytes: Int?
        var queuePackets: Int?
        var delayMs: Double?
        var jitterMs: Double?
        var jitterReorders: Bool?
        var loss: Double?
        var gilbertElliott: GilbertElliott?
        var outages: [OutageSpec]?
        var outageEveryMs: Double?
    }

    struct ProfileSpec: Decodable {
        var description: String?
        var rebindEverySeconds: Double?
        var uplink: DirectionSpec
        var downlink: DirectionSpec
    }

    /// Loads `name` from the JSON text of a profiles file.
    static func load(name: String, json: Data, tracesDirectory: String) throws -> LinkProfile {
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
        guard let entry = object[name] else {
            let known = object.keys.filter { !$0.hasPrefix("_") }.sorted().joined(separator: ", ")
            throw ProfileError(description: "no profile named \"\(name)\" (known: \(known))")
        }
        let data = try JSONSerialization.data(withJSONObject: entry)
        let spec: ProfileSpec
        do {
            spec = try JSONDecoder().decode(ProfileSpec.self, from: data)
        } catch DecodingError.keyNotFound(let key, let context) {
            let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw ProfileError(description: "profile \(name): missing key \(path)")
        } catch DecodingError.typeMismatch(_, let context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ProfileError(description: "profile \(name): wrong type at \(path)")
        }
        return LinkProfile(
            name: name,
            description: spec.description ?? "",
            uplink: try configuration(
                spec.uplink,
                profile: name,
                direction: "uplink",
                tracesDirectory: tracesDirectory
            ),
            downlink: try configuration(
                spec.downlink,
                profile: name,
                direction: "downlink",
                tracesDirectory: tracesDirectory
            ),
            rebindEverySeconds: spec.rebindEverySeconds
        )
    }

    static func configuration(
        _ spec: DirectionSpec,
        profile: String,
        direction: String,
        tracesDirectory: String
    ) throws -> LinkConfiguration {
        let capacity: LinkConfiguration.Capacity
        if let traceName = spec.trace {
            let path = tracesDirectory + "/" + traceName
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ProfileError(description: "profile \(profile) \(direction).trace: cannot read \(path)")
            }
            do {
                capacity = .trace(try DeliveryTrace(parsing: text))
            } catch {
                throw ProfileError(description: "profile \(profile) \(direction).trace \(path): \(error)")
            }
        } else if let rate = spec.rateBps {
            guard rate > 0 else {
                throw ProfileError(description: "profile \(profile) \(direction).rateBps must be > 0")
            }
            capacity = .fixed(bitsPerSecond: rate)
        } else {
            capacity = .unlimited
        }
        let loss: LinkConfiguration.Loss
        if let ge = spec.gilbertElliott {
            loss = .gilbertElliott(
                goodToBad: ge.goodToBad,
                badToGood: ge.badToGood,
                lossInGood: ge.lossInGood,
                lossInBad: ge.lossInBad
            )
        } else if let rate = spec.loss, rate > 0 {
            guard rate < 1 else { throw ProfileError(description: "profile \(profile) \(direction).loss must be < 1") }
            loss = .bernoulli(rate: rate)
        } else {
            loss = .none
        }
        let queue: LinkConfiguration.QueueLimit =
            spec.queueBytes.map { .bytes($0) } ?? .packets(spec.queuePackets ?? 1000)
        return LinkConfiguration(
            capacity: capacity,
            queueLimit: queue,
            baseDelayUs: UInt64((spec.delayMs ?? 0) * 1000),
            jitterUs: UInt64((spec.jitterMs ?? 0) * 1000),
            jitterReorders: spec.jitterReorders ?? false,
            loss: loss,
            outages: (spec.outages ?? []).map {
                .init(startUs: UInt64($0.startMs * 1000), durationUs: UInt64($0.durationMs * 1000))
            },
            outageEveryUs: spec.outageEveryMs.map { UInt64($0 * 1000) }
        )
    }
}
