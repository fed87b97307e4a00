#ifndef CSRTP_H
#define CSRTP_H
// C shim over libsrtp2 and OpenSSL 3 for DTLS-SRTP (RFC 5763/5764).
//
// Everything Swift cannot import (function-like and variadic macros, C callbacks) is wrapped here
// with the csrtp_ prefix. Bytes are passed as `const void *` because Swift's raw pointers cannot be
// passed to `uint8_t *` parameters.
#include <srtp2/srtp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <stddef.h>
#include <stdint.h>

// MARK: libsrtp

/// Initialises libsrtp exactly once per process (thread-safe). Returns srtp_err_status_ok (0) on success.
int csrtp_library_init(void);

/// SRTP protection profiles by their DTLS-SRTP identifiers (RFC 5764 §4.1.2, RFC 7714 §14.2).
enum {
    csrtp_profile_aes128_cm_sha1_80 = 0x0001,
    csrtp_profile_aead_aes_128_gcm = 0x0007,
};

/// Master key + salt lengths in bytes for a profile, or 0 for an unknown profile.
size_t csrtp_profile_key_length(int profile);
size_t csrtp_profile_salt_length(int profile);

/// Creates an SRTP session for one direction with one master key (key || salt) for all SSRCs.
/// `inbound` selects ssrc_any_inbound (unprotect) or ssrc_any_outbound (protect).
/// Outbound sessions allow re-protecting a packet index (retransmission with the original SSRC).
/// Returns the libsrtp status; on success `*session` holds the new session.
int csrtp_session_create(srtp_t *session, int profile, const void *key_and_salt, size_t length, int inbound,
                         unsigned long replay_window);

/// Protect/unprotect wrappers taking `void *` + `int *`; status codes are libsrtp's.
static inline int csrtp_protect_rtp(srtp_t s, void *packet, int *length) { return srtp_protect(s, packet, length); }
static inline int csrtp_unprotect_rtp(srtp_t s, void *packet, int *length) { return srtp_unprotect(s, packet, length); }
static inline int csrtp_protect_rtcp(srtp_t s, void *packet, int *length) { return srtp_protect_rtcp(s, packet, length); }
static inline int csrtp_unprotect_rtcp(srtp_t s, void *packet, int *length) { return srtp_unprotect_rtcp(s, packet, length); }
static inline void csrtp_session_dealloc(srtp_t s) { srtp_dealloc(s); }

static const int csrtp_status_ok = srtp_err_status_ok;
static const int csrtp_status_auth_fail = srtp_err_status_auth_fail;
static const int csrtp_status_cipher_fail = srtp_err_status_cipher_fail;
static const int csrtp_status_replay_fail = srtp_err_status_replay_fail;
static const int csrtp_status_replay_old = srtp_err_status_replay_old;
static const int csrtp_status_bad_param = srtp_err_status_bad_param;
static const int csrtp_status_parse_err = srtp_err_status_parse_err;

// MARK: AES-GCM for SRTP (RFC 7714) on one reusable OpenSSL context

/// An OpenSSL AES-128-GCM context keyed once, for one direction. Per packet only the IV changes, so
/// protecting or unprotecting allocates nothing and takes no lock (Debian's libsrtp2, built on NSS,
/// creates a crypto context per packet).
typedef struct csrtp_gcm csrtp_gcm;

/// A context keyed with `key` (16 bytes) for sealing (`encrypt` = 1) or opening; NULL on failure.
csrtp_gcm *csrtp_gcm_new(const void *key, int encrypt);
void csrtp_gcm_free(csrtp_gcm *context);

/// Encrypts `length` bytes at `data` in place under the 12-byte `iv`, authenticating `aad` too, and
/// writes the 16-byte tag to `tag`. Returns 1 on success.
int csrtp_gcm_seal(csrtp_gcm *context, const void *iv, const void *aad, size_t aad_length, void *data, size_t length,
                   void *tag);

/// Verifies the 16-byte `tag` over `aad` and the ciphertext and decrypts `length` bytes at `data` in
/// place. Returns 1 when the tag verifies, 0 when it does not (the data is then garbage).
int csrtp_gcm_open(csrtp_gcm *context, const void *iv, const void *aad, size_t aad_length, void *data, size_t length,
                   const void *tag);

