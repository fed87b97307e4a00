// C half of CSrtp: libsrtp set-up, certificate generation, and the in-memory datagram BIO that lets
// a sans-I/O DTLS endpoint hand OpenSSL one datagram at a time and collect what it writes.
#include <limits.h>
#include <stdlib.h>
#include "csrtp.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

// MARK: libsrtp

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static int srtp_init_status = -1;

static void csrtp_do_init(void) { srtp_init_status = srtp_init(); }

int csrtp_library_init(void) {
    pthread_once(&srtp_once, csrtp_do_init);
    return srtp_init_status;
}

size_t csrtp_profile_key_length(int profile) {
    switch (profile) {
    case csrtp_profile_aes128_cm_sha1_80: return 16;
    case csrtp_profile_aead_aes_128_gcm: return 16;
    default: return 0;
    }
}

size_t csrtp_profile_salt_length(int profile) {
    switch (profile) {
    case csrtp_profile_aes128_cm_sha1_80: return 14;
    case csrtp_profile_aead_aes_128_gcm: return 12;
    default: return 0;
    }
}

int csrtp_session_create(srtp_t *session, int profile, const void *key_and_salt, size_t length, int inbound,
                         unsigned long replay_window) {
    int status = csrtp_library_init();
    if (status != srtp_err_status_ok) return status;
    size_t expected = csrtp_profile_key_length(profile) + csrtp_profile_salt_length(profile);
    if (expected == 0 || length != expected) return srtp_err_status_bad_param;

    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    switch (profile) {
    case csrtp_profile_aes128_cm_sha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
    case csrtp_profile_aead_aes_128_gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        break;
    default:
        return srtp_err_status_bad_param;
    }
    // libsrtp copies the key during srtp_create; the policy only borrows it.
    unsigned char key[SRTP_MAX_KEY_LEN];
    memcpy(key, key_and_salt, length);
    policy.key = key;
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.window_size = replay_window;
    policy.allow_repeat_tx = inbound ? 0 : 1;
    policy.next = NULL;
    status = srtp_create(session, &policy);
    memset(key, 0, sizeof(key));
    return status;
}

// MARK: AES-GCM

struct csrtp_gcm {
    EVP_CIPHER_CTX *cipher;
};

