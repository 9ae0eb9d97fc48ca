/* chancost.c - what one shim report costs in the reporting process, with no
 * wrapper work at all: the AF_UNIX datagram socket the shim opens, connects
 * (the fail-closed check), sends one ~170-byte report on and closes, for every
 * connect/lookup it reports (it keeps no descriptor in the audited process).
 * The receiver is a thread of this program blocked in recv (so each report
 * also wakes it up, as the wrapper is woken), SO_PASSCRED set as the
 * wrapper's.  Loopback only: an abstract socket name private to this run.
 *
 * usage: chancost [N]   prints "open+connect+close US send US total US" */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int rfd;

static double
now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void *
drain(void *arg)
{
    char b[512];
    (void)arg;
    while (recv(rfd, b, sizeof b, 0) >= 0)
        ;
    return NULL;
}

static double
run(int n, const struct sockaddr_un *a, socklen_t al, int send_it)
{
    char msg[170];
    memset(msg, 'x', sizeof msg);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (const struct sockaddr *)a, al) < 0)
            exit(1);
        if (send_it && send(fd, msg, sizeof msg, 0) != (ssize_t)sizeof msg)
            exit(1);
        close(fd);
    }
    return (now_us() - t0) / n;
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    if (n < 1 || n > 10000000)
        return 2;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int l = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "aa-chancost-%d", (int)getpid());
    socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)l);
    int one = 1;
    rfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (rfd < 0 || bind(rfd, (const struct sockaddr *)&a, al) < 0 ||
        setsockopt(rfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
        return 1;
    pthread_t th;
    if (pthread_create(&th, NULL, drain, NULL) != 0)
        return 1;
    double occ = run(n, &a, al, 0), all = run(n, &a, al, 1);
    printf("open+connect+close %.2f us send %.2f us total %.2f us\n", occ, all - occ, all);
    return 0;
}
