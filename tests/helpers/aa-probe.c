/* aa-probe: a real program that exercises every interception point of the
 * shim, for tests/integration/shim_*.sh.  Prints errno names ("ENOENT") so
 * tests can compare a run under admin-audit with a bare run.
 *
 *   aa-probe exec API PROG [ARG...]   exec/spawn PROG through API
 *   aa-probe clearenv|emptyenv|unsetenv PROG [ARG...]
 *   aa-probe preload LIB PROG [ARG...] exec with LD_PRELOAD=LIB
 *   aa-probe closerange PROG [ARG...]  close every fd >= 0... then exec
 *   aa-probe vfork PROG [ARG...]
 *   aa-probe threads N M PROG          N threads x M posix_spawn
 *   aa-probe daemon SECS PROG [ARG...] double fork + setsid, exec after SECS
 *   aa-probe loop PROBE SIDE MAX       fork+exec "PROBE mark SIDE i" until an exec fails
 *   aa-probe mark FILE N               append N to FILE
 *   aa-probe connect HOST PORT         getaddrinfo + connect (tcp)
 *   aa-probe connect_ip IP PORT        connect without lookup
 *   aa-probe udp IP PORT               sendto
 *   aa-probe gethost NAME              gethostbyname, gethostbyname2_r
 *   aa-probe nameinfo IP               getnameinfo
 *   aa-probe env                       print the environment, one per line */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int
report_errno(int e)
{
    const char *n = strerrorname_np(e);
    printf("%s\n", n ? n : "E?");
    fflush(stdout);
    return 1;
}

