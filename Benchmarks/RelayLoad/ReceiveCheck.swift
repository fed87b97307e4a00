import Histogram
import MediaCore

/// What a receiving connection checks on every RTP packet it decrypts, whoever forwarded it: gaps
/// in each source's sequence numbers, the time since the sender stamped the packet's trailer, the
/// payload against the trailer's checksum, and (on the one sampled connection) that the VP8 decodes.
///
/// The trailer is 12 bytes of RTP padding (RFC 3550 §5.1: the last byte counts the padding, the
/// others are free): the send instant in nanoseconds of the real-time clock (the clock the kernel's
/// arrival stamps use, `ArrivalClock`), then a 24-bit
/// payload checksum, then the count. A forwarder that keeps padding keeps the trailer; a packet that
/// arrives without it is still counted and gap-checked, only not timed or checksummed
/// (`Snapshot.untimed`).
struct ReceiveCheck {
    /// Counts since the last reset, summed over every source this connection receives.
    struct Snapshot: Sendable {
        var connected = false
        var sentPackets = 0
        var receivedPackets = 0
        var receivedBytes = 0
        var gaps = 0
        /// Packets that arrived after later ones of their stream: retransmissions answering our
        /// NACKs (neither loopback nor the link emulator reorders).
        var recovered = 0
        /// NACKs this connection sent, and packets it sent again because a NACK asked.
        var nacksSent = 0
        var retransmitted = 0
        var replays = 0
        /// Packets whose payload did not match the checksum in their trailer.
        var corrupted = 0
        /// Packets received without the 12-byte trailer (a forwarder that strips RTP padding).
        var untimed = 0
        /// The sampled decoder's counts (zero on connections that do not decode).
        var video = SampledVideoCheck.Counts()
        var latencyMicroseconds = Histogram<UInt64>(
            highestTrackableValue: 60_000_000,
            numberOfSignificantValueDigits: .three
        )
    }

    static let trailer = 12

    /// The payload type the forwarder uses for VP8 towards this connection (the sampled decoder's input).
    var videoPayloadType = MediaSendLoop.videoPayloadType
    private let videoCheck: SampledVideoCheck?
    private var expected: [UInt32: UInt16] = [:]

    init(decodesVideo: Bool) {
        videoCheck = decodesVideo ? SampledVideoCheck() : nil
    }

    func reset() { videoCheck?.reset() }

    /// Checks one decrypted packet (`plain`, header to last padding byte) received at `received`
    /// (real-time nanoseconds, `ArrivalClock`) and adds it to `snapshot`. A gap of up to 64 packets
    /// is reported to `missing` (SSRC, first missing sequence number, count) so the connection can
    /// NACK it.
    mutating func record(
        _ plain: UnsafeRawBufferPointer,
        received: UInt64,
        into snapshot: inout Snapshot,
        missing: (UInt32, UInt16, Int) -> Void = { _, _, _ in }
    ) {
        guard let view = try? RTPPacketView(validating: plain.bytes) else { return }
        let ssrc = view.ssrc
        let sequence = view.sequenceNumber
        let padding = view.paddingLength
        if let next = expected[ssrc], sequence != next {
            let skipped = Int(sequence &- next)
            if skipped < 0x8000 {
                snapshot.gaps += skipped
                if skipped <= 64 { missing(ssrc, next, skipped) }
            } else {
                snapshot.recovered += 1
            }
        }
        if expected[ssrc].map({ Int16(bitPattern: sequence &- $0) >= 0 }) ?? true { expected[ssrc] = sequence &+ 1 }
        snapshot.receivedPackets += 1
        snapshot.receivedBytes += plain.count
        if let videoCheck, view.payloadType == videoPayloadType {
            videoCheck.receive(
                ssrc: ssrc,
                sequence: sequence,
                timestamp: view.timestamp,
                marker: view.marker,
                payload: view.payload
            )
            if view.marker { snapshot.video = videoCheck.counts }  // decodes finish on their own queue
        }
        guard padding == Self.trailer else {
            snapshot.untimed += 1
            return
        }
        let trailer = plain.count - Self.trailer
        let sent = plain.loadUnaligned(fromByteOffset: trailer, as: UInt64.self).bigEndian
        if received >= sent { _ = snapshot.latencyMicroseconds.record((received - sent) / 1000) }
        let written = UInt32(plain[trailer + 8]) << 16 | UInt32(plain[trailer + 9]) << 8 | UInt32(plain[trailer + 10])
        if LoopedMedia.checksum(UnsafeRawBufferPointer(rebasing: plain[view.payloadRange])) != written {
            snapshot.corrupted += 1
        }
    }
}
