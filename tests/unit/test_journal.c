/* The journal: chain fields and hash, line format, file mode, O_APPEND,
 * failures (unwritable path, ENOSPC on /dev/full, short write under
 * RLIMIT_FSIZE) that leave no torn line and do not consume the seq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "record.h"
#include "util.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* reference/schema.md §1.2 test vectors. */
static const char VEC1[] =
    "{\"@timestamp\":\"2026-01-01T00:00:00.000000Z\",\"kind\":\"session.start\",\"session\":{\"id\":"
    "\"s-1\"},\"chain\":{\"seq\":1,\"prev\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\"},\"hash\":"
    "\"11eb67e8397f7bfa6b547a945d786f3e8d9d03aa203e46f0685a7939b61bfc58\"}";
static const char VEC2[] =
    "{\"@timestamp\":\"2026-01-01T00:00:01.000000Z\",\"kind\":\"process.exec\",\"session\":{\"id\":"
    "\"s-1\"},\"chain\":{\"seq\":2,\"prev\":"
    "\"11eb67e8397f7bfa6b547a945d786f3e8d9d03aa203e46f0685a7939b61bfc58\"},\"hash\":"
    "\"4ae30cf4e4c252a013b8bac9f09139081f75a7537c5c34168f219e3d1aa0c70c\"}";

static const struct aa_envelope ENV = {"0195a3c2-7f41-7b3e-9c1d-2f5e8a1b4c6d", "ADM-001", "alice",
                                       "root", "db-01"};

struct fixture {
    char dir[64];
    char path[128];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/aa-journal-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    (void)snprintf(f->path, sizeof f->path, "%s/sub/dir/audit.jsonl", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static struct json_object *
mkrec(const char *action, size_t filler)
{
    struct timespec ts = {1767225600, 0};
    struct json_object *rec = aa_record_new(&ENV, action, "success", &ts, 42);
    assert_non_null(rec);
    if (filler) {
        char *b = malloc(filler);
        assert_non_null(b);
        memset(b, 'x', filler);
        struct aa_bytes argv[] = {{"echo", 4}, {b, filler}};
        assert_int_equal(aa_rec_set_args(rec, "process.args", argv, 2, NULL), 0);
        free(b);
    }
    return rec;
}

static size_t
read_lines(const char *path, char ***ret)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(aa_read_file(path, 64 << 20, &buf, &len), 0);
    size_t n = 0;
    char **lines = NULL;
    char *save = NULL;
    assert_true(len == 0 || buf[len - 1] == '\n');
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lines = realloc(lines, (n + 1) * sizeof *lines);
        assert_non_null(lines);
        lines[n++] = strdup(l);
    }
    free(buf);
    *ret = lines;
    return n;
}

static void
free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static void
test_vectors(void **state)
{
    (void)state;
    char rec[65], comp[65];
    assert_int_equal(aa_chain_line_hash(VEC1, strlen(VEC1), rec, comp), 0);
    assert_string_equal(rec, "11eb67e8397f7bfa6b547a945d786f3e8d9d03aa203e46f0685a7939b61bfc58");
    assert_string_equal(comp, rec);
    assert_int_equal(aa_chain_line_hash(VEC2, strlen(VEC2), rec, comp), 0);
    assert_string_equal(rec, "4ae30cf4e4c252a013b8bac9f09139081f75a7537c5c34168f219e3d1aa0c70c");
    assert_string_equal(comp, rec);
    /* one byte changed: computed differs */
    char bad[sizeof VEC2];
    memcpy(bad, VEC2, sizeof VEC2);
    bad[30] = 'X';
    assert_int_equal(aa_chain_line_hash(bad, strlen(bad), rec, comp), 0);
    assert_string_not_equal(comp, rec);
    /* no suffix */
    assert_int_equal(aa_chain_line_hash(VEC1, strlen(VEC1) - 10, rec, comp), -EINVAL);
    assert_int_equal(aa_chain_line_hash("{}", 2, rec, comp), -EINVAL);
}

