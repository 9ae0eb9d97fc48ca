/* Copied unchanged (but for this line) from shared/bench/conncli.c, the harness
 * behind shared/reference/perf.md; used by tests/bench/run.sh. */
/* conncli.c - sequential loopback TCP connects, for benchmarks.
 *
 * usage: conncli plain|gai PORT COUNT
 *
 * plain: COUNT x { socket; connect 127.0.0.1:PORT; read until EOF; close }
 * gai:   the same, but each iteration resolves "localhost" with
 *        getaddrinfo(AF_INET, SOCK_STREAM) first (and frees the result).
 * Any address outside 127.0.0.0/8 is refused (never connected to).
 * COUNT is capped at 1000000. Exit status 1 if any connect failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int one(const struct sockaddr_in *sa) {
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "conncli: refusing non-loopback address\n");
        exit(3);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) { close(fd); return -1; }
    char b[16];
    while (read(fd, b, sizeof b) > 0) {} /* server closes right after accept */
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: conncli plain|gai PORT COUNT\n"); return 2; }
    int gai = !strcmp(argv[1], "gai");
    int port = atoi(argv[2]);
    long n = atol(argv[3]);
    if (port <= 0 || port > 65535 || n < 0 || n > 1000000) { fprintf(stderr, "conncli: bad args\n"); return 2; }
    long fails = 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (long i = 0; i < n; i++) {
        if (gai) {
            struct addrinfo h, *res = NULL;
            memset(&h, 0, sizeof h);
            h.ai_family = AF_INET;
            h.ai_socktype = SOCK_STREAM;
            if (getaddrinfo("localhost", argv[2], &h, &res) != 0 || !res) { fails++; continue; }
            struct sockaddr_in a = *(struct sockaddr_in *)res->ai_addr;
            freeaddrinfo(res);
            if (one(&a) < 0) fails++;
        } else if (one(&sa) < 0) {
            fails++;
        }
    }
    printf("conncli %s: %ld connects, %ld failed\n", argv[1], n - fails, fails);
    return fails ? 1 : 0;
}
