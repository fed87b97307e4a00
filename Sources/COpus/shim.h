#ifndef COPUS_SHIM_H
#define COPUS_SHIM_H
// libopus for the load harness, tests and tools; never on the forwarding path.
// opus_encoder_ctl is variadic and its requests are macros, so each request used from Swift
// gets a typed static inline wrapper here (prefix copus_).
#include <opus/opus.h>

static inline int copus_set_bitrate(OpusEncoder *enc, opus_int32 bitrate) {
    return opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
}
static inline int copus_set_complexity(OpusEncoder *enc, opus_int32 complexity) {
    return opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity));
}
static inline int copus_set_inband_fec(OpusEncoder *enc, opus_int32 on) {
    return opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(on));
}
static inline int copus_set_packet_loss_perc(OpusEncoder *enc, opus_int32 percent) {
    return opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(percent));
}
static inline int copus_get_lookahead(OpusEncoder *enc, opus_int32 *out) {
    return opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(out));
}
static const int copus_application_voip = OPUS_APPLICATION_VOIP;
static const int copus_ok = OPUS_OK;
#endif
