#ifndef CUDPBATCH_H
#define CUDPBATCH_H
// sendmmsg(2) for the media workers' output batches. Swift's Glibc module does not import
// `struct mmsghdr` or `sendmmsg` (they sit behind _GNU_SOURCE), so the one call is wrapped here.
// The header includes no system header: a C module that includes <sys/socket.h> takes its
// declarations from Glibc for every Swift file of the importing target, breaking the others.
#include <stddef.h>

/// One datagram to send: its bytes and a raw socket address (`sockaddr_in` or `sockaddr_in6`).
typedef struct cudp_datagram {
    const void *bytes;
    size_t length;
    const void *address;
    unsigned int address_length;
} cudp_datagram;

/// Sends `count` datagrams on the non-blocking UDP socket `fd` with as few sendmmsg(2) calls as the
/// kernel allows. A datagram the kernel refuses (an unreachable or filtered destination) is skipped;
/// when the send buffer is full (EAGAIN, ENOBUFS) the rest are skipped too. Returns how many were
/// sent and stores how many were skipped in `*refused`, and the last refusal's errno in `*error`.
int cudp_send(int fd, const cudp_datagram *datagrams, int count, int *refused, int *error);

#endif
