/* Per-task lock: two real processes (fork), holder's session id, release on
 * exit and on crash, independent tasks, read-only tasks dir fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tasklock.h"
#include "util.h"

static char tdir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(tdir, sizeof(tdir), "/tmp/aa-test-lock-XXXXXX");
    return mkdtemp(tdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", tdir, tdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Child: take the lock, tell the parent (pipe), wait until told to go on
 * (or to crash), then exit without releasing. */
static pid_t
spawn_holder(const char *task, const char *session, int *ready_rd, int *go_wr)
{
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        struct aa_tasklock *l = NULL;
        char holder[128];
        int r = aa_tasklock_acquire(tdir, task, session, &l, holder, sizeof(holder));
        char c = r == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        char cmd = 0;
        if (read(go[0], &cmd, 1) != 1)
            _exit(4);
        if (cmd == 'k')
            raise(SIGKILL);
        _exit(r == 0 ? 0 : 2); /* exit holding it: the kernel releases */
    }
    close(ready[1]);
    close(go[0]);
    *ready_rd = ready[0];
    *go_wr = go[1];
    char c = 0;
    assert_int_equal(read(*ready_rd, &c, 1), 1);
    assert_int_equal(c, 'y');
    return pid;
}

static void
finish_holder(pid_t pid, int ready_rd, int go_wr, char how)
{
    assert_int_equal(write(go_wr, &how, 1), 1);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (how == 'k')
        assert_true(WIFSIGNALED(st));
    else
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ready_rd);
    close(go_wr);
}

static void
test_second_process_refused_with_holder(void **state)
{
    (void)state;
    int rd, wr;
    pid_t pid = spawn_holder("ADM-002", "0195a3c2-7f41-7b3e-9c1d-2f5e8a1b4c6d", &rd, &wr);

    struct aa_tasklock *l = NULL;
    char holder[128] = "";
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-002", "second-session", &l, holder, sizeof(holder)),
                     -EBUSY);
    assert_null(l);
    assert_string_equal(holder, "0195a3c2-7f41-7b3e-9c1d-2f5e8a1b4c6d");

    /* another task is independent */
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-003", "s3", &l, holder, sizeof(holder)), 0);
    assert_non_null(l);
    aa_tasklock_release(l);

    /* the lock file says who and which pid */
    char path[256], buf[256] = "";
    snprintf(path, sizeof(path), "%s/.locks/ADM-002.lock", tdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    char want[128];
    snprintf(want, sizeof(want), "0195a3c2-7f41-7b3e-9c1d-2f5e8a1b4c6d %ld\n", (long)pid);
    assert_string_equal(buf, want);

    /* holder exits without releasing: the lock is free again */
    finish_holder(pid, rd, wr, 'x');
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-002", "second-session", &l, holder, sizeof(holder)), 0);
    assert_non_null(strstr(aa_tasklock_path(l), "/.locks/ADM-002.lock"));
    aa_tasklock_release(l);
}

static void
test_crashed_holder_releases(void **state)
{
    (void)state;
    int rd, wr;
    pid_t pid = spawn_holder("ADM-100", "crashing", &rd, &wr);
    struct aa_tasklock *l = NULL;
    char holder[64];
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-100", "me", &l, holder, sizeof(holder)), -EBUSY);
    assert_string_equal(holder, "crashing");
    finish_holder(pid, rd, wr, 'k');
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-100", "me", &l, holder, sizeof(holder)), 0);
    aa_tasklock_release(l);
}

static void
test_same_process_twice_and_release(void **state)
{
    (void)state;
    struct aa_tasklock *a = NULL, *b = NULL;
    char holder[64];
    /* flock is per open file description: a second acquire in one process is refused too */
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-200", "first", &a, holder, sizeof(holder)), 0);
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-200", "again", &b, holder, sizeof(holder)), -EBUSY);
    assert_string_equal(holder, "first");
    aa_tasklock_release(a);
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-200", "again", &b, holder, sizeof(holder)), 0);
    aa_tasklock_release(b);
    aa_tasklock_release(NULL);
}

static void
test_invalid_ids(void **state)
{
    (void)state;
    struct aa_tasklock *l = NULL;
    char holder[64];
    assert_int_equal(aa_tasklock_acquire(tdir, "../ADM-001", "s", &l, holder, sizeof(holder)), -EINVAL);
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-01", "s", &l, holder, sizeof(holder)), -EINVAL);
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-001/x", "s", &l, holder, sizeof(holder)), -EINVAL);
    assert_int_equal(aa_tasklock_acquire(tdir, "ADM-001", "a b", &l, holder, sizeof(holder)), -EINVAL);
    assert_null(l);
}

/* The fallback as an unprivileged user: returns 0 when it behaved. */
static int
readonly_case(const char *ro)
{
    struct aa_tasklock *l = NULL, *m = NULL;
    char holder[64];
    if (aa_tasklock_acquire(ro, "ADM-300", "ro-1", &l, holder, sizeof(holder)) != 0)
        return 10;
    if (strstr(aa_tasklock_path(l), "/ro/"))
        return 11; /* must not be inside the unwritable dir */
    if (aa_tasklock_acquire(ro, "ADM-300", "ro-2", &m, holder, sizeof(holder)) != -EBUSY)
        return 12;
    if (strcmp(holder, "ro-1") != 0)
        return 13;
    aa_tasklock_release(l);
    if (aa_tasklock_acquire(ro, "ADM-300", "ro-2", &m, holder, sizeof(holder)) != 0)
        return 14;
    aa_tasklock_release(m);
    return 0;
}

static void
test_readonly_tasks_dir_falls_back(void **state)
{
    (void)state;
    char ro[128];
    snprintf(ro, sizeof(ro), "%s/ro", tdir);
    assert_int_equal(chmod(tdir, 0755), 0);
    assert_int_equal(mkdir(ro, 0555), 0);
    if (geteuid() != 0) {
        assert_int_equal(readonly_case(ro), 0);
        return;
    }
    /* root writes anyway: run the case as nobody in a child */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(20);
        unsetenv("XDG_RUNTIME_DIR");
        _exit(readonly_case(ro));
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(system("rm -rf /tmp/admin-audit-65534"), 0);
}

static void
test_readonly_fallback_as_root_in_child(void **state)
{
    (void)state;
    /* As root, emulate an unwritable tasks dir by a file named .locks. */
    char d[128], p[160];
    snprintf(d, sizeof(d), "%s/blocked", tdir);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof(p), "%s/.locks", d);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    struct aa_tasklock *l = NULL;
    char holder[64];
    /* a non-directory .locks is an error, not silently another lock location */
    assert_int_equal(aa_tasklock_acquire(d, "ADM-301", "s", &l, holder, sizeof(holder)), -ENOTDIR);
    assert_null(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_second_process_refused_with_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crashed_holder_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_process_twice_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_tasks_dir_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_fallback_as_root_in_child, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