/// One AES-128 block encryption (the SRTP key derivation's PRF, RFC 3711 §4.3.3). Returns 1 on success.
int csrtp_aes128_block(const void *key, const void *in, void *out);

// MARK: OpenSSL certificate

/// Generates an ECDSA P-256 key and a self-signed X.509 certificate (SHA-256 signature), valid from
/// one day ago for `valid_days`, with the given common name. Returns 1 on success.
int csrtp_generate_certificate(EVP_PKEY **key, X509 **cert, const char *common_name, int valid_days);

/// Writes the SHA-256 fingerprint (RFC 8122 §5) of `cert` into `out` (32 bytes). Returns 1 on success.
int csrtp_certificate_sha256(X509 *cert, void *out);

// MARK: OpenSSL DTLS

/// Creates a DTLS 1.2 context with the identity, ECDHE-ECDSA AEAD suites, `use_srtp` (GCM preferred,
/// then AES_CM_128_HMAC_SHA1_80), peer certificate required and checked against the fingerprint the
/// peer announced in SDP (see csrtp_dtls_new). Returns NULL on failure.
/// `srtp_profiles` is OpenSSL's colon-separated list, most preferred first.
SSL_CTX *csrtp_dtls_context_new(EVP_PKEY *key, X509 *cert, const char *srtp_profiles);

/// Creates a DTLS connection on `ctx` in the client (1) or server (0) role, attached to a fresh
/// in-memory datagram BIO (one record per datagram, `mtu` bytes at most), whose peer certificate must
/// have the SHA-256 fingerprint `expected_sha256` (32 bytes). OpenSSL's own retransmission clock is
/// parked far in the future; the caller drives retransmission with csrtp_dtls_force_timeout.
SSL *csrtp_dtls_new(SSL_CTX *ctx, int is_client, long mtu, const void *expected_sha256);

/// Frees the connection and its BIO and state.
void csrtp_dtls_free(SSL *ssl);

/// Hands one received datagram to the BIO for the next SSL call; the bytes are borrowed until then.
void csrtp_dtls_set_input(SSL *ssl, const void *data, size_t length);

/// Number of datagrams OpenSSL has written and the caller has not yet taken.
size_t csrtp_dtls_output_count(SSL *ssl);

/// Copies the oldest pending datagram into `buffer` and removes it. Returns its length, or 0 when
/// none is pending; returns -1 (and keeps it) when `capacity` is too small.
long csrtp_dtls_pop_output(SSL *ssl, void *buffer, size_t capacity);

/// 1 when OpenSSL has a retransmission timer running (a flight is awaiting an answer).
int csrtp_dtls_timer_running(SSL *ssl);

/// Marks OpenSSL's retransmission timer as expired and lets it retransmit the last flight.
/// Returns what DTLSv1_handle_timeout returns (1 retransmitted, 0 nothing to do, -1 fatal).
int csrtp_dtls_force_timeout(SSL *ssl);

/// 1 when the peer's certificate failed the fingerprint check during the handshake.
int csrtp_dtls_fingerprint_mismatch(SSL *ssl);

/// The negotiated SRTP profile id (csrtp_profile_*), or 0 when none.
int csrtp_dtls_selected_srtp_profile(SSL *ssl);

/// Exports `length` bytes of keying material with the label "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2).
int csrtp_dtls_export_srtp_keys(SSL *ssl, void *out, size_t length);

/// SHA-256 fingerprint of the peer certificate into `out` (32 bytes); 1 on success.
int csrtp_dtls_peer_sha256(SSL *ssl, void *out);

/// Negotiated protocol version (e.g. DTLS1_2_VERSION = 0xFEFD).
static inline int csrtp_dtls_version(SSL *ssl) { return SSL_version(ssl); }
static const int csrtp_dtls1_2_version = DTLS1_2_VERSION;

/// Copies the oldest queued OpenSSL error string into `buffer` (NUL-terminated) and clears the queue.
void csrtp_last_error(char *buffer, size_t capacity);

static const int csrtp_ssl_error_want_read = SSL_ERROR_WANT_READ;
static const int csrtp_ssl_error_want_write = SSL_ERROR_WANT_WRITE;
static const int csrtp_ssl_error_zero_return = SSL_ERROR_ZERO_RETURN;
static const int csrtp_ssl_error_ssl = SSL_ERROR_SSL;
static const int csrtp_ssl_error_syscall = SSL_ERROR_SYSCALL;

#endif
