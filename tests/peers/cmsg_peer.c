/*
 * A C peer for baremsg's tests: builds and walks control messages with glibc's
 * CMSG_FIRSTHDR / CMSG_NXTHDR / CMSG_DATA / CMSG_SPACE / CMSG_LEN, over a Unix socket
 * inherited from the test as an fd number. Compiled by tests/peers.rs at the width of
 * the test binary (cc, or cc -m32 for i686).
 *
 *   cmsg_peer recv FD REPLY
 *       Sets SO_PASSCRED on FD, sends one byte "R" to say so, then receives one message
 *       with room for 16 fds and credentials. Prints the payload, msg_flags, every
 *       control message ("cmsgN LEVEL/TYPE/LEN") and their count ("ncmsg"), the
 *       credentials ("cred PID UID GID"), the fd count ("nfds"), and then treats the
 *       fds in order: every fd but the last is read to end of file ("fdN HEX"), REPLY
 *       is written to the last one.
 *
 *   cmsg_peer send FD TAG
 *       Sends one message with payload "TAG-payload" and two control messages in one
 *       buffer: SCM_RIGHTS with the read end of a pipe holding "TAG-pipe" (write end
 *       closed) and a memfd holding "TAG-file" (at offset 0), then SCM_CREDENTIALS with
 *       this process's pid, uid and gid. Prints "pid PID".
 *
 * Exit status: 0 on success, 1 with a message on stderr on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 16

static void die(const char *what)
{
    fprintf(stderr, "cmsg_peer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void print_hex(const char *key, const unsigned char *p, size_t n)
{
    printf("%s ", key);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static void write_all(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        s += n;
        len -= (size_t)n;
    }
}

static size_t read_to_eof(int fd, unsigned char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if (n == 0 || len + (size_t)n == cap)
            return len + (size_t)n;
        len += (size_t)n;
    }
}

static void set_timeout(int sock)
{
    struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        die("setsockopt SO_RCVTIMEO");
}

static int do_recv(int sock, const char *reply)
{
    int on = 1;
    if (setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
        die("setsockopt SO_PASSCRED");
    if (send(sock, "R", 1, MSG_NOSIGNAL) != 1)
        die("send ready byte");

    unsigned char payload[4096];
    struct iovec iov = {.iov_base = payload, .iov_len = sizeof payload};
    union {
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (got < 0)
        die("recvmsg");
    print_hex("payload", payload, (size_t)got);
    printf("flags %d\n", msg.msg_flags);

    int fds[MAX_FDS];
    size_t nfds = 0;
    int ncmsg = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        printf("cmsg%d %d/%d/%zu\n", ncmsg++, c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            if (nfds + n > MAX_FDS) {
                fprintf(stderr, "cmsg_peer: too many fds\n");
                return 1;
            }
            memcpy(fds + nfds, CMSG_DATA(c), n * sizeof(int));
            nfds += n;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            printf("cred %d %u %u\n", (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
        }
    }
    printf("ncmsg %d\n", ncmsg);
    printf("nfds %zu\n", nfds);
    for (size_t i = 0; i < nfds; i++) {
        char key[16];
        snprintf(key, sizeof key, "fd%zu", i);
        if (i + 1 < nfds) {
            unsigned char data[4096];
            size_t n = read_to_eof(fds[i], data, sizeof data);
            print_hex(key, data, n);
        } else {
            write_all(fds[i], reply);
        }
        close(fds[i]);
    }
    return 0;
}

static int do_send(int sock, const char *tag)
{
    char text[256];
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        die("pipe2");
    snprintf(text, sizeof text, "%s-pipe", tag);
    write_all(pipefd[1], text);
    close(pipefd[1]);

    int memfd = memfd_create("cmsg_peer", MFD_CLOEXEC);
    if (memfd < 0)
        die("memfd_create");
    snprintf(text, sizeof text, "%s-file", tag);
    write_all(memfd, text);
    if (lseek(memfd, 0, SEEK_SET) != 0)
        die("lseek");

    char payload[256];
    snprintf(payload, sizeof payload, "%s-payload", tag);
    struct iovec iov = {.iov_base = payload, .iov_len = strlen(payload)};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    /* Zeroed first: CMSG_NXTHDR reads the cmsg_len of the header it moves to. */
    memset(&control, 0, sizeof control);
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };

    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {pipefd[0], memfd};
    memcpy(CMSG_DATA(c), fds, sizeof fds);

    c = CMSG_NXTHDR(&msg, c);
    if (c == NULL) {
        fprintf(stderr, "cmsg_peer: no room for the second control message\n");
        return 1;
    }
    struct ucred cred = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof cred);
    memcpy(CMSG_DATA(c), &cred, sizeof cred);

    ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (sent < 0)
        die("sendmsg");
    if ((size_t)sent != iov.iov_len) {
        fprintf(stderr, "cmsg_peer: short send %zd\n", sent);
        return 1;
    }
    printf("pid %d\n", (int)getpid());
    close(pipefd[0]);
    close(memfd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: cmsg_peer recv|send FD TEXT\n");
        return 2;
    }
    int sock = atoi(argv[2]);
    set_timeout(sock);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(sock, argv[3]);
    if (strcmp(argv[1], "send") == 0)
        return do_send(sock, argv[3]);
    fprintf(stderr, "cmsg_peer: unknown mode %s\n", argv[1]);
    return 2;
}