csrtp_gcm *csrtp_gcm_new(const void *key, int encrypt) {
    csrtp_gcm *context = calloc(1, sizeof(csrtp_gcm));
    if (context == NULL) return NULL;
    context->cipher = EVP_CIPHER_CTX_new();
    int ok = context->cipher != NULL
        && EVP_CipherInit_ex(context->cipher, EVP_aes_128_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) == 1
        && EVP_CIPHER_CTX_ctrl(context->cipher, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1
        && EVP_CipherInit_ex(context->cipher, NULL, NULL, key, NULL, -1) == 1;
    if (!ok) {
        csrtp_gcm_free(context);
        return NULL;
    }
    return context;
}

void csrtp_gcm_free(csrtp_gcm *context) {
    if (context == NULL) return;
    EVP_CIPHER_CTX_free(context->cipher);
    free(context);
}

int csrtp_gcm_seal(csrtp_gcm *context, const void *iv, const void *aad, size_t aad_length, void *data, size_t length,
                   void *tag) {
    int written = 0;
    if (aad_length > INT_MAX || length > INT_MAX) return 0;
    if (EVP_EncryptInit_ex(context->cipher, NULL, NULL, NULL, iv) != 1) return 0;
    if (EVP_EncryptUpdate(context->cipher, NULL, &written, aad, (int)aad_length) != 1) return 0;
    if (length > 0 && EVP_EncryptUpdate(context->cipher, data, &written, data, (int)length) != 1) return 0;
    if (EVP_EncryptFinal_ex(context->cipher, (unsigned char *)data + written, &written) != 1) return 0;
    return EVP_CIPHER_CTX_ctrl(context->cipher, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
}

int csrtp_gcm_open(csrtp_gcm *context, const void *iv, const void *aad, size_t aad_length, void *data, size_t length,
                   const void *tag) {
    int written = 0;
    if (aad_length > INT_MAX || length > INT_MAX) return 0;
    if (EVP_DecryptInit_ex(context->cipher, NULL, NULL, NULL, iv) != 1) return 0;
    if (EVP_DecryptUpdate(context->cipher, NULL, &written, aad, (int)aad_length) != 1) return 0;
    if (length > 0 && EVP_DecryptUpdate(context->cipher, data, &written, data, (int)length) != 1) return 0;
    if (EVP_CIPHER_CTX_ctrl(context->cipher, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) != 1) return 0;
    return EVP_DecryptFinal_ex(context->cipher, (unsigned char *)data + written, &written) == 1;
}

int csrtp_aes128_block(const void *key, const void *in, void *out) {
    EVP_CIPHER_CTX *cipher = EVP_CIPHER_CTX_new();
    if (cipher == NULL) return 0;
    int written = 0;
    int ok = EVP_EncryptInit_ex(cipher, EVP_aes_128_ecb(), NULL, key, NULL) == 1
        && EVP_CIPHER_CTX_set_padding(cipher, 0) == 1
        && EVP_EncryptUpdate(cipher, out, &written, in, 16) == 1 && written == 16;
    EVP_CIPHER_CTX_free(cipher);
    return ok;
}

// MARK: certificate

int csrtp_generate_certificate(EVP_PKEY **key_out, X509 **cert_out, const char *common_name, int valid_days) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (key == NULL) return 0;
    X509 *cert = X509_new();
    if (cert == NULL) { EVP_PKEY_free(key); return 0; }
    int ok = 0;
    unsigned char serial_bytes[8];
    BIGNUM *serial = NULL;
    X509_NAME *name = NULL;
    do {
        if (X509_set_version(cert, 2) != 1) break;
        if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) break;
        serial_bytes[0] &= 0x7F;  // positive
        serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
        if (serial == NULL || BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL) break;
        if (X509_gmtime_adj(X509_getm_notBefore(cert), -86400L) == NULL) break;
        if (X509_gmtime_adj(X509_getm_notAfter(cert), (long)valid_days * 86400L) == NULL) break;
        if (X509_set_pubkey(cert, key) != 1) break;
        name = X509_NAME_new();
        if (name == NULL) break;
        if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) != 1)
            break;
        if (X509_set_subject_name(cert, name) != 1 || X509_set_issuer_name(cert, name) != 1) break;
        if (X509_sign(cert, key, EVP_sha256()) <= 0) break;
        ok = 1;
    } while (0);
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return 0;
    }
    *key_out = key;
    *cert_out = cert;
    return 1;
}

int csrtp_certificate_sha256(X509 *cert, void *out) {
    unsigned int length = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    if (X509_digest(cert, EVP_sha256(), digest, &length) != 1 || length != 32) return 0;
    memcpy(out, digest, 32);
    return 1;
}

// MARK: datagram BIO

typedef struct {
    unsigned char *data;
    size_t length;
} csrtp_datagram;

/// Per-connection state behind the BIO and the SSL's app data.
typedef struct {
    // Input: one borrowed datagram for the next read.
    const unsigned char *input;
    size_t input_length;
    // Output: datagrams written by OpenSSL, oldest first.
    csrtp_datagram *output;
    size_t output_count;
    size_t output_capacity;
    long mtu;
    // OpenSSL's retransmission deadline (s->d1->next_timeout), announced through
    // BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT; lets the caller expire it on its own clock.
    struct timeval *next_timeout;
    unsigned char expected_sha256[32];
    int fingerprint_mismatch;
} csrtp_dtls_state;

static BIO_METHOD *csrtp_bio_method = NULL;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int csrtp_bio_write(BIO *bio, const char *data, int length) {
    csrtp_dtls_state *state = BIO_get_data(bio);
    if (state == NULL || length < 0) return -1;
    if (state->output_count == state->output_capacity) {
        size_t capacity = state->output_capacity == 0 ? 8 : state->output_capacity * 2;
        csrtp_datagram *grown = realloc(state->output, capacity * sizeof(csrtp_datagram));
        if (grown == NULL) return -1;
        state->output = grown;
        state->output_capacity = capacity;
    }
    unsigned char *copy = malloc(length > 0 ? (size_t)length : 1);
    if (copy == NULL) return -1;
    memcpy(copy, data, (size_t)length);
    state->output[state->output_count].data = copy;
    state->output[state->output_count].length = (size_t)length;
    state->output_count += 1;
    return length;
}

