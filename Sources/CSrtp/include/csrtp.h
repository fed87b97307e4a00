#ifndef CSRTP_H
#define CSRTP_H
// C shim over libsrtp2 and OpenSSL 3 (DTLS-SRTP). Every function-like or variadic macro that
// Swift cannot import gets a prefixed wrapper here (csrtp_). The datagram BIO lives in shims.c.
#include <srtp2/srtp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <stddef.h>
#include <stdint.h>

#endif
