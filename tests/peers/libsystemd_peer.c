/* libsystemd's own service side, for tests/libsystemd.rs: linked with
 * -l:libsystemd.so.0 (package libsystemd0, no headers: the prototypes are declared
 * here). One command per run; results as `key value` lines on stdout.
 *
 *   notify STATE               sd_notify(0, STATE)
 *   fds STATE FD...            sd_pid_notify_with_fds(0, 0, STATE, fds)
 *   mainpidfd                  sd_pid_notify_with_fds(0, 0, "MAINPIDFD=1", {pidfd of self})
 *   barrier                    sd_notify_barrier(0, 5 s)
 *   watchdog                   sd_watchdog_enabled(0, &usec)
 *   listen [OUT]               sd_listen_fds_with_names(0, &names), and for each fd
 *                              sd_is_socket(fd, 0, 0, -1), sd_is_socket_inet(fd, 0, 0, -1, 0),
 *                              sd_is_socket_unix(fd, 0, -1, NULL, 0); into file OUT if given
 *   inet FD FAMILY TYPE LISTENING PORT    sd_is_socket_inet(...)
 *   unix FD TYPE LISTENING PATH           sd_is_socket_unix(fd, type, listening, PATH, 0)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int sd_notify(int unset_environment, const char *state);
int sd_pid_notify_with_fds(pid_t pid, int unset_environment, const char *state,
                           const int *fds, unsigned n_fds);
int sd_notify_barrier(int unset_environment, uint64_t timeout);
int sd_watchdog_enabled(int unset_environment, uint64_t *usec);
int sd_listen_fds_with_names(int unset_environment, char ***names);
int sd_is_socket(int fd, int family, int type, int listening);
int sd_is_socket_inet(int fd, int family, int type, int listening, uint16_t port);
int sd_is_socket_unix(int fd, int type, int listening, const char *path, size_t length);

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "notify") && argc == 3) {
        printf("r %d\n", sd_notify(0, argv[2]));
    } else if (!strcmp(cmd, "fds") && argc >= 3) {
        int fds[16];
        unsigned n = 0;
        for (int i = 3; i < argc && n < 16; i++)
            fds[n++] = atoi(argv[i]);
        printf("r %d\n", sd_pid_notify_with_fds(0, 0, argv[2], fds, n));
    } else if (!strcmp(cmd, "mainpidfd")) {
        int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (pidfd < 0)
            return 3;
        printf("pid %d\n", (int)getpid());
        printf("r %d\n", sd_pid_notify_with_fds(0, 0, "MAINPIDFD=1", &pidfd, 1));
    } else if (!strcmp(cmd, "barrier")) {
        printf("r %d\n", sd_notify_barrier(0, 5000000));
    } else if (!strcmp(cmd, "watchdog")) {
        uint64_t usec = 0;
        int r = sd_watchdog_enabled(0, &usec);
        printf("r %d\nusec %llu\n", r, (unsigned long long)usec);
    } else if (!strcmp(cmd, "listen")) {
        if (argc == 3 && !freopen(argv[2], "w", stdout))
            return 4;
        char **names = NULL;
        int n = sd_listen_fds_with_names(0, &names);
        printf("n %d\n", n);
        for (int i = 0; i < n; i++)
            printf("fd %d %s %d %d %d\n", 3 + i, names[i], sd_is_socket(3 + i, 0, 0, -1),
                   sd_is_socket_inet(3 + i, 0, 0, -1, 0), sd_is_socket_unix(3 + i, 0, -1, NULL, 0));
    } else if (!strcmp(cmd, "inet") && argc == 7) {
        printf("r %d\n", sd_is_socket_inet(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                                           atoi(argv[5]), (uint16_t)atoi(argv[6])));
    } else if (!strcmp(cmd, "unix") && argc == 6) {
        printf("r %d\n", sd_is_socket_unix(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                                           argv[5], 0));
    } else {
        return 2;
    }
    return 0;
}
