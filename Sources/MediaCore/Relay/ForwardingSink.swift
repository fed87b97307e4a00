/// One place a source's media goes: a receiver and the receive slot that shows the source.
///
/// Each participant holds the list of its sinks (`Participant.sinks`), computed when slots change
/// (a join, a leave: `RelayCore.rebuildSinks`), so forwarding a packet walks that list instead of
/// looking the room up by name, every member up by id, and scanning each member's slots. Whether a
/// sink gets a packet now (media ready, video paused, a layer switch waiting for its keyframe) is
/// still read per packet from the slot: that changes between packets; who shows whom does not.
struct ForwardingSink {
    /// Unowned: a participant leaves every sink list when it is removed (the room's lists are
    /// rebuilt then, and its own emptied), so a sink never outlives its receiver.
    unowned let receiver: Participant
    let slot: Int
}

extension RelayCore {
    /// Recomputes every member's sinks in `room` from the members' slots. Called whenever a slot's
    /// source changes (`assignSlots`, after a join or a removal).
    mutating func rebuildSinks(room: String) {
        let members = rooms[room] ?? []
        for sourceID in members {
            guard let source = participants[sourceID] else { continue }
            source.sinks.removeAll(keepingCapacity: true)
            for receiverID in members where receiverID != sourceID {
                guard let receiver = participants[receiverID], let slot = receiver.slotIndex(showing: sourceID) else {
                    continue
                }
                source.sinks.append(ForwardingSink(receiver: receiver, slot: slot))
            }
        }
    }
}
