/// Big-endian loads shared by the RTCP views. Callers have validated the offsets.
extension RawSpan {
    @inline(__always)
    func rtcpU8(_ offset: Int) -> UInt8 {
        unsafeLoad(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func rtcpU16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    func rtcpU24(_ offset: Int) -> UInt32 {
        UInt32(rtcpU8(offset)) << 16 | UInt32(rtcpU16(offset + 1))
    }

    @inline(__always)
    func rtcpU32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: unsafeLoadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension OutputRawSpan {
    @inline(__always)
    mutating func rtcpAppend(_ value: UInt8) { append(value, as: UInt8.self) }

    @inline(__always)
    mutating func rtcpAppend(_ value: UInt16) { append(value.bigEndian, as: UInt16.self) }

    @inline(__always)
    mutating func rtcpAppend(_ value: UInt32) { append(value.bigEndian, as: UInt32.self) }

    @inline(__always)
    mutating func rtcpAppend24(_ value: UInt32) {
        rtcpAppend(UInt8(truncatingIfNeeded: value >> 16))
        rtcpAppend(UInt16(truncatingIfNeeded: value))
    }
}