static int
wait_child(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return report_errno(errno);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
do_exec(const char *api, char **argv)
{
    const char *prog = argv[0];
    int n = 0;
    while (argv[n])
        n++;
    char *a1 = n > 1 ? argv[1] : NULL, *a2 = n > 2 ? argv[2] : NULL, *a3 = n > 3 ? argv[3] : NULL;
    if (strcmp(api, "execve") == 0)
        execve(prog, argv, environ);
    else if (strcmp(api, "execv") == 0)
        execv(prog, argv);
    else if (strcmp(api, "execvp") == 0)
        execvp(prog, argv);
    else if (strcmp(api, "execvpe") == 0)
        execvpe(prog, argv, environ);
    else if (strcmp(api, "execl") == 0)
        execl(prog, prog, a1, a2, a3, (char *)NULL);
    else if (strcmp(api, "execlp") == 0)
        execlp(prog, prog, a1, a2, a3, (char *)NULL);
    else if (strcmp(api, "execle") == 0)
        execle(prog, prog, a1, a2, a3, (char *)NULL, environ);
    else if (strcmp(api, "fexecve") == 0) {
        int fd = open(prog, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return report_errno(errno);
        fexecve(fd, argv, environ);
    } else if (strcmp(api, "execveat") == 0) {
        execveat(AT_FDCWD, prog, argv, environ, 0);
    } else if (strcmp(api, "posix_spawn") == 0 || strcmp(api, "posix_spawnp") == 0) {
        pid_t pid;
        int r = api[11] == 'p' ? posix_spawnp(&pid, prog, NULL, NULL, argv, environ)
                               : posix_spawn(&pid, prog, NULL, NULL, argv, environ);
        if (r)
            return report_errno(r);
        return wait_child(pid);
    } else if (strcmp(api, "system") == 0) {
        int st = system(prog);
        if (st < 0)
            return report_errno(errno);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    } else if (strcmp(api, "popen") == 0) {
        FILE *f = popen(prog, "r");
        if (!f)
            return report_errno(errno);
        char buf[4096];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, k, stdout);
        int st = pclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    } else {
        fprintf(stderr, "unknown api %s\n", api);
        return 2;
    }
    return report_errno(errno);
}

struct thr {
    int m;
    char **argv;
    int fails;
};

static void *
thread_main(void *p)
{
    struct thr *t = p;
    for (int i = 0; i < t->m; i++) {
        pid_t pid;
        if (posix_spawn(&pid, t->argv[0], NULL, NULL, t->argv, environ) != 0) {
            t->fails++;
            continue;
        }
        int st;
        (void)waitpid(pid, &st, 0);
    }
    return NULL;
}

static int
do_connect(const struct sockaddr *sa, socklen_t len, int type)
{
    int fd = socket(sa->sa_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return report_errno(errno);
    if (connect(fd, sa, len) < 0) {
        int e = errno;
        close(fd);
        return report_errno(e);
    }
    printf("connected\n");
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aa-probe CMD ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "exec") == 0 && argc >= 4)
        return do_exec(argv[2], &argv[3]);
    if (strcmp(cmd, "clearenv") == 0 && argc >= 3) {
        clearenv();
        execv(argv[2], &argv[2]);
        return report_errno(errno);
    }
    if (strcmp(cmd, "emptyenv") == 0 && argc >= 3) {
        char *none[] = {NULL};
        execve(argv[2], &argv[2], none);
        return report_errno(errno);
    }
    if (strcmp(cmd, "unsetenv") == 0 && argc >= 3) {
        unsetenv("LD_PRELOAD");
        unsetenv("ADMIN_AUDIT_SOCKET");
        unsetenv("ADMIN_AUDIT_SHIM");
        execv(argv[2], &argv[2]);
        return report_errno(errno);
    }
    if (strcmp(cmd, "preload") == 0 && argc >= 4) {
        setenv("LD_PRELOAD", argv[2], 1);
        execv(argv[3], &argv[3]);
        return report_errno(errno);
    }
    if (strcmp(cmd, "closerange") == 0 && argc >= 3) {
        if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
            return report_errno(errno);
        execv(argv[2], &argv[2]);
        return report_errno(errno);
    }
    if (strcmp(cmd, "vfork") == 0 && argc >= 3) {
        pid_t pid = vfork();
        if (pid == 0) {
            execv(argv[2], &argv[2]);
            _exit(127);
        }
        if (pid < 0)
            return report_errno(errno);
        return wait_child(pid);
    }
    if (strcmp(cmd, "threads") == 0 && argc >= 5) {
        int n = atoi(argv[2]), m = atoi(argv[3]);
        pthread_t tid[64];
        struct thr t[64];
        if (n < 1 || n > 64)
            return 2;
        for (int i = 0; i < n; i++) {
            t[i] = (struct thr){.m = m, .argv = &argv[4]};
            pthread_create(&tid[i], NULL, thread_main, &t[i]);
        }
        int fails = 0;
        for (int i = 0; i < n; i++) {
            pthread_join(tid[i], NULL);
            fails += t[i].fails;
        }
        printf("spawned %d fails %d\n", n * m - fails, fails);
        return fails ? 1 : 0;
    }
    if (strcmp(cmd, "daemon") == 0 && argc >= 4) {
        pid_t p = fork();
        if (p < 0)
            return report_errno(errno);
        if (p > 0)
            return wait_child(p);
        if (setsid() < 0)
            _exit(1);
        p = fork();
        if (p != 0)
            _exit(p < 0 ? 1 : 0);
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        syscall(SYS_close_range, 3U, ~0U, 0);
        sleep((unsigned)atoi(argv[2]));
        execv(argv[3], &argv[3]);
        _exit(127);
    }
    if (strcmp(cmd, "loop") == 0 && argc >= 5) {
        int max = atoi(argv[4]);
        for (int i = 0; i < max; i++) {
            char num[16];
            snprintf(num, sizeof num, "%d", i);
            pid_t p = fork();
            if (p == 0) {
                char *av[] = {argv[2], (char *)"mark", argv[3], num, NULL};
                execv(argv[2], av);
                _exit(100);
            }
            if (p < 0)
                return report_errno(errno);
            if (wait_child(p) == 100)
                return 0; /* an exec failed: the channel is gone */
        }
        return 0;
    }
    if (strcmp(cmd, "mark") == 0 && argc >= 4) {
        FILE *f = fopen(argv[2], "a");
        if (!f)
            return 1;
        fprintf(f, "%s\n", argv[3]);
        return fclose(f) == 0 ? 0 : 1;
    }
    if (strcmp(cmd, "connect") == 0 && argc >= 4) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
        int r = getaddrinfo(argv[2], argv[3], &hints, &res);
        if (r) {
            printf("%s\n", gai_strerror(r));
            return 1;
        }
        int rc = do_connect(res->ai_addr, res->ai_addrlen, SOCK_STREAM);
        freeaddrinfo(res);
        return rc;
    }
    if ((strcmp(cmd, "connect_ip") == 0 || strcmp(cmd, "udp") == 0) && argc >= 4) {
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(argv[3]))};
        struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        const struct sockaddr *sa = (struct sockaddr *)&s4;
        socklen_t len = sizeof s4;
        if (inet_pton(AF_INET6, argv[2], &s6.sin6_addr) == 1) {
            sa = (struct sockaddr *)&s6;
            len = sizeof s6;
        } else if (inet_pton(AF_INET, argv[2], &s4.sin_addr) != 1) {
            return 2;
        }
        if (cmd[0] == 'c')
            return do_connect(sa, len, SOCK_STREAM);
        int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, "x", 1, 0, sa, len) < 0)
            return report_errno(errno);
        printf("sent\n");
        return 0;
    }
    if (strcmp(cmd, "gethost") == 0 && argc >= 3) {
        struct hostent *h = gethostbyname(argv[2]);
        printf("gethostbyname %s\n", h ? "ok" : "fail");
        struct hostent he, *res = NULL;
        char buf[4096];
        int herr = 0;
        gethostbyname2_r(argv[2], AF_INET, &he, buf, sizeof buf, &res, &herr);
        printf("gethostbyname2_r %s\n", res ? "ok" : "fail");
        return 0;
    }
    if (strcmp(cmd, "nameinfo") == 0 && argc >= 3) {
        struct sockaddr_in s4 = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, argv[2], &s4.sin_addr) != 1)
            return 2;
        char host[NI_MAXHOST];
        int r = getnameinfo((struct sockaddr *)&s4, sizeof s4, host, sizeof host, NULL, 0, 0);
        printf("%s\n", r ? gai_strerror(r) : host);
        return r ? 1 : 0;
    }
    if (strcmp(cmd, "env") == 0) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    fprintf(stderr, "aa-probe: bad usage\n");
    return 2;
}
