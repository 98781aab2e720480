/*
 * The C side of baremsg's benchmarks (benches/msgbench.rs runs it; benches/callgrind
 * counts its instructions). Compiled with `cc -O2` (`cc -O2 -m32` for i686).
 *
 *   glibc_cmsg IMPL WORKLOAD ITERS
 *
 * runs ITERS iterations of WORKLOAD and prints the nanoseconds per iteration of the
 * timed loop (setup excluded) on stdout. Exit status 0, or 1 with a message on stderr.
 *
 * WORKLOAD, each iteration one send and one receive over a socketpair:
 *   W1  SOCK_STREAM, 16 bytes, no control data;
 *   W2  SOCK_STREAM, 1 byte with one fd (SCM_RIGHTS), received with MSG_CMSG_CLOEXEC,
 *       the received fd closed;
 *   W3  as W2 with 8 fds per message;
 *   W4  SOCK_DGRAM, receiver with SO_PASSCRED, 16 bytes sent, received with the
 *       kernel's SCM_CREDENTIALS, which are parsed and checked.
 *   W3x64, W3x253  as W3 with 64 and 253 fds per message.
 *   W5b1, W5b8, W5b32, W5b64  as W4, an iteration being one message; `mmsg` sends and
 *       receives them in batches of 1, 8, 32 or 64 (sendmmsg, recvmmsg), the others
 *       one a call, as W4.
 *
 * IMPL, all three making the same syscalls (sendmsg, recvmsg, close):
 *   glibc  glibc's wrappers, control data built and walked with the CMSG_* macros
 *          (CMSG_SPACE, CMSG_LEN, CMSG_FIRSTHDR, CMSG_NXTHDR, CMSG_DATA), as cmsg(3)
 *          shows it: the reference the other implementations are compared with;
 *   wrap   glibc's wrappers, control data laid out as a C struct (header then data),
 *          no CMSG macros;
 *   raw    as wrap, but entering the kernel with an inline `syscall` (x86_64) or
 *          `int 0x80` with the direct socket syscalls (i386), no libc call in the
 *          loop: the floor.
 *   vdso   i386: as raw, but entering the kernel through the vDSO's
 *          `__kernel_vsyscall` (the auxiliary vector's AT_SYSINFO, as glibc does), or
 *          `int 0x80` when there is none (valgrind hides it); x86_64: the same as raw.
 *   mmsg   W5 only: glibc's sendmmsg/recvmmsg, the credentials of each message found
 *          with the CMSG macros.
 *
 * Built dynamically (`cc -O2`) and statically (`cc -O2 -static`): msgbench runs both.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 253
#define MAX_BATCH 64

static void die(const char *what)
{
    fprintf(stderr, "glibc_cmsg: %s: %s\n", what, errno ? strerror(errno) : "unexpected result");
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- raw syscalls: the kernel entered from inline asm --------------------------- */

#if defined(__x86_64__)
static inline long raw3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}
#define NR_SENDMSG SYS_sendmsg
#define NR_RECVMSG SYS_recvmsg
#define NR_CLOSE SYS_close
/* No vDSO entry for syscalls on x86_64: `syscall` is the fast way in. */
#define vdso3 raw3
#elif defined(__i386__)
static inline long raw3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}
/* __kernel_vsyscall, set by main; 0 when there is none. */
static long vsyscall_entry;

/* The same registers as int 0x80, through __kernel_vsyscall, which preserves every
 * register but eax. */
static inline long vdso3(long n, long a, long b, long c)
{
    long ret;
    if (!vsyscall_entry)
        return raw3(n, a, b, c);
    __asm__ volatile("call *%[e]"
                     : "=a"(ret)
                     : "a"(n), "b"(a), "c"(b), "d"(c), [e] "r"(vsyscall_entry)
                     : "memory");
    return ret;
}
/* The direct socket syscalls (Linux 4.3+), as baremsg uses them. */
#define NR_SENDMSG 370
#define NR_RECVMSG 372
#define NR_CLOSE 6
#else
#error "x86_64 or i386 only"
#endif

static inline long raw_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return raw3(NR_SENDMSG, fd, (long)m, flags);
}
static inline long raw_recvmsg(int fd, struct msghdr *m, int flags)
{
    return raw3(NR_RECVMSG, fd, (long)m, flags);
}
static inline long raw_close(int fd)
{
    return raw3(NR_CLOSE, fd, 0, 0);
}
static inline long vdso_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return vdso3(NR_SENDMSG, fd, (long)m, flags);
}
static inline long vdso_recvmsg(int fd, struct msghdr *m, int flags)
{
    return vdso3(NR_RECVMSG, fd, (long)m, flags);
}
static inline long vdso_close(int fd)
{
    return vdso3(NR_CLOSE, fd, 0, 0);
}