static void
test_append_chain(void **state)
{
    struct fixture *f = *state;
    struct aa_journal *j = NULL;
    mode_t old = umask(0);
    assert_int_equal(aa_journal_open(f->path, ENV.session_id, AA_JOURNAL_SYNC, &j), 0);
    umask(old);
    assert_int_equal(aa_journal_seq(j), 0);
    assert_string_equal(aa_journal_head(j), ZERO_HASH);
    assert_string_equal(aa_journal_path(j), f->path);

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char parent[160];
    (void)snprintf(parent, sizeof parent, "%s/sub/dir", f->dir);
    assert_int_equal(stat(parent, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    int fl = fcntl(aa_journal_fd(j), F_GETFL);
    assert_true(fl & O_APPEND);
    assert_int_equal(fl & O_ACCMODE, O_WRONLY);
    assert_true(fcntl(aa_journal_fd(j), F_GETFD) & FD_CLOEXEC);

    const char *actions[] = {"session.start", "process.exec", "network.connect", "session.end"};
    char heads[4][65];
    for (size_t i = 0; i < 4; i++) {
        struct json_object *rec = mkrec(actions[i], 0);
        assert_int_equal(aa_journal_append(j, rec), 0);
        assert_int_equal(aa_journal_seq(j), i + 1);
        memcpy(heads[i], aa_journal_head(j), 65);
        /* the object mirrors the written line */
        struct json_object *h;
        assert_true(json_object_object_get_ex(rec, "hash", &h));
        assert_string_equal(json_object_get_string(h), heads[i]);
        json_object_put(rec);
    }
    aa_journal_close(j);

    char **lines;
    size_t n = read_lines(f->path, &lines);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        char rec[65], comp[65];
        assert_int_equal(aa_chain_line_hash(lines[i], strlen(lines[i]), rec, comp), 0);
        assert_string_equal(rec, comp);
        assert_string_equal(rec, heads[i]);
        char want[512];
        (void)snprintf(want, sizeof want, "\"chain\":{\"seq\":%zu,\"prev\":\"%s\"},\"hash\":\"%s\"}",
                       i + 1, i ? heads[i - 1] : ZERO_HASH, heads[i]);
        size_t wl = strlen(want), ll = strlen(lines[i]);
        assert_true(ll > wl);
        assert_string_equal(lines[i] + ll - wl, want);
        (void)snprintf(want, sizeof want, "\"id\":\"%s:%zu\"}", ENV.session_id, i + 1);
        assert_non_null(strstr(lines[i], want));
        assert_memory_equal(lines[i], "{\"@timestamp\":", 14);
    }
    free_lines(lines, n);

    /* Re-open appends (O_APPEND, no truncation); a new chain starts at 1. */
    assert_int_equal(aa_journal_open(f->path, "other", 0, &j), 0);
    struct json_object *rec = mkrec("session.start", 0);
    assert_int_equal(aa_journal_append(j, rec), 0);
    /* the same object appended again: chain and hash replaced, not duplicated */
    assert_int_equal(aa_journal_append(j, rec), 0);
    json_object_put(rec);
    aa_journal_close(j);
    n = read_lines(f->path, &lines);
    assert_int_equal(n, 6);
    assert_non_null(strstr(lines[5], "\"id\":\"other:2\""));
    assert_non_null(strstr(lines[5], "\"chain\":{\"seq\":2,"));
    char *first = strstr(lines[5], "\"hash\"");
    assert_null(strstr(first + 1, "\"hash\""));
    assert_null(strstr(strstr(lines[5], "\"chain\"") + 1, "\"chain\""));
    char rh[65], ch[65];
    assert_int_equal(aa_chain_line_hash(lines[5], strlen(lines[5]), rh, ch), 0);
    assert_string_equal(rh, ch);
    free_lines(lines, n);
}

static void
test_unwritable(void **state)
{
    struct fixture *f = *state;
    struct aa_journal *j = NULL;
    char path[192];
    /* a regular file in the way of the directory */
    (void)snprintf(path, sizeof path, "%s/file", f->dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    (void)snprintf(path, sizeof path, "%s/file/audit.jsonl", f->dir);
    assert_int_equal(aa_journal_open(path, "s", 0, &j), -ENOTDIR);
    assert_null(j);
    (void)snprintf(path, sizeof path, "%s/file/a/audit.jsonl", f->dir);
    assert_int_equal(aa_journal_open(path, "s", 0, &j), -ENOTDIR);
    /* a directory as the journal */
    assert_int_equal(aa_journal_open(f->dir, "s", 0, &j), -EISDIR);
    assert_int_equal(aa_journal_open("", "s", 0, &j), -EINVAL);
}

static void
test_enospc(void **state)
{
    (void)state;
    struct aa_journal *j = NULL;
    if (access("/dev/full", W_OK) != 0)
        skip();
    assert_int_equal(aa_journal_open("/dev/full", "s", 0, &j), 0);
    struct json_object *rec = mkrec("session.start", 0);
    assert_int_equal(aa_journal_append(j, rec), -ENOSPC);
    assert_int_equal(aa_journal_seq(j), 0);
    assert_string_equal(aa_journal_head(j), ZERO_HASH);
    assert_int_equal(aa_journal_append(j, rec), -ENOSPC);
    assert_int_equal(aa_journal_seq(j), 0);
    json_object_put(rec);
    aa_journal_close(j);
}

/* RLIMIT_FSIZE: write(2) stores only part of the line and returns short
 * (SIGXFSZ ignored).  The journal must cut the torn part off. */
static void
test_short_write(void **state)
{
    struct fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct aa_journal *j = NULL;
        signal(SIGXFSZ, SIG_IGN);
        if (aa_journal_open(f->path, "s", 0, &j) < 0)
            _exit(10);
        struct json_object *rec = mkrec("session.start", 1000);
        if (aa_journal_append(j, rec) < 0)
            _exit(11);
        struct stat st;
        if (fstat(aa_journal_fd(j), &st) < 0)
            _exit(12);
        /* Only the soft limit moves: raising a hard limit needs CAP_SYS_RESOURCE. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(13);
        rl.rlim_cur = (rlim_t)st.st_size + 600;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(13);
        int r = aa_journal_append(j, rec);
        if (r != -EIO)
            _exit(14);
        if (aa_journal_seq(j) != 1)
            _exit(15);
        struct stat st2;
        if (fstat(aa_journal_fd(j), &st2) < 0 || st2.st_size != st.st_size)
            _exit(16);
        /* at the limit: the next write fails outright (EFBIG), nothing left */
        rl.rlim_cur = (rlim_t)st.st_size;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(17);
        r = aa_journal_append(j, rec);
        if (r != -EFBIG)
            _exit(18);
        /* a small record still fits below a raised limit: seq continues at 2 */
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(20);
        json_object_put(rec);
        rec = mkrec("session.end", 0);
        r = aa_journal_append(j, rec);
        if (r < 0 || aa_journal_seq(j) != 2) {
            fprintf(stderr, "append: %d seq %llu\n", r, (unsigned long long)aa_journal_seq(j));
            _exit(19);
        }
        json_object_put(rec);
        aa_journal_close(j);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char **lines;
    size_t n = read_lines(f->path, &lines);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        char rh[65], ch[65];
        assert_int_equal(aa_chain_line_hash(lines[i], strlen(lines[i]), rh, ch), 0);
        assert_string_equal(rh, ch);
    }
    assert_non_null(strstr(lines[1], "\"chain\":{\"seq\":2,"));
    free_lines(lines, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test_setup_teardown(test_append_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
        cmocka_unit_test(test_enospc),
        cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
