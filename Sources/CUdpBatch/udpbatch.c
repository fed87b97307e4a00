#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cudpbatch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

enum { chunk = 64 };

int cudp_send(int fd, const cudp_datagram *datagrams, int count, int *refused, int *error) {
    struct mmsghdr messages[chunk];
    struct iovec vectors[chunk];
    int sent = 0, skipped = 0, next = 0;
    *error = 0;
    while (next < count) {
        int n = count - next < chunk ? count - next : chunk;
        for (int i = 0; i < n; i++) {
            const cudp_datagram *d = &datagrams[next + i];
            vectors[i].iov_base = (void *)d->bytes;
            vectors[i].iov_len = d->length;
            memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
            messages[i].msg_hdr.msg_name = (void *)d->address;
            messages[i].msg_hdr.msg_namelen = d->address_length;
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int result = sendmmsg(fd, messages, (unsigned)n, MSG_DONTWAIT);
        if (result > 0) {
            sent += result;
            next += result;
            continue;
        }
        // result <= 0: the first datagram of this chunk was refused.
        if (result < 0 && errno == EINTR) continue;
        *error = result < 0 ? errno : EIO;
        if (*error == EAGAIN || *error == EWOULDBLOCK || *error == ENOBUFS) {
            skipped += count - next;  // the socket's buffer is full: nothing more goes now
            break;
        }
        skipped += 1;  // this destination only
        next += 1;
    }
    *refused = skipped;
    return sent;
}
