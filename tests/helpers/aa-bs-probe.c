/* aa-bs-probe: calls the backstop must see (tests/integration/backstop_*.sh).
 * Built dynamic by tests/CMakeLists.txt and `cc -static` by the tests.
 *
 *   exec PATH ARG...        execv(PATH, ARG...)  (static build: a real syscall)
 *   rawexec PATH ARG...     syscall(SYS_execve, ...)
 *   rawexecat PATH ARG...   syscall(SYS_execveat, AT_FDCWD, ...)
 *   threadexec PATH ARG...  execv from a second thread
 *   connect IP PORT         connect(); prints "connected" or the errno name
 *   rawconnect IP PORT      syscall(SYS_connect, ...)
 *   udp IP PORT             sendto() with an address
 *   uring                   io_uring_setup(); prints the errno name or "ok"
 *   x32 | i386              a getpid of a foreign ABI; prints "survived"
 *   euid                    prints "euid=N"
 *   spawnloop N PATH ARG... fork + execv N times; prints "ran=R eacces=K" */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *
ename(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static socklen_t
mkaddr(const char *ip, const char *port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)atoi(port));
        return sizeof *a4;
    }
    if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)atoi(port));
        return sizeof *a6;
    }
    fprintf(stderr, "bad address %s\n", ip);
    exit(2);
}

static char **thr_argv;

static void *
thr_exec(void *arg)
{
    (void)arg;
    execv(thr_argv[0], thr_argv);
    printf("%s\n", ename(errno));
    exit(1);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aa-bs-probe MODE ...\n");
        return 2;
    }
    const char *m = argv[1];
    if (strcmp(m, "exec") == 0 && argc >= 3) {
        execv(argv[2], argv + 2);
        printf("%s\n", ename(errno));
        return 1;
    }
    if (strcmp(m, "rawexec") == 0 && argc >= 3) {
        syscall(SYS_execve, argv[2], argv + 2, environ);
        printf("%s\n", ename(errno));
        return 1;
    }
    if (strcmp(m, "rawexecat") == 0 && argc >= 3) {
        syscall(SYS_execveat, AT_FDCWD, argv[2], argv + 2, environ, 0);
        printf("%s\n", ename(errno));
        return 1;
    }
    if (strcmp(m, "threadexec") == 0 && argc >= 3) {
        pthread_t t;
        thr_argv = argv + 2;
        if (pthread_create(&t, NULL, thr_exec, NULL) != 0)
            return 3;
        pthread_join(t, NULL);
        return 1;
    }
    if ((strcmp(m, "connect") == 0 || strcmp(m, "rawconnect") == 0 || strcmp(m, "udp") == 0) &&
        argc == 4) {
        struct sockaddr_storage ss;
        socklen_t len = mkaddr(argv[2], argv[3], &ss);
        bool udp = strcmp(m, "udp") == 0;
        int fd = socket(ss.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (fd < 0)
            return 3;
        long r;
        if (udp)
            r = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len);
        else if (m[0] == 'r')
            r = syscall(SYS_connect, fd, (struct sockaddr *)&ss, len);
        else
            r = connect(fd, (struct sockaddr *)&ss, len);
        printf("%s\n", r >= 0 ? (udp ? "sent" : "connected") : ename(errno));
        close(fd);
        return r >= 0 ? 0 : 1;
    }
    if (strcmp(m, "uring") == 0) {
        unsigned char params[120] = {0};
        long r = syscall(425 /* io_uring_setup */, 4, params);
        printf("%s\n", r >= 0 ? "ok" : ename(errno));
        return 0;
    }
#if defined(__x86_64__)
    if (strcmp(m, "x32") == 0) {
        long ret;
        __asm__ volatile("syscall" : "=a"(ret) : "a"(0x40000000L | 39) : "rcx", "r11", "memory");
        printf("survived %ld\n", ret);
        return 0;
    }
    if (strcmp(m, "i386") == 0) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        printf("survived %ld\n", ret);
        return 0;
    }
#endif
    if (strcmp(m, "spawnloop") == 0 && argc >= 4) {
        int n = atoi(argv[2]), ran = 0, eacces = 0;
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p < 0)
                return 3;
            if (p == 0) {
                execv(argv[3], argv + 3);
                _exit(errno == EACCES ? 13 : 12);
            }
            int st;
            if (waitpid(p, &st, 0) != p)
                return 3;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 13)
                eacces++;
            else if (WIFEXITED(st) && WEXITSTATUS(st) != 12)
                ran++;
        }
        printf("ran=%d eacces=%d\n", ran, eacces);
        return 0;
    }
    if (strcmp(m, "euid") == 0) {
        printf("euid=%d\n", (int)geteuid());
        return 0;
    }
    fprintf(stderr, "aa-bs-probe: unknown mode %s\n", m);
    return 2;
}
