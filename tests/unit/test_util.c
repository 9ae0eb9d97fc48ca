/* Unit tests of the process-identity helpers in wrapper/util.c: the parent
 * pid from /proc and from a pidfd (PIDFD_GET_INFO), which the channel uses to
 * authenticate shim reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int
pidfd_of(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void
proc_ppid_of_self(void **state)
{
    (void)state;
    assert_int_equal(aa_proc_ppid(getpid()), getppid());
    assert_int_equal(aa_proc_ppid(0x7ffffff0), -1); /* no such process */
}

static void
pidfd_ids_of_self_and_child(void **state)
{
    (void)state;
    int fd = pidfd_of(getpid());
    if (fd < 0)
        skip(); /* no pidfd_open: the channel uses /proc */
    pid_t pid = 0, ppid = 0;
    int r = aa_pidfd_ids(fd, &pid, &ppid);
    if (r == -ENOTTY || r == -EINVAL) {
        (void)close(fd);
        skip(); /* kernel before 6.13: the channel falls back to /proc */
    }
    assert_int_equal(r, 0);
    assert_int_equal(pid, getpid());
    assert_int_equal(ppid, getppid());
    (void)close(fd);

    /* a child: its parent is us, and once it has exited the pidfd says so
     * (ESRCH), which the channel takes as "not a member" */
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        pause();
        _exit(0);
    }
    fd = pidfd_of(c);
    assert_true(fd >= 0);
    assert_int_equal(aa_pidfd_ids(fd, &pid, &ppid), 0);
    assert_int_equal(pid, c);
    assert_int_equal(ppid, getpid());
    assert_int_equal(kill(c, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_int_equal(aa_pidfd_ids(fd, &pid, &ppid), -ESRCH);
    (void)close(fd);
}

static void
pidfd_ids_of_non_pidfd(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid, ppid;
    assert_true(aa_pidfd_ids(fds[0], &pid, &ppid) < 0);
    (void)close(fds[0]);
    (void)close(fds[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proc_ppid_of_self),
        cmocka_unit_test(pidfd_ids_of_self_and_child),
        cmocka_unit_test(pidfd_ids_of_non_pidfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
