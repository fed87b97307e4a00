import MediaCore
import NIOCore
import NIOExtras
import NIOPosix

/// The socket edge of ICE-TCP (RFC 6544): one accepted connection from a browser's active TCP
/// candidate. RFC 4571 frames every STUN, DTLS and SRTP datagram with a 16-bit length; the pipeline
/// strips and adds that framing, so the worker's `RelayCore` sees the same datagrams as on UDP,
/// tagged with this connection's `TransportAddress` (transport `.tcp`).
///
/// Runs on the worker's event loop (the listener's child group is that loop), so handing datagrams
/// to the core needs no lock and crosses no thread.
final class IceTcpConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let worker: MediaWorker
    private var address: TransportAddress?

    init(worker: MediaWorker) { self.worker = worker }

    /// The pipeline of one connection: RFC 4571 framing, an idle timeout, then this handler.
    static func configure(_ channel: any Channel, worker: MediaWorker) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)))
        try pipeline.addHandler(LengthFieldPrepender(lengthFieldBitLength: .twoBytes))
        try pipeline.addHandler(IdleStateHandler(readTimeout: worker.tcpIdleTimeout))
        try pipeline.addHandler(IceTcpConnectionHandler(worker: worker))
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let remote = context.remoteAddress, let parsed = TransportAddress(remote),
            worker.tcpConnected(parsed.on(.tcp), channel: context.channel)
        else {
            context.close(promise: nil)
            return
        }
        address = parsed.on(.tcp)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let address else { return }
        worker.handle(datagram: Self.unwrapInboundIn(data), from: address)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let address { worker.tcpDisconnected(address) }
        address = nil
        context.fireChannelInactive()
    }

    /// A connection that sends nothing for the idle timeout (no STUN consent checks, which browsers
    /// send every few seconds) is closed: it holds a file descriptor and a slot of the limit.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that resets, or a frame the decoder refuses: this connection ends, nothing else does.
        context.close(promise: nil)
    }
}