static int csrtp_bio_read(BIO *bio, char *buffer, int capacity) {
    csrtp_dtls_state *state = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (state == NULL || state->input == NULL) {
        BIO_set_retry_read(bio);
        return -1;
    }
    // A datagram is read whole or not at all; excess is truncated as a UDP socket would.
    size_t n = state->input_length < (size_t)capacity ? state->input_length : (size_t)capacity;
    memcpy(buffer, state->input, n);
    state->input = NULL;
    state->input_length = 0;
    return (int)n;
}

static long csrtp_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    csrtp_dtls_state *state = BIO_get_data(bio);
    (void)num;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return state != NULL && state->input != NULL ? (long)state->input_length : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return state != NULL ? state->mtu : 1200;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 28;  // IPv4 + UDP; the MTU we are given is already the UDP payload budget
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        if (state != NULL) state->next_timeout = (struct timeval *)ptr;
        return 1;
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
        return 0;
    default:
        return 0;
    }
}

static int csrtp_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static int csrtp_bio_destroy(BIO *bio) {
    (void)bio;
    return 1;
}

static void csrtp_make_bio_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "visit-relay datagram");
    if (method == NULL) return;
    BIO_meth_set_write(method, csrtp_bio_write);
    BIO_meth_set_read(method, csrtp_bio_read);
    BIO_meth_set_ctrl(method, csrtp_bio_ctrl);
    BIO_meth_set_create(method, csrtp_bio_create);
    BIO_meth_set_destroy(method, csrtp_bio_destroy);
    csrtp_bio_method = method;
}

// MARK: DTLS

static csrtp_dtls_state *csrtp_state(SSL *ssl) { return (csrtp_dtls_state *)SSL_get_app_data(ssl); }

/// Peer certificate check: WebRTC certificates are self-signed, so trust comes only from the
/// fingerprint signalled in SDP (RFC 8122 §5, RFC 5763 §5). Depth 0 is the peer's own certificate.
static int csrtp_verify_callback(int preverify_ok, X509_STORE_CTX *store) {
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == NULL) return 0;
    csrtp_dtls_state *state = csrtp_state(ssl);
    if (state == NULL) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    unsigned char digest[32];
    if (cert == NULL || csrtp_certificate_sha256(cert, digest) != 1) {
        state->fingerprint_mismatch = 1;
        return 0;
    }
    if (CRYPTO_memcmp(digest, state->expected_sha256, 32) != 0) {
        state->fingerprint_mismatch = 1;
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

/// Park OpenSSL's own retransmission clock an hour ahead; the sans-I/O endpoint owns the schedule.
static unsigned int csrtp_timer_callback(SSL *ssl, unsigned int previous_us) {
    (void)ssl;
    (void)previous_us;
    return 3600u * 1000000u;
}

SSL_CTX *csrtp_dtls_context_new(EVP_PKEY *key, X509 *cert, const char *srtp_profiles) {
    pthread_once(&bio_once, csrtp_make_bio_method);
    if (csrtp_bio_method == NULL) return NULL;
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (ctx == NULL) return NULL;
    int ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1
        && SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) == 1
        && SSL_CTX_use_certificate(ctx, cert) == 1
        && SSL_CTX_use_PrivateKey(ctx, key) == 1
        && SSL_CTX_check_private_key(ctx) == 1
        && SSL_CTX_set_cipher_list(ctx,
               "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305") == 1
        && SSL_CTX_set1_groups_list(ctx, "X25519:P-256") == 1
        // Note: returns 0 on success, unlike most of OpenSSL.
        && SSL_CTX_set_tlsext_use_srtp(ctx, srtp_profiles) == 0;
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, csrtp_verify_callback);
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

