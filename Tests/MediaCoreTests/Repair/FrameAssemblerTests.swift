import MediaCore
import Testing

@Suite("Frame assembler")
struct FrameAssemblerTests {
    /// Inserts a frame of `count` packets starting at `first`, in the given order of offsets.
    @discardableResult
    static func frame(
        _ assembler: inout FrameAssembler,
        first: UInt16,
        count: Int,
        timestamp: UInt32,
        keyframe: Bool,
        order: [Int]? = nil,
        skip: Set<Int> = []
    ) -> [Bool] {
        (order ?? Array(0..<count)).filter { !skip.contains($0) }.map { offset in
            assembler.insert(
                sequence: first &+ UInt16(offset),
                timestamp: timestamp,
                frameStart: offset == 0,
                frameEnd: offset == count - 1,
                keyframe: keyframe && offset == 0
            )
        }
    }

    @Test(
        "a frame completes when its last missing packet arrives, in any order, across the wrap",
        arguments: [0, 0xFFFE, 0xFFFF, 0x7FFF]
    )
    func completion(first: Int) {
        var assembler = FrameAssembler()
        let completed = Self.frame(
            &assembler,
            first: UInt16(first),
            count: 4,
            timestamp: 3000,
            keyframe: false,
            order: [0, 3, 1, 2]
        )
        #expect(completed == [false, false, false, true])
        #expect(assembler.completeFrames == 1)
        let duplicate = assembler.insert(
            sequence: UInt16(first),
            timestamp: 3000,
            frameStart: true,
            frameEnd: false,
            keyframe: false
        )
        #expect(!duplicate && assembler.completeFrames == 1)
    }

    @Test("decodable from a keyframe only once all its packets are here")
    func decodableFromKeyframe() {
        var assembler = FrameAssembler()
        Self.frame(&assembler, first: 100, count: 5, timestamp: 9000, keyframe: true, skip: [2])
        let keyStart = assembler.lastKeyframeStart!
        #expect(!assembler.isDecodable(from: keyStart))
        #expect(!assembler.decodableFromLastKeyframe)
        _ = assembler.insert(sequence: 102, timestamp: 9000, frameStart: false, frameEnd: false, keyframe: false)
        #expect(assembler.isDecodable(from: keyStart) && assembler.decodableFromLastKeyframe)
        #expect(assembler.keyframes == 1 && assembler.completeFrames == 1)
        // A delta frame is not a place to start decoding.
        Self.frame(&assembler, first: 105, count: 2, timestamp: 12000, keyframe: false)
        #expect(!assembler.isDecodable(from: keyStart + 5))
        #expect(assembler.isDecodable(from: keyStart))
    }

    @Test("the ring grows from 512 to 2048 for large frames and no further")
    func growth() {
        var assembler = FrameAssembler()
        #expect(assembler.capacity == FrameAssembler.initialCapacity)
        Self.frame(&assembler, first: 0, count: 300, timestamp: 1, keyframe: true)
        #expect(assembler.capacity == 1024)
        Self.frame(&assembler, first: 300, count: 600, timestamp: 2, keyframe: true)
        #expect(assembler.capacity == 2048)
        Self.frame(&assembler, first: 900, count: 1100, timestamp: 3, keyframe: true)
        #expect(assembler.capacity == FrameAssembler.maxCapacity)
        #expect(assembler.completeFrames == 3)
    }

    @Test("a sequence jump restarts the stream")
    func reset() {
        var assembler = FrameAssembler()
        Self.frame(&assembler, first: 10, count: 2, timestamp: 1, keyframe: true)
        Self.frame(&assembler, first: 30_000, count: 2, timestamp: 2, keyframe: false)
        #expect(assembler.lastKeyframeStart == nil && !assembler.decodableFromLastKeyframe)
        #expect(assembler.completeFrames == 2)
    }
}
