internal import CVpx

/// One encoded VP8 frame (RFC 6386) as libvpx produced it.
public struct EncodedVideoFrame: Sendable, Equatable {
    public let data: [UInt8]
    public let isKeyframe: Bool
    /// Presentation time in 90 kHz RTP clock units.
    public let timestamp90k: UInt32
}

/// A real-time VP8 encoder over libvpx, for the load harness (encode a moving pattern once, loop the
/// frames), tests and tools. Never on the forwarding path.
public struct Vp8Encoder: ~Copyable {
    public let width: Int
    public let height: Int
    public let framesPerSecond: Int
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    private var frameCount: Int64 = 0

    /// Creates a one-pass CBR, zero-lag, error-resilient encoder as WebRTC configures VP8.
    /// `bitrateBps` is the target in bits per second; `keyframeInterval` is in frames.
    public init(
        width: Int,
        height: Int,
        bitrateBps: Int,
        framesPerSecond: Int = 30,
        keyframeInterval: Int = 300
    ) throws(CodecError) {
        var config = vpx_codec_enc_cfg_t()
        let iface = cvpx_vp8_cx()
        let defaults = vpx_codec_enc_config_default(iface, &config, 0)
        guard defaults == VPX_CODEC_OK else {
            throw .vpx(code: Int32(defaults.rawValue), operation: "vpx_codec_enc_config_default", detail: "")
        }
        config.g_w = UInt32(width)
        config.g_h = UInt32(height)
        config.g_timebase = vpx_rational(num: 1, den: 90_000)
        config.rc_target_bitrate = UInt32(max(1, bitrateBps / 1000))
        config.rc_end_usage = VPX_CBR
        config.g_lag_in_frames = 0
        config.g_error_resilient = UInt32(VPX_ERROR_RESILIENT_DEFAULT)
        config.g_threads = 1
        config.kf_mode = VPX_KF_AUTO
        config.kf_max_dist = UInt32(keyframeInterval)
        config.rc_min_quantizer = 2
        config.rc_max_quantizer = 56
        config.rc_undershoot_pct = 100
        config.rc_overshoot_pct = 15
        config.rc_buf_initial_sz = 500
        config.rc_buf_optimal_sz = 600
        config.rc_buf_sz = 1000
        let context = UnsafeMutablePointer<vpx_codec_ctx_t>.allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        let status = cvpx_enc_init(context, iface, &config)
        guard status == VPX_CODEC_OK else {
            let detail = Self.message(context)
            context.deallocate()
            throw .vpx(code: Int32(status.rawValue), operation: "vpx_codec_enc_init", detail: detail)
        }
        _ = cvpx_set_cpu_used(context, 8)
        _ = cvpx_set_noise_sensitivity(context, 0)
        self.context = context
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
    }

    deinit {
        vpx_codec_destroy(context)
        context.deallocate()
    }

    /// Encodes one image; returns the frames libvpx emitted (one in real-time mode, none if it dropped
    /// the frame to hold the rate).
    public mutating func encode(
        _ image: I420Image,
        forceKeyframe: Bool = false
    ) throws(CodecError) -> [EncodedVideoFrame] {
        guard image.width == width, image.height == height else {
            throw .badInput("image is \(image.width)x\(image.height), encoder is \(width)x\(height)")
        }
        let pts = frameCount * 90_000 / Int64(framesPerSecond)
        let duration = UInt(90_000 / framesPerSecond)
        frameCount += 1
        var contiguous = image.y + image.u + image.v
        let context = self.context
        let status = contiguous.withUnsafeMutableBufferPointer { buffer in
            var wrapped = vpx_image_t()
            vpx_img_wrap(&wrapped, VPX_IMG_FMT_I420, UInt32(image.width), UInt32(image.height), 1, buffer.baseAddress)
            return vpx_codec_encode(
                context,
                &wrapped,
                pts,
                duration,
                forceKeyframe ? vpx_enc_frame_flags_t(cvpx_efalg_force_kf) : 0,
                UInt(cvpx_dl_realtime)
            )
        }
        guard status == VPX_CODEC_OK else {
            throw .vpx(code: Int32(status.rawValue), operation: "vpx_codec_encode", detail: Self.message(context))
        }
        var frames: [EncodedVideoFrame] = []
        var iterator: vpx_codec_iter_t? = nil
        while let packet = vpx_codec_get_cx_data(context, &iterator) {
            guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
            let frame = packet.pointee.data.frame
            let bytes = UnsafeRawBufferPointer(start: frame.buf, count: frame.sz)
            frames.append(
                EncodedVideoFrame(
                    data: Array(bytes),
                    isKeyframe: frame.flags & UInt32(cvpx_frame_is_key) != 0,
                    timestamp90k: UInt32(truncatingIfNeeded: frame.pts)
                )
            )
        }
        return frames
    }

    fileprivate static func message(_ context: UnsafeMutablePointer<vpx_codec_ctx_t>) -> String {
        guard let text = vpx_codec_error_detail(context) ?? vpx_codec_error(context) else { return "" }
        return String(cString: text)
    }
}

/// A VP8 decoder over libvpx, for end-to-end checks of what the relay forwarded.
public struct Vp8Decoder: ~Copyable {
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>

    public init() throws(CodecError) {
        let context = UnsafeMutablePointer<vpx_codec_ctx_t>.allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        let status = cvpx_dec_init(context, cvpx_vp8_dx())
        guard status == VPX_CODEC_OK else {
            context.deallocate()
            throw .vpx(code: Int32(status.rawValue), operation: "vpx_codec_dec_init", detail: "")
        }
        self.context = context
    }

    deinit {
        vpx_codec_destroy(context)
        context.deallocate()
    }

    /// Decodes one complete frame and returns the image (nil if libvpx produced none).
    public mutating func decode(_ frame: [UInt8]) throws(CodecError) -> I420Image? {
        let context = self.context
        let status = frame.withUnsafeBufferPointer {
            vpx_codec_decode(context, $0.baseAddress, UInt32($0.count), nil, 0)
        }
        guard status == VPX_CODEC_OK else {
            throw .vpx(code: Int32(status.rawValue), operation: "vpx_codec_decode", detail: Vp8Encoder.message(context))
        }
        var iterator: vpx_codec_iter_t? = nil
        guard let image = vpx_codec_get_frame(context, &iterator) else { return nil }
        let width = Int(image.pointee.d_w)
        let height = Int(image.pointee.d_h)
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        let planes = image.pointee.planes
        let strides = image.pointee.stride
        func copy(_ plane: UnsafeMutablePointer<UInt8>?, stride: Int32, width: Int, height: Int) -> [UInt8] {
            guard let plane else { return [UInt8](repeating: 0, count: width * height) }
            var out = [UInt8]()
            out.reserveCapacity(width * height)
            for row in 0..<height {
                out.append(contentsOf: UnsafeBufferPointer(start: plane + row * Int(stride), count: width))
            }
            return out
        }
        return I420Image(
            width: width,
            height: height,
            y: copy(planes.0, stride: strides.0, width: width, height: height),
            u: copy(planes.1, stride: strides.1, width: chromaWidth, height: chromaHeight),
            v: copy(planes.2, stride: strides.2, width: chromaWidth, height: chromaHeight)
        )
    }
}