SSL *csrtp_dtls_new(SSL_CTX *ctx, int is_client, long mtu, const void *expected_sha256) {
    csrtp_dtls_state *state = calloc(1, sizeof(csrtp_dtls_state));
    if (state == NULL) return NULL;
    state->mtu = mtu;
    memcpy(state->expected_sha256, expected_sha256, 32);
    SSL *ssl = SSL_new(ctx);
    BIO *bio = ssl != NULL ? BIO_new(csrtp_bio_method) : NULL;
    if (ssl == NULL || bio == NULL) {
        if (ssl != NULL) SSL_free(ssl);
        free(state);
        return NULL;
    }
    BIO_set_data(bio, state);
    SSL_set_app_data(ssl, state);
    SSL_set_bio(ssl, bio, bio);  // the SSL owns one reference and frees it
    SSL_set_mtu(ssl, mtu);
    DTLS_set_link_mtu(ssl, mtu);
    DTLS_set_timer_cb(ssl, csrtp_timer_callback);
    if (is_client) SSL_set_connect_state(ssl); else SSL_set_accept_state(ssl);
    return ssl;
}

static void csrtp_state_free(csrtp_dtls_state *state) {
    if (state == NULL) return;
    for (size_t i = 0; i < state->output_count; i++) free(state->output[i].data);
    free(state->output);
    free(state);
}

void csrtp_dtls_free(SSL *ssl) {
    if (ssl == NULL) return;
    csrtp_dtls_state *state = csrtp_state(ssl);
    SSL_free(ssl);  // frees the BIO too; the BIO's destroy leaves the state to us
    csrtp_state_free(state);
}

void csrtp_dtls_set_input(SSL *ssl, const void *data, size_t length) {
    csrtp_dtls_state *state = csrtp_state(ssl);
    state->input = data;
    state->input_length = length;
}

size_t csrtp_dtls_output_count(SSL *ssl) { return csrtp_state(ssl)->output_count; }

long csrtp_dtls_pop_output(SSL *ssl, void *buffer, size_t capacity) {
    csrtp_dtls_state *state = csrtp_state(ssl);
    if (state->output_count == 0) return 0;
    csrtp_datagram first = state->output[0];
    if (first.length > capacity) return -1;
    memcpy(buffer, first.data, first.length);
    free(first.data);
    memmove(state->output, state->output + 1, (state->output_count - 1) * sizeof(csrtp_datagram));
    state->output_count -= 1;
    return (long)first.length;
}

int csrtp_dtls_timer_running(SSL *ssl) {
    csrtp_dtls_state *state = csrtp_state(ssl);
    return state->next_timeout != NULL && (state->next_timeout->tv_sec != 0 || state->next_timeout->tv_usec != 0);
}

int csrtp_dtls_force_timeout(SSL *ssl) {
    csrtp_dtls_state *state = csrtp_state(ssl);
    if (!csrtp_dtls_timer_running(ssl)) return 0;
    state->next_timeout->tv_sec = 1;  // 1970: expired, but non-zero (zero means "no timer")
    state->next_timeout->tv_usec = 0;
    return (int)DTLSv1_handle_timeout(ssl);
}

int csrtp_dtls_fingerprint_mismatch(SSL *ssl) { return csrtp_state(ssl)->fingerprint_mismatch; }

int csrtp_dtls_selected_srtp_profile(SSL *ssl) {
    SRTP_PROTECTION_PROFILE *profile = SSL_get_selected_srtp_profile(ssl);
    return profile != NULL ? (int)profile->id : 0;
}

int csrtp_dtls_export_srtp_keys(SSL *ssl, void *out, size_t length) {
    static const char label[] = "EXTRACTOR-dtls_srtp";
    return SSL_export_keying_material(ssl, out, length, label, sizeof(label) - 1, NULL, 0, 0);
}

int csrtp_dtls_peer_sha256(SSL *ssl, void *out) {
    X509 *cert = SSL_get0_peer_certificate(ssl);
    return cert != NULL ? csrtp_certificate_sha256(cert, out) : 0;
}

void csrtp_last_error(char *buffer, size_t capacity) {
    unsigned long code = ERR_get_error();
    if (capacity == 0) return;
    if (code == 0) {
        buffer[0] = 0;
    } else {
        ERR_error_string_n(code, buffer, capacity);
    }
    ERR_clear_error();
}
