/// The outcome of an offer/answer exchange for one participant.
struct Negotiation {
    var remoteUfrag: String
    var remotePassword: String
    var remoteFingerprint: DtlsFingerprint
    var audio: PublishedStream?
    var video: PublishedStream?
    var slots: [ReceiveSlot]
    var answerSDP: String
}

extension RelayCore {
    /// Parses an offer and builds our answer (see docs/signaling.md for the section layout).
    mutating func negotiate(
        offer: String, local: IceCredentials, receiveSlots: Int, existing: Participant? = nil
    ) throws(JoinError) -> Negotiation {
        throw .badOffer("SDP negotiation is not available yet")
    }
}
