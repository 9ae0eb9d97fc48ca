/* Copied unchanged (but for this line) from shared/bench/loopsrv.c, the harness
 * behind shared/reference/perf.md; used by tests/bench/run.sh. */
/* loopsrv.c - tiny TCP accept loop on 127.0.0.1 only, for benchmarks.
 *
 * usage: loopsrv PORTFILE MAX_ACCEPTS MAX_SECONDS [IDLE_SECONDS]
 *
 * Binds 127.0.0.1 on a kernel-chosen port, writes the port number to
 * PORTFILE, then accepts and immediately closes connections. It stops by
 * itself after MAX_ACCEPTS accepted connections, after MAX_SECONDS in total,
 * or after IDLE_SECONDS (default 120) without a connection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: loopsrv PORTFILE MAX_ACCEPTS MAX_SECONDS [IDLE_SECONDS]\n");
        return 2;
    }
    long max_acc = atol(argv[2]);
    double max_s = atof(argv[3]), idle_s = argc > 4 ? atof(argv[4]) : 120;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("bind"); return 1; }
    if (listen(fd, 4096) < 0) { perror("listen"); return 1; }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f) { perror("portfile"); return 1; }
    fprintf(f, "%d\n", ntohs(sa.sin_port));
    fclose(f);
    rename(tmp, argv[1]);

    double t0 = now(), last = t0;
    long n = 0;
    while (n < max_acc) {
        double t = now();
        if (t - t0 > max_s || t - last > idle_s) break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, 1000);
        if (r <= 0) continue;
        for (;;) { /* drain the accept queue */
            int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC); /* listener is non-blocking */
            if (c < 0) break;
            close(c);
            n++;
            last = now();
            if (n >= max_acc) break;
        }
    }
    fprintf(stderr, "loopsrv: %ld accepts, exiting\n", n);
    close(fd);
    return 0;
}
