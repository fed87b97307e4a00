// udp-floor: what the kernel alone costs per forwarded UDP datagram on this machine.
//
// A forwarder thread does what the relay's I/O does and nothing else: epoll_wait on one UDP socket,
// recvmmsg until empty (batches of 32), sendmmsg every datagram on to a sink socket. A blaster
// sends 1200-byte datagrams to it in 1 ms bursts at a fixed rate; a sink reads and counts them. The
// forwarder's own CPU time (CLOCK_THREAD_CPUTIME_ID: user and system, including the loopback
// delivery into the sink's socket that its sendmmsg performs) divided by the datagrams it forwarded
// is the floor under the relay's "CPU per forwarded packet": no SFU on this kernel path can be
// cheaper. No crypto, no parsing, no allocation. Each datagram carries its send time, and the sink
// records blaster-to-sink latency: the floor under relay-load's "added latency" (two loopback hops
// and two wake-ups, as harness to relay to harness).
//
// The three threads share the machine's cores, so at the higher rates the latency column measures
// them queueing for a core as much as the kernel path.
//
// usage: udp-floor [seconds per rate (default 3)] [rates in datagrams/s, default 2000 20000 50000 100000 200000]
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { datagramSize = 1200, batch = 32 };

static atomic_int running;
// Latencies in microseconds, recorded by the sink (one writer).
enum { maxSamples = 4 << 20 };
static unsigned *latencies;
static long latencyCount;

static int compare(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

static double percentile(double p) {
    if (latencyCount == 0) return 0;
    long index = (long)(p * (double)(latencyCount - 1));
    return latencies[index] / 1000.0;
}
static atomic_long forwarded, sunk;

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bound_socket(struct sockaddr_in *address) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)address, sizeof *address) != 0) { perror("bind"); exit(1); }
    socklen_t length = sizeof *address;
    getsockname(fd, (struct sockaddr *)address, &length);
    return fd;
}

static long long monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// One socket read the way an event loop reads it: wait for epoll, then recvmmsg without blocking.
struct reader {
    int fd, epoll;
    char buffers[batch][2048];
    struct iovec iov[batch];
    struct mmsghdr messages[batch];
};

static void reader_open(struct reader *r, int fd) {
    r->fd = fd;
    r->epoll = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(r->epoll, EPOLL_CTL_ADD, fd, &event);
}

// True when the socket became readable within 50 ms.
static int reader_wait(struct reader *r) {
    struct epoll_event event;
    return epoll_wait(r->epoll, &event, 1, 50) > 0;
}

// Up to `batch` datagrams into r->buffers (lengths in r->messages[i].msg_len); 0 when none is queued.
static int reader_read(struct reader *r) {
    for (int i = 0; i < batch; i++) {
        r->iov[i] = (struct iovec){ r->buffers[i], sizeof r->buffers[i] };
        r->messages[i].msg_hdr = (struct msghdr){ .msg_iov = &r->iov[i], .msg_iovlen = 1 };
    }
    int count = recvmmsg(r->fd, r->messages, batch, MSG_DONTWAIT, NULL);
    return count > 0 ? count : 0;
}

struct forwarder { int fd; struct sockaddr_in sink; double cpu; };

static void *forward(void *argument) {
    struct forwarder *f = argument;
    static struct reader r;
    reader_open(&r, f->fd);
    double started = seconds(CLOCK_THREAD_CPUTIME_ID);
    while (atomic_load(&running)) {
        if (!reader_wait(&r)) continue;
        for (;;) {
            int count = reader_read(&r);
            if (count == 0) break;
            // The same buffers go straight back out, addressed to the sink.
            for (int i = 0; i < count; i++) {
                r.iov[i].iov_len = r.messages[i].msg_len;
                r.messages[i].msg_hdr = (struct msghdr){ .msg_name = &f->sink, .msg_namelen = sizeof f->sink,
                                                         .msg_iov = &r.iov[i], .msg_iovlen = 1 };
            }
            int sent = sendmmsg(f->fd, r.messages, (unsigned)count, 0);
            if (sent > 0) atomic_fetch_add(&forwarded, sent);
            if (count < batch) break;
        }
    }
    f->cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - started;
    close(r.epoll);
    return NULL;
}

