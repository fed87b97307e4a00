import Foundation
import MediaCore

/// The JSON bodies of signaling (docs/signaling.md) as Codable values: the events WebSocket's
/// messages, `/api/config`, `/api/stats` and every error. Encoded in one place, so no body is
/// assembled by hand and every string is escaped by the encoder. Keys are sorted: Foundation's
/// encoder on Linux keeps no declaration order, and the same value should give the same bytes.
enum SignalingMessage {
    /// `{"type":"room",...}`: who is in the room and which answer slot shows whom.
    struct Room: Codable, Equatable {
        struct Member: Codable, Equatable {
            var id: String
            var role: String
        }

        struct Occupant: Codable, Equatable {
            var id: String
            var role: String
            var camera: Bool
        }

        struct Slot: Codable, Equatable {
            var slot: Int
            var audioMid: String
            var videoMid: String
            /// `null` for an empty slot (written, not left out: docs/signaling.md shows it).
            var participant: Occupant?
            var videoPaused: Bool

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(slot, forKey: .slot)
                try container.encode(audioMid, forKey: .audioMid)
                try container.encode(videoMid, forKey: .videoMid)
                try container.encode(participant, forKey: .participant)
                try container.encode(videoPaused, forKey: .videoPaused)
            }
        }

        var type = "room"
        var room: String
        /// The receiving participant itself (`"self"` on the wire).
        var member: Member
        var slots: [Slot]

        enum CodingKeys: String, CodingKey {
            case type, room, slots
            case member = "self"
        }

        init(_ view: RoomView) {
            room = view.room
            member = Member(id: "\(view.participant)", role: view.role.rawValue)
            slots = view.slots.map { slot in
                Slot(
                    slot: slot.slot,
                    audioMid: slot.audioMid,
                    videoMid: slot.videoMid,
                    participant: slot.participant.map {
                        Occupant(id: "\($0)", role: slot.role?.rawValue ?? "", camera: slot.camera)
                    },
                    videoPaused: slot.videoPaused
                )
            }
        }
    }

    /// `{"type":"bye","reason":...}`: the session ended; the reason is a `SessionEndReason`.
    struct Bye: Codable, Equatable {
        var type = "bye"
        var reason: String
    }

    /// `{"type":"pong"}`, the answer to a client's `ping`.
    struct Pong: Codable, Equatable {
        var type = "pong"
    }

    /// Every error response: a stable code for programs and a sentence for people.
    struct ErrorBody: Codable, Equatable {
        var error: String
        var message: String
    }

    /// `GET /api/config`: what the web client needs before it offers.
    struct ClientConfiguration: Codable, Equatable {
        var maxParticipants: Int
        var simulcast: Bool
        var iceServers: [IceServer]
    }

    /// One `RTCIceServer` (W3C WebRTC §4.2.1): TURN URLs with a credential issued for this client.
    struct IceServer: Codable, Equatable {
        var urls: [String]
        var username: String
        var credential: String
    }

    static func text(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail: no floats that are not finite, no custom throws.
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func room(_ view: RoomView) -> String { text(Room(view)) }
    static func bye(_ reason: SessionEndReason) -> String { text(Bye(reason: reason.rawValue)) }
}

/// `GET /api/stats`: one worker's counters.
struct WorkerStats: Codable, Equatable {
    struct IceTcp: Codable, Equatable {
        var open: Int
        var accepted: Int
        var rejected: Int
        var datagramsSent: Int
        var droppedQueueFull: Int
        var droppedNoConnection: Int
    }

    var worker: Int
    var datagramsIn: Int
    var bytesIn: Int
    var rtpForwarded: Int
    var bytesForwarded: Int
    var rtcpIn: Int
    var keyframeRequestsSent: Int
    var keyframeRequestReasons: [String: Int]
    var framesAssembled: Int
    var keyframesReceived: Int
    var nacksSent: Int
    var nackedPackets: Int
    var recoveredByRetransmission: Int
    var retransmissionsSent: Int
    var retransmissionsUnavailable: Int
    var audioRecoveredByRedundancy: Int
    var audioRecoveredByRetransmission: Int
    var audioRedundantBlocksSent: Int
    var audioRetransmissionsSent: Int
    var audioInbandFECReceived: Int
    var drops: [String: Int]
    var iceTcp: IceTcp

    init(worker: Int, counters c: RelayCounters, tcp: IceTcpCounters, openTCP: Int) {
        self.worker = worker
        datagramsIn = c.datagramsIn
        bytesIn = c.bytesIn
        rtpForwarded = c.rtpForwarded
        bytesForwarded = c.bytesForwarded
        rtcpIn = c.rtcpIn
        keyframeRequestsSent = c.keyframeRequestsSent
        keyframeRequestReasons = Dictionary(
            uniqueKeysWithValues: KeyframeReason.allCases.map { ("\($0)", c.keyframeRequestsSent(for: $0)) }
        )
        framesAssembled = c.framesAssembled
        keyframesReceived = c.keyframesReceived
        nacksSent = c.nacksSent
        nackedPackets = c.nackedPackets
        recoveredByRetransmission = c.recoveredByRetransmission
        retransmissionsSent = c.retransmissionsSent
        retransmissionsUnavailable = c.retransmissionsUnavailable
        audioRecoveredByRedundancy = c.audioRecoveredByRedundancy
        audioRecoveredByRetransmission = c.audioRecoveredByRetransmission
        audioRedundantBlocksSent = c.audioRedundantBlocksSent
        audioRetransmissionsSent = c.audioRetransmissionsSent
        audioInbandFECReceived = c.audioInbandFECReceived
        drops = Dictionary(uniqueKeysWithValues: DropReason.allCases.map { ("\($0)", c.dropped($0)) })
        iceTcp = IceTcp(
            open: openTCP,
            accepted: tcp.accepted,
            rejected: tcp.rejected,
            datagramsSent: tcp.datagramsSent,
            droppedQueueFull: tcp.droppedQueueFull,
            droppedNoConnection: tcp.droppedNoConnection
        )
    }
}

/// `{"workers":[...]}`
struct RelayStats: Codable, Equatable {
    var workers: [WorkerStats]
}
