/* Copied unchanged (but for this line) from shared/bench/abtime.c, the harness
 * behind shared/reference/perf.md; used by tests/bench/run.sh. */
/* abtime.c - interleaved wall-clock timing of shell commands.
 *
 * usage: abtime [-n RUNS] [-w WARMUP] [-t PER_RUN_TIMEOUT_S] [-o RAW.tsv]
 *               -v LABEL 'CMD' [-v LABEL 'CMD' ...]
 *               [-p LABEL 'PRE_HOOK'] [-q LABEL 'POST_HOOK'] [-x 'ROUND_HOOK']
 *
 * The first -v is the baseline. Each round runs every variant once, in an
 * order rotated by one position per round (round r starts at variant r mod K),
 * so drift on a noisy machine hits all variants alike. Ratios and differences
 * against the baseline are computed pair-wise within each round, then the
 * median over rounds is reported.
 *
 * CMD is run as /bin/sh -c CMD in its own process group, stdin/stdout/stderr
 * on /dev/null; the time is a CLOCK_MONOTONIC read just before fork() and
 * just after the child is reaped. cpu = user+sys of the reaped tree
 * (wait4 rusage). Whatever the command leaves running in its own process
 * group is SIGKILLed after the run (only that group: the one we created).
 * PRE/POST hooks run untimed (sh -c, stdio inherited) around each run of
 * LABEL; a failing PRE hook marks the run failed. ROUND_HOOK runs untimed
 * before every round.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXV 32
#define MAXR 101

struct variant {
    const char *label, *cmd, *pre, *post;
    double wall[MAXR], cpu[MAXR];
    int ok[MAXR];
    int fails;
};

static struct variant V[MAXV];
static int K;
static volatile sig_atomic_t alarmed;
static void on_alarm(int s) { (void)s; alarmed = 1; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hook(const char *cmd) {
    if (!cmd) return 0;
    pid_t p = fork();
    if (p < 0) return -1;
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

/* returns 0 ok, -1 failed; fills wall/cpu */
static int timed(const char *cmd, int tmo, double *wall, double *cpu, int *status) {
    double t0 = now();
    pid_t p = fork();
    if (p < 0) return -1;
    if (p == 0) {
        setpgid(0, 0);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(p, p);
    alarmed = 0;
    alarm(tmo);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t r = wait4(p, &st, 0, &ru);
        if (r == p) break;
        if (r < 0 && errno == EINTR) {
            if (alarmed) { kill(-p, SIGKILL); alarmed = 0; }
            continue;
        }
        break;
    }
    alarm(0);
    double t1 = now();
    kill(-p, SIGKILL); /* leftovers in the group we created, if any */
    *wall = t1 - t0;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    *status = st;
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    if (n <= 0) return NAN;
    double t[MAXR];
    memcpy(t, v, n * sizeof *v);
    qsort(t, n, sizeof *t, cmpd);
    return (n & 1) ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}
static double vmin(double *v, int n) { double m = INFINITY; for (int i = 0; i < n; i++) if (v[i] < m) m = v[i]; return m; }
static double vmax(double *v, int n) { double m = -INFINITY; for (int i = 0; i < n; i++) if (v[i] > m) m = v[i]; return m; }

static struct variant *find(const char *label) {
    for (int i = 0; i < K; i++) if (!strcmp(V[i].label, label)) return &V[i];
    fprintf(stderr, "abtime: unknown label %s (define it with -v first)\n", label);
    exit(2);
}

static void usage(void) {
    fprintf(stderr, "usage: abtime [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-o RAW.tsv] -v LABEL CMD [-v LABEL CMD ...] [-p LABEL PRE] [-q LABEL POST] [-x ROUND_HOOK]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int runs = 5, warm = 1, tmo = 600;
    const char *raw = NULL, *roundhook = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-n") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(a, "-w") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(a, "-t") && i + 1 < argc) tmo = atoi(argv[++i]);
        else if (!strcmp(a, "-o") && i + 1 < argc) raw = argv[++i];
        else if (!strcmp(a, "-x") && i + 1 < argc) roundhook = argv[++i];
        else if (!strcmp(a, "-v") && i + 2 < argc) {
            if (K >= MAXV) usage();
            V[K].label = argv[i + 1]; V[K].cmd = argv[i + 2]; K++; i += 2;
        } else if (!strcmp(a, "-p") && i + 2 < argc) { find(argv[i + 1])->pre = argv[i + 2]; i += 2; }
        else if (!strcmp(a, "-q") && i + 2 < argc) { find(argv[i + 1])->post = argv[i + 2]; i += 2; }
        else usage();
    }
    if (K < 1 || runs < 1 || runs >= MAXR || warm < 0 || tmo < 1) usage();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    FILE *rf = raw ? fopen(raw, "w") : NULL;
    if (rf) fprintf(rf, "round\tlabel\twall_s\tcpu_s\tstatus\n");

    for (int r = -warm; r < runs; r++) {
        if (roundhook) hook(roundhook);
        int start = ((r % K) + K) % K;
        for (int j = 0; j < K; j++) {
            struct variant *v = &V[(start + j) % K];
            double w = NAN, c = NAN;
            int st = -1, ok;
            if (hook(v->pre) != 0) {
                fprintf(stderr, "abtime: pre hook failed for %s\n", v->label);
                ok = -1;
            } else {
                ok = timed(v->cmd, tmo, &w, &c, &st);
            }
            hook(v->post);
            if (r >= 0) {
                v->wall[r] = w; v->cpu[r] = c; v->ok[r] = (ok == 0);
                if (ok != 0) v->fails++;
                if (rf) { fprintf(rf, "%d\t%s\t%.6f\t%.6f\t%d\n", r, v->label, w, c, st); fflush(rf); }
            }
            fprintf(stderr, "  [%s%d] %-14s %9.1f ms%s\n", r < 0 ? "warm" : "run", r < 0 ? -r : r + 1,
                    v->label, w * 1e3, ok == 0 ? "" : "  FAILED");
        }
    }
    if (rf) fclose(rf);

    printf("%-14s %3s %10s %10s %10s %8s %8s %8s %10s %9s %5s\n", "label", "n", "med_ms", "min_ms", "max_ms",
           "ratio", "r_min", "r_max", "diff_ms", "cpu_ms", "fail");
    for (int i = 0; i < K; i++) {
        struct variant *v = &V[i];
        double w[MAXR], c[MAXR], ra[MAXR], d[MAXR];
        int n = 0, m = 0;
        for (int r = 0; r < runs; r++) {
            if (!v->ok[r]) continue;
            w[n] = v->wall[r]; c[n] = v->cpu[r]; n++;
            if (V[0].ok[r]) { ra[m] = v->wall[r] / V[0].wall[r]; d[m] = v->wall[r] - V[0].wall[r]; m++; }
        }
        printf("%-14s %3d %10.1f %10.1f %10.1f %8.3f %8.3f %8.3f %10.1f %9.1f %5d\n", v->label, n,
               median(w, n) * 1e3, vmin(w, n) * 1e3, vmax(w, n) * 1e3, median(ra, m), vmin(ra, m), vmax(ra, m),
               median(d, m) * 1e3, median(c, n) * 1e3, v->fails);
    }
    return 0;
}