static void *sink(void *argument) {
    static struct reader r;
    reader_open(&r, *(int *)argument);
    while (atomic_load(&running)) {
        if (!reader_wait(&r)) continue;
        for (;;) {
            int count = reader_read(&r);
            if (count == 0) break;
            long long arrived = monotonic_nanoseconds();
            for (int i = 0; i < count && latencyCount < maxSamples; i++) {
                long long sent;
                memcpy(&sent, r.buffers[i], sizeof sent);
                if (arrived >= sent) latencies[latencyCount++] = (unsigned)((arrived - sent) / 1000);
            }
            atomic_fetch_add(&sunk, count);
        }
    }
    close(r.epoll);
    return NULL;
}

// Sends `rate` datagrams per second to `target` for `duration` seconds, in 1 ms bursts.
static void blast(int fd, struct sockaddr_in *target, long rate, double duration) {
    static char payload[datagramSize];
    memset(payload, 0xa5, sizeof payload);
    struct iovec iov = { payload, sizeof payload };
    struct mmsghdr messages[batch];
    for (int i = 0; i < batch; i++)
        messages[i].msg_hdr = (struct msghdr){ .msg_name = target, .msg_namelen = sizeof *target, .msg_iov = &iov, .msg_iovlen = 1 };
    double start = seconds(CLOCK_MONOTONIC), owedFrom = start;
    long sent = 0;
    while (seconds(CLOCK_MONOTONIC) - start < duration) {
        double now = seconds(CLOCK_MONOTONIC);
        long due = (long)((now - owedFrom) * (double)rate) - sent;
        while (due > 0) {
            int n = due < batch ? (int)due : batch;
            long long sentAt = monotonic_nanoseconds();
            memcpy(payload, &sentAt, sizeof sentAt);
            int done = sendmmsg(fd, messages, (unsigned)n, 0);
            if (done <= 0) break;
            sent += done;
            due -= done;
        }
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
}

int main(int argc, char **argv) {
    double duration = argc > 1 ? atof(argv[1]) : 3;
    long defaults[] = { 2000, 20000, 50000, 100000, 200000 };
    int rates = argc > 2 ? argc - 2 : 5;
    latencies = malloc(sizeof *latencies * maxSamples);
    printf("| offered datagrams/s | forwarded/s | forwarder CPU | CPU µs per forwarded datagram | datagrams/s per core at that cost | latency p50 / p99 / p99.9 |\n");
    printf("| --- | --- | --- | --- | --- | --- |\n");
    for (int r = 0; r < rates; r++) {
        long rate = argc > 2 ? atol(argv[r + 2]) : defaults[r];
        struct sockaddr_in sinkAddress, forwarderAddress, blasterAddress;
        int sinkFd = bound_socket(&sinkAddress), forwarderFd = bound_socket(&forwarderAddress);
        int blasterFd = bound_socket(&blasterAddress);
        struct forwarder f = { forwarderFd, sinkAddress, 0 };
        atomic_store(&running, 1);
        atomic_store(&forwarded, 0);
        atomic_store(&sunk, 0);
        latencyCount = 0;
        pthread_t forwarderThread, sinkThread;
        pthread_create(&sinkThread, NULL, sink, &sinkFd);
        pthread_create(&forwarderThread, NULL, forward, &f);
        double wall = seconds(CLOCK_MONOTONIC);
        blast(blasterFd, &forwarderAddress, rate, duration);
        usleep(100000);
        wall = seconds(CLOCK_MONOTONIC) - wall;
        atomic_store(&running, 0);
        pthread_join(forwarderThread, NULL);
        pthread_join(sinkThread, NULL);
        long count = atomic_load(&forwarded);
        double perPacket = count > 0 ? f.cpu / (double)count * 1e6 : 0;
        qsort(latencies, (size_t)latencyCount, sizeof *latencies, compare);
        printf("| %ld | %.0f | %.0f %% | %.2f µs | %.0f | %.2f / %.2f / %.2f ms |\n", rate, (double)count / wall,
               100 * f.cpu / wall, perPacket, perPacket > 0 ? 1e6 / perPacket : 0, percentile(0.5), percentile(0.99),
               percentile(0.999));
        fflush(stdout);
        close(sinkFd); close(forwarderFd); close(blasterFd);
    }
    return 0;
}