/* ---- setup ---------------------------------------------------------------------- */

struct setup {
    int sock[2];
    int fds[MAX_FDS + 1]; /* the fds sent by W2 and W3 (pipes: one spare end) */
    int nfds;
    int batch; /* W5 */
};

static void setup(const char *w, struct setup *s)
{
    int dgram = strcmp(w, "W4") == 0 || strncmp(w, "W5b", 3) == 0;
    if (socketpair(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0, s->sock))
        die("socketpair");
    if (dgram) {
        int on = 1;
        if (setsockopt(s->sock[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on))
            die("SO_PASSCRED");
    }
    s->nfds = strcmp(w, "W2") == 0     ? 1
              : strcmp(w, "W3") == 0   ? 8
              : strcmp(w, "W3x64") == 0 ? 64
              : strcmp(w, "W3x253") == 0 ? 253
                                         : 0;
    s->batch = strncmp(w, "W5b", 3) == 0 ? atoi(w + 3) : 0;
    if (s->batch < 0 || s->batch > MAX_BATCH)
        die("batch size");
    for (int i = 0; i < s->nfds; i += 2) {
        if (pipe2(s->fds + i, O_CLOEXEC))
            die("pipe2");
    }
}

/* ---- glibc: wrappers and CMSG macros -------------------------------------------- */

static void glibc_w1(struct setup *s, long iters)
{
    char out[16] = "0123456789abcdef", in[16];
    for (long i = 0; i < iters; i++) {
        struct iovec siov = {out, sizeof out};
        struct msghdr sm = {.msg_iov = &siov, .msg_iovlen = 1};
        if (sendmsg(s->sock[0], &sm, MSG_NOSIGNAL) != 16)
            die("sendmsg");
        struct iovec riov = {in, sizeof in};
        struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1};
        if (recvmsg(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 16)
            die("recvmsg");
    }
}

static void glibc_fds(struct setup *s, long iters)
{
    int n = s->nfds;
    /* Unions keep the buffers aligned for struct cmsghdr, as cmsg(3) recommends. */
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } sctl, rctl;
    char out = 'x', in;
    for (long i = 0; i < iters; i++) {
        struct iovec siov = {&out, 1};
        struct msghdr sm = {.msg_iov = &siov,
                            .msg_iovlen = 1,
                            .msg_control = sctl.buf,
                            .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), s->fds, sizeof(int) * n);
        if (sendmsg(s->sock[0], &sm, MSG_NOSIGNAL) != 1)
            die("sendmsg");

        struct iovec riov = {&in, 1};
        struct msghdr rm = {.msg_iov = &riov,
                            .msg_iovlen = 1,
                            .msg_control = rctl.buf,
                            .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
        if (recvmsg(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 1)
            die("recvmsg");
        int got = 0;
        for (c = CMSG_FIRSTHDR(&rm); c; c = CMSG_NXTHDR(&rm, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (int j = 0; j < k; j++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + j * sizeof(int), sizeof fd);
                close(fd);
            }
            got += k;
        }
        if (got != n || (rm.msg_flags & MSG_CTRUNC))
            die("fds received");
    }
}

static void glibc_w4(struct setup *s, long iters)
{
    pid_t pid = getpid();
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } rctl;
    char out[16] = "0123456789abcdef", in[16];
    for (long i = 0; i < iters; i++) {
        struct iovec siov = {out, sizeof out};
        struct msghdr sm = {.msg_iov = &siov, .msg_iovlen = 1};
        if (sendmsg(s->sock[0], &sm, MSG_NOSIGNAL) != 16)
            die("sendmsg");
        struct iovec riov = {in, sizeof in};
        struct msghdr rm = {.msg_iov = &riov,
                            .msg_iovlen = 1,
                            .msg_control = rctl.buf,
                            .msg_controllen = sizeof rctl.buf};
        if (recvmsg(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 16)
            die("recvmsg");
        struct ucred cred;
        int found = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&rm); c; c = CMSG_NXTHDR(&rm, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                c->cmsg_len == CMSG_LEN(sizeof cred)) {
                memcpy(&cred, CMSG_DATA(c), sizeof cred);
                found = 1;
                break;
            }
        }
        if (!found || cred.pid != pid)
            die("credentials");
    }
}

/* ---- mmsg: batches with sendmmsg/recvmmsg (W5) ---------------------------------- */

