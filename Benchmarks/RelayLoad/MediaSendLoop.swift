import NIOCore

/// The looped media's send schedule for one sending connection: an Opus packet every 20 ms
/// (960 samples at 48 kHz, RFC 7587 §4.2) and a VP8 frame every 1/30 s (3000 ticks of the 90 kHz
/// clock, RFC 7741 §4.1), each frame's last packet marked. It only decides what is due; the
/// connection encrypts and sends it.
struct MediaSendLoop {
    /// One RTP packet to send: header fields, payload, and the payload's checksum for the trailer.
    struct Packet {
        var payloadType: UInt8
        var ssrc: UInt32
        var sequence: UInt16
        var timestamp: UInt32
        var marker: Bool
        var payload: [UInt8]
        var checksum: UInt32
    }

    static let audioPayloadType: UInt8 = 111
    static let videoPayloadType: UInt8 = 96
    static let audioInterval: TimeAmount = .milliseconds(20)
    static let videoInterval: TimeAmount = .nanoseconds(33_333_333)

    let audioSSRC: UInt32
    let videoSSRC: UInt32
    private var nextAudio: NIODeadline = .now()
    private var nextVideo: NIODeadline = .now()
    private var audioSequence: UInt16
    private var videoSequence: UInt16
    private var audioTimestamp: UInt32 = 0
    private var videoTimestamp: UInt32 = 0
    private var audioIndex = 0
    private var frameIndex = 0

    init(audioSSRC: UInt32, videoSSRC: UInt32, firstAudioSequence: UInt16, firstVideoSequence: UInt16) {
        self.audioSSRC = audioSSRC
        self.videoSSRC = videoSSRC
        audioSequence = firstAudioSequence
        videoSequence = firstVideoSequence
    }

    /// Starts the schedule at `now` (nothing is sent for the time the loop was stopped).
    mutating func restart(at now: NIODeadline) {
        nextAudio = now
        nextVideo = now
    }

    /// Hands every packet due by `now` to `send`, in schedule order per stream.
    mutating func due(at now: NIODeadline, media: LoopedMedia, send: (Packet) -> Void) {
        while nextAudio <= now {
            let index = audioIndex % media.audio.count
            audioIndex += 1
            send(
                Packet(
                    payloadType: Self.audioPayloadType,
                    ssrc: audioSSRC,
                    sequence: audioSequence,
                    timestamp: audioTimestamp,
                    marker: false,
                    payload: media.audio[index],
                    checksum: media.audioChecksums[index]
                )
            )
            audioSequence &+= 1
            audioTimestamp &+= 960
            nextAudio = nextAudio + Self.audioInterval
        }
        while nextVideo <= now {
            let frame = media.frames[frameIndex % media.frames.count]
            frameIndex += 1
            for (index, payload) in frame.payloads.enumerated() {
                send(
                    Packet(
                        payloadType: Self.videoPayloadType,
                        ssrc: videoSSRC,
                        sequence: videoSequence,
                        timestamp: videoTimestamp,
                        marker: index == frame.payloads.count - 1,
                        payload: payload,
                        checksum: frame.checksums[index]
                    )
                )
                videoSequence &+= 1
            }
            videoTimestamp &+= 3000
            nextVideo = nextVideo + Self.videoInterval
        }
    }
}
