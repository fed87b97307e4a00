#ifndef CVPX_SHIM_H
#define CVPX_SHIM_H
// libvpx (VP8) for the load harness, tests and tools; never on the forwarding path.
// vpx_codec_enc_init, vpx_codec_dec_init and vpx_codec_control are macros (the last one
// variadic), so they get typed static inline wrappers here (prefix cvpx_).
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

static inline vpx_codec_iface_t *cvpx_vp8_cx(void) { return vpx_codec_vp8_cx(); }
static inline vpx_codec_iface_t *cvpx_vp8_dx(void) { return vpx_codec_vp8_dx(); }

static inline vpx_codec_err_t cvpx_enc_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface,
                                            const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, iface, cfg, 0);
}
static inline vpx_codec_err_t cvpx_dec_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface) {
    return vpx_codec_dec_init(ctx, iface, NULL, 0);
}
static inline vpx_codec_err_t cvpx_set_cpu_used(vpx_codec_ctx_t *ctx, int speed) {
    return vpx_codec_control(ctx, VP8E_SET_CPUUSED, speed);
}
static inline vpx_codec_err_t cvpx_set_token_partitions(vpx_codec_ctx_t *ctx, int log2_partitions) {
    return vpx_codec_control(ctx, VP8E_SET_TOKEN_PARTITIONS, log2_partitions);
}
static inline vpx_codec_err_t cvpx_set_noise_sensitivity(vpx_codec_ctx_t *ctx, int value) {
    return vpx_codec_control(ctx, VP8E_SET_NOISE_SENSITIVITY, value);
}
static const long cvpx_dl_realtime = VPX_DL_REALTIME;
static const int cvpx_efalg_force_kf = VPX_EFLAG_FORCE_KF;
static const int cvpx_frame_is_key = VPX_FRAME_IS_KEY;
static const int cvpx_codec_cx_frame_pkt = VPX_CODEC_CX_FRAME_PKT;
#endif