static void mmsg_w5(struct setup *s, long iters)
{
    int b = s->batch;
    pid_t pid = getpid();
    char out[16] = "0123456789abcdef";
    static char in[MAX_BATCH][16];
    static union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } rctl[MAX_BATCH];
    struct iovec siov = {out, sizeof out}, riov[MAX_BATCH];
    struct mmsghdr sm[MAX_BATCH], rm[MAX_BATCH];
    memset(sm, 0, sizeof sm);
    for (int j = 0; j < b; j++) {
        sm[j].msg_hdr.msg_iov = &siov;
        sm[j].msg_hdr.msg_iovlen = 1;
    }
    long batches = (iters + b - 1) / b;
    for (long i = 0; i < batches; i++) {
        if (sendmmsg(s->sock[0], sm, b, MSG_NOSIGNAL) != b)
            die("sendmmsg");
        for (int j = 0; j < b; j++) {
            riov[j].iov_base = in[j];
            riov[j].iov_len = sizeof in[j];
            rm[j].msg_hdr = (struct msghdr){.msg_iov = &riov[j],
                                            .msg_iovlen = 1,
                                            .msg_control = rctl[j].buf,
                                            .msg_controllen = sizeof rctl[j].buf};
        }
        if (recvmmsg(s->sock[1], rm, b, MSG_CMSG_CLOEXEC, NULL) != b)
            die("recvmmsg");
        for (int j = 0; j < b; j++) {
            if (rm[j].msg_len != 16)
                die("recvmmsg length");
            struct ucred cred;
            int found = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&rm[j].msg_hdr); c;
                 c = CMSG_NXTHDR(&rm[j].msg_hdr, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                    c->cmsg_len == CMSG_LEN(sizeof cred)) {
                    memcpy(&cred, CMSG_DATA(c), sizeof cred);
                    found = 1;
                    break;
                }
            }
            if (!found || cred.pid != pid)
                die("credentials");
        }
    }
}

/* ---- wrap and raw: control data as a struct, no CMSG macros --------------------- */

/* What one SCM_RIGHTS or SCM_CREDENTIALS message looks like in memory: on x86_64 and
 * i386 the header's size is a multiple of the alignment, so data follows it directly. */
struct rights {
    struct cmsghdr h;
    int fds[MAX_FDS];
};
struct creds {
    struct cmsghdr h;
    struct ucred cred;
};

#define HDR_LEN sizeof(struct cmsghdr)
#define CRED_LEN (HDR_LEN + sizeof(struct ucred))

/* Both variants in one body, the syscall entry chosen by the macros. */
#define DEFINE_PLAIN(NAME, SENDMSG, RECVMSG, CLOSE)                                        \
    static void NAME##_w1(struct setup *s, long iters)                                     \
    {                                                                                      \
        char out[16] = "0123456789abcdef", in[16];                                         \
        for (long i = 0; i < iters; i++) {                                                 \
            struct iovec siov = {out, sizeof out};                                         \
            struct msghdr sm = {.msg_iov = &siov, .msg_iovlen = 1};                        \
            if (SENDMSG(s->sock[0], &sm, MSG_NOSIGNAL) != 16)                              \
                die("sendmsg");                                                            \
            struct iovec riov = {in, sizeof in};                                           \
            struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1};                        \
            if (RECVMSG(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 16)                          \
                die("recvmsg");                                                            \
        }                                                                                  \
    }                                                                                      \
    static void NAME##_fds(struct setup *s, long iters)                                    \
    {                                                                                      \
        int n = s->nfds;                                                                   \
        size_t len = HDR_LEN + sizeof(int) * n;                                            \
        struct rights sctl, rctl;                                                          \
        sctl.h.cmsg_len = len;                                                             \
        sctl.h.cmsg_level = SOL_SOCKET;                                                    \
        sctl.h.cmsg_type = SCM_RIGHTS;                                                     \
        memcpy(sctl.fds, s->fds, sizeof(int) * n);                                         \
        char out = 'x', in;                                                                \
        for (long i = 0; i < iters; i++) {                                                 \
            struct iovec siov = {&out, 1};                                                 \
            struct msghdr sm = {                                                           \
                .msg_iov = &siov, .msg_iovlen = 1, .msg_control = &sctl,                   \
                .msg_controllen = len};                                                    \
            if (SENDMSG(s->sock[0], &sm, MSG_NOSIGNAL) != 1)                               \
                die("sendmsg");                                                            \
            struct iovec riov = {&in, 1};                                                  \
            struct msghdr rm = {                                                           \
                .msg_iov = &riov, .msg_iovlen = 1, .msg_control = &rctl,                   \
                .msg_controllen = len};                                                    \
            if (RECVMSG(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 1)                           \
                die("recvmsg");                                                            \
            if (rm.msg_controllen < len || rctl.h.cmsg_len != len ||                       \
                rctl.h.cmsg_level != SOL_SOCKET || rctl.h.cmsg_type != SCM_RIGHTS ||       \
                (rm.msg_flags & MSG_CTRUNC))                                               \
                die("fds received");                                                       \
            for (int j = 0; j < n; j++)                                                    \
                CLOSE(rctl.fds[j]);                                                        \
        }                                                                                  \
    }                                                                                      \
    static void NAME##_w4(struct setup *s, long iters)                                     \
    {                                                                                      \
        pid_t pid = getpid();                                                              \
        struct creds rctl;                                                                 \
        char out[16] = "0123456789abcdef", in[16];                                         \
        for (long i = 0; i < iters; i++) {                                                 \
            struct iovec siov = {out, sizeof out};                                         \
            struct msghdr sm = {.msg_iov = &siov, .msg_iovlen = 1};                        \
            if (SENDMSG(s->sock[0], &sm, MSG_NOSIGNAL) != 16)                              \
                die("sendmsg");                                                            \
            struct iovec riov = {in, sizeof in};                                           \
            struct msghdr rm = {                                                           \
                .msg_iov = &riov, .msg_iovlen = 1, .msg_control = &rctl,                   \
                .msg_controllen = sizeof rctl};                                            \
            if (RECVMSG(s->sock[1], &rm, MSG_CMSG_CLOEXEC) != 16)                          \
                die("recvmsg");                                                            \
            if (rm.msg_controllen < CRED_LEN || rctl.h.cmsg_len != CRED_LEN ||             \
                rctl.h.cmsg_level != SOL_SOCKET || rctl.h.cmsg_type != SCM_CREDENTIALS ||  \
                rctl.cred.pid != pid)                                                      \
                die("credentials");                                                        \
        }                                                                                  \
    }

DEFINE_PLAIN(wrap, sendmsg, recvmsg, close)
DEFINE_PLAIN(raw, raw_sendmsg, raw_recvmsg, raw_close)
DEFINE_PLAIN(vdso, vdso_sendmsg, vdso_recvmsg, vdso_close)

/* ---- main ----------------------------------------------------------------------- */

typedef void (*run_fn)(struct setup *, long);

static run_fn pick(const char *impl, const char *w)
{
    static const struct {
        const char *name;
        run_fn w1, fds, w4;
    } impls[] = {
        {"glibc", glibc_w1, glibc_fds, glibc_w4},
        {"wrap", wrap_w1, wrap_fds, wrap_w4},
        {"raw", raw_w1, raw_fds, raw_w4},
        {"vdso", vdso_w1, vdso_fds, vdso_w4},
        {"mmsg", NULL, NULL, NULL},
    };
    if (strncmp(w, "W5b", 3) == 0 && strcmp(impl, "mmsg") == 0)
        return mmsg_w5;
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        if (strcmp(impls[i].name, impl) != 0)
            continue;
        if (strcmp(w, "W1") == 0)
            return impls[i].w1;
        if (strcmp(w, "W2") == 0 || strncmp(w, "W3", 2) == 0)
            return impls[i].fds;
        if (strcmp(w, "W4") == 0 || strncmp(w, "W5b", 3) == 0)
            return impls[i].w4;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    /* "quiet": print nothing (for callgrind: formatting the time costs a number of
     * instructions that varies with its digits). */
    int quiet = argc == 5 && strcmp(argv[4], "quiet") == 0;
    if (argc != 4 && !quiet) {
        fprintf(stderr, "usage: glibc_cmsg glibc|wrap|raw|vdso|mmsg W1|W2|W3|W4|W3xN|W5bN ITERS [quiet]\n");
        return 1;
    }
    run_fn run = pick(argv[1], argv[2]);
    long iters = strtol(argv[3], NULL, 10);
    if (!run || iters < 0) {
        fprintf(stderr, "glibc_cmsg: unknown implementation, workload or count\n");
        return 1;
    }
#if defined(__i386__)
    vsyscall_entry = (long)getauxval(AT_SYSINFO);
#endif
    struct setup s;
    setup(argv[2], &s);
    uint64_t t0 = now_ns();
    run(&s, iters);
    uint64_t t1 = now_ns();
    if (!quiet)
        printf("%.2f\n", iters ? (double)(t1 - t0) / (double)iters : 0.0);
    return 0;
}
