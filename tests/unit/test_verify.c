/* `admin-audit verify` on real journals written by aa_journal_append and on
 * mutated copies: every kind of damage gets its exit code (contract §3).
 * With AA_REGEN_FIXTURES=1 it also rewrites tests/fixtures/verify/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "journal.h"
#include "record.h"
#include "util.h"

#define MAXL 64

static const char VEC[] =
    "{\"@timestamp\":\"2026-01-01T00:00:00.000000Z\",\"kind\":\"session.start\",\"session\":{\"id\":"
    "\"s-1\"},\"chain\":{\"seq\":1,\"prev\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\"},\"hash\":"
    "\"11eb67e8397f7bfa6b547a945d786f3e8d9d03aa203e46f0685a7939b61bfc58\"}\n"
    "{\"@timestamp\":\"2026-01-01T00:00:01.000000Z\",\"kind\":\"process.exec\",\"session\":{\"id\":"
    "\"s-1\"},\"chain\":{\"seq\":2,\"prev\":"
    "\"11eb67e8397f7bfa6b547a945d786f3e8d9d03aa203e46f0685a7939b61bfc58\"},\"hash\":"
    "\"4ae30cf4e4c252a013b8bac9f09139081f75a7537c5c34168f219e3d1aa0c70c\"}\n";

static char dir[64];
static char heads[8][65]; /* heads of the standard journal, by seq */
static bool check_head = true;

/* A journal of one session: start, 3 x exec (or checkpoint), end. */
static void
write_session(const char *path, const char *sid, int sec0, bool checkpoint)
{
    struct aa_envelope env = {sid, "ADM-001", "alice", "root", "db-01"};
    struct aa_journal *j = NULL;
    assert_int_equal(aa_journal_open(path, sid, 0, &j), 0);
    const char *actions[] = {"session.start", "process.exec",
                             checkpoint ? "chain.checkpoint" : "process.exec", "process.exec",
                             "session.end"};
    for (int i = 0; i < 5; i++) {
        struct timespec ts = {1767225600 + sec0 + i, 1000 * i};
        struct json_object *rec = aa_record_new(&env, actions[i], "success", &ts, 4391);
        assert_non_null(rec);
        if (i == 1) {
            struct aa_bytes argv[] = {{"psql", 4}, {"--password=canary", 17}, {"a\xff", 2}};
            assert_int_equal(aa_rec_set_args(rec, "process.args", argv, 3, NULL), 0);
        }
        assert_int_equal(aa_journal_append(j, rec), 0);
        if (strcmp(sid, "s-std") == 0)
            memcpy(heads[i + 1], aa_journal_head(j), 65);
        json_object_put(rec);
    }
    aa_journal_close(j);
}

static char *
pathf(const char *name)
{
    /* A ring of paths: each test uses far fewer than 64. */
    static char p[64][160];
    static int k;
    k = (k + 1) % 64;
    (void)snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* Lines with their newline kept. */
static size_t
load(const char *path, char *lines[MAXL])
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    assert_int_equal(aa_read_file(path, 16 << 20, &buf, &len), 0);
    for (size_t i = 0; i < len && n < MAXL;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) + 1 : len;
        lines[n++] = strndup(buf + i, e - i);
        i = e;
    }
    free(buf);
    return n;
}

static void
save(const char *path, char *lines[], size_t n)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        if (lines[i])
            fputs(lines[i], f);
    assert_int_equal(fclose(f), 0);
}

static void
drop(char *lines[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
}

/* body = record JSON ending in '}' without hash: returns a chained line. */
static char *
seal(const char *body)
{
    size_t n = strlen(body);
    char h[65];
    assert_int_equal(aa_sha256_hex(body, n, h), 0);
    char *line = malloc(n + 80);
    assert_non_null(line);
    memcpy(line, body, n - 1);
    sprintf(line + n - 1, ",\"hash\":\"%s\"}\n", h);
    return line;
}

/* line minus ,"hash":"..."} + "}" */
static char *
unseal(const char *line)
{
    size_t n = strlen(line);
    if (line[n - 1] == '\n')
        n--;
    char *b = strndup(line, n - 75 + 1);
    b[n - 75] = '}';
    return b;
}

static void
replace_once(char **s, const char *from, const char *to)
{
    char *p = strstr(*s, from);
    assert_non_null(p);
    size_t a = (size_t)(p - *s), fl = strlen(from), tl = strlen(to), n = strlen(*s);
    char *r = malloc(n - fl + tl + 1);
    memcpy(r, *s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, p + fl, n - a - fl + 1);
    free(*s);
    *s = r;
}

static char out[1 << 16];

/* Run verify with stdout captured into out. */
static int
run(const char *a0, ...)
{
    char *argv[16] = {"verify"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;

    fflush(stdout);
    int saved = dup(1);
    char cap[160];
    (void)snprintf(cap, sizeof cap, "%s/stdout", dir);
    int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = aa_cmd_verify(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(aa_read_file(cap, sizeof out - 1, &buf, &len), 0);
    memcpy(out, buf, len + 1);
    free(buf);
    return rc;
}

/* The n-th (0-based) summary line of out, parsed. */
static struct json_object *
summary(int n)
{
    const char *p = out;
    for (int i = 0; i < n; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *e = strchr(p, '\n');
    assert_non_null(e);
    char *l = strndup(p, (size_t)(e - p));
    struct json_object *o = json_tokener_parse(l);
    free(l);
    assert_non_null(o);
    return o;
}

static void
expect_summary(int n, const char *sid, const char *status, int64_t records, int64_t bad_line)
{
    struct json_object *o = summary(n), *v;
    assert_true(json_object_object_get_ex(o, "session_id", &v));
    assert_string_equal(json_object_get_string(v), sid);
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), status);
    assert_true(json_object_object_get_ex(o, "records", &v));
    assert_int_equal(json_object_get_int64(v), records);
    assert_true(json_object_object_get_ex(o, "last_seq", &v));
    assert_int_equal(json_object_get_int64(v), records);
    assert_true(json_object_object_get_ex(o, "first_bad_line", &v));
    if (bad_line)
        assert_int_equal(json_object_get_int64(v), bad_line);
    else
        assert_null(v);
    assert_true(json_object_object_get_ex(o, "head", &v));
    if (check_head && strcmp(sid, "s-std") == 0 && records > 0)
        assert_string_equal(json_object_get_string(v), heads[records]);
    json_object_put(o);
}

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/aa-verify-test.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_intact(void **state)
{
    (void)state;
    const char *p = pathf("good.jsonl");
    write_session(p, "s-std", 0, false);
    assert_int_equal(run(p, NULL), 0);
    expect_summary(0, "s-std", "intact", 5, 0);
    assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* one session, one line */
    /* the redacted secret never reached the journal */
    char *lines[MAXL];
    size_t n = load(p, lines);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(lines[i], "canary"));
    drop(lines, n);
    /* schema.md test vectors: valid chain, no session.end */
    const char *v = pathf("vectors.jsonl");
    FILE *f = fopen(v, "we");
    fputs(VEC, f);
    fclose(f);
    assert_int_equal(run(v, NULL), 3);
    expect_summary(0, "s-1", "incomplete", 2, 0);
    struct json_object *o = summary(0), *h;
    assert_true(json_object_object_get_ex(o, "head", &h));
    assert_string_equal(json_object_get_string(h),
                        "4ae30cf4e4c252a013b8bac9f09139081f75a7537c5c34168f219e3d1aa0c70c");
    json_object_put(o);
    /* chain.checkpoint in the chain is tolerated */
    const char *c = pathf("checkpoint.jsonl");
    write_session(c, "s-cp", 0, true);
    assert_int_equal(run(c, NULL), 0);
    /* stdin */
    int saved = dup(0);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    dup2(fd, 0);
    close(fd);
    assert_int_equal(run("-", NULL), 0);
    dup2(saved, 0);
    close(saved);
}

static void
test_tampered(void **state)
{
    (void)state;
    const char *p = pathf("good.jsonl"), *m = pathf("mut.jsonl");
    write_session(p, "s-std", 0, false);
    char *l[MAXL];
    size_t n;

    /* flip one byte in line 2 */
    n = load(p, l);
    char *pid = strstr(l[1], "\"pid\":4391");
    assert_non_null(pid);
    pid[7] = '5';
    save(m, l, n);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 1, 2);

    /* flip a byte inside the hash itself */
    n = load(p, l);
    char *hh = strstr(l[2], "\"hash\":\"") + 8;
    *hh = *hh == 'a' ? 'b' : 'a';
    save(m, l, n);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 2, 3);

    /* delete line 3 */
    n = load(p, l);
    free(l[2]);
    l[2] = NULL;
    save(m, l, n);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 2, 3);

    /* reorder lines 2 and 3 */
    n = load(p, l);
    char *t = l[1];
    l[1] = l[2];
    l[2] = t;
    save(m, l, n);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 1, 2);

    /* duplicate line 2 */
    n = load(p, l);
    char *dup_l[MAXL + 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        dup_l[k++] = l[i];
        if (i == 1)
            dup_l[k++] = l[i];
    }
    save(m, dup_l, k);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 2, 3);

    /* forged line with a correct self-hash but the wrong prev */
    n = load(p, l);
    char *body = unseal(l[1]);
    replace_once(&body, "\"pid\":4391", "\"pid\":6666");
    char *forged = seal(body);
    free(body);
    char *ins[MAXL + 1];
    k = 0;
    for (size_t i = 0; i < n; i++) {
        ins[k++] = l[i];
        if (i == 1)
            ins[k++] = forged;
    }
    save(m, ins, k);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 2, 3);
    free(forged);

    /* forged seq 3 that chains correctly onto line 2: the original line 3 is
     * then a duplicate seq */
    body = unseal(l[2]);
    replace_once(&body, "\"pid\":4391", "\"pid\":6666");
    forged = seal(body);
    free(body);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        ins[k++] = l[i];
        if (i == 1)
            ins[k++] = forged;
    }
    save(m, ins, k);
    assert_int_equal(run(m, NULL), 1);
    check_head = false; /* the forged record is the head now */
    expect_summary(0, "s-std", "tampered", 3, 4);
    check_head = true;
    free(forged);

    /* a record replaced by a re-sealed edit: the next record's prev breaks */
    body = unseal(l[2]);
    replace_once(&body, "\"pid\":4391", "\"pid\":7777");
    free(l[2]);
    l[2] = seal(body);
    free(body);
    save(m, l, n);
    assert_int_equal(run(m, NULL), 1);
    check_head = false;
    expect_summary(0, "s-std", "tampered", 3, 4);
    check_head = true;
    drop(l, n);

    /* a line that is not JSON in the middle */
    n = load(p, l);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        ins[k++] = l[i];
        if (i == 2)
            ins[k++] = "garbage\n";
    }
    save(m, ins, k);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 3, 4);

    /* a middle line cut short (hash suffix gone) */
    n = load(p, l);
    l[1][strlen(l[1]) - 11] = '\n';
    l[1][strlen(l[1]) - 10] = '\0';
    save(m, l, n);
    drop(l, n);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "tampered", 1, 2);
}

static void
test_truncated_incomplete(void **state)
{
    (void)state;
    const char *p = pathf("good.jsonl"), *m = pathf("mut.jsonl");
    write_session(p, "s-std", 0, false);
    char *l[MAXL];
    size_t n = load(p, l);

    /* tear the tail: last 10 bytes gone */
    size_t ll = strlen(l[4]);
    l[4][ll - 10] = '\0';
    save(m, l, n);
    assert_int_equal(run(m, NULL), 2);
    expect_summary(0, "s-std", "truncated", 4, 5);
    /* only the newline gone */
    l[4][ll - 10] = 'x';
    drop(l, n);
    n = load(p, l);
    l[4][strlen(l[4]) - 1] = '\0';
    save(m, l, n);
    assert_int_equal(run(m, NULL), 2);
    /* a torn half of a line */
    l[4][strlen(l[4]) / 2] = '\0';
    save(m, l, n);
    assert_int_equal(run(m, NULL), 2);

    /* drop session.end: valid but incomplete */
    free(l[4]);
    l[4] = NULL;
    save(m, l, n);
    assert_int_equal(run(m, NULL), 3);
    expect_summary(0, "s-std", "incomplete", 4, 0);
    drop(l, n);

    /* a torn line followed by more records of its session (two files) */
    const char *f1 = pathf("part1.jsonl"), *f2 = pathf("part2.jsonl");
    n = load(p, l);
    save(f1, l, 2);
    l[2][20] = '\0';
    FILE *f = fopen(f1, "ae");
    fputs(l[2], f);
    fclose(f);
    save(f2, l + 3, 2);
    assert_int_equal(run(f1, f2, NULL), 1);
    expect_summary(0, "s-std", "tampered", 2, 3);
    drop(l, n);

    /* the same split without damage verifies across files */
    n = load(p, l);
    save(f1, l, 3);
    save(f2, l + 3, 2);
    assert_int_equal(run(f1, f2, NULL), 0);
    expect_summary(0, "s-std", "intact", 5, 0);
    assert_int_equal(run(f2, f1, NULL), 1); /* wrong order */
    drop(l, n);

    /* an empty file: no sessions */
    const char *e = pathf("empty.jsonl");
    save(e, l, 0);
    assert_int_equal(run(e, NULL), 0);
    assert_string_equal(out, "");
}

static void
test_anchor(void **state)
{
    (void)state;
    const char *p = pathf("good.jsonl"), *m = pathf("mut.jsonl");
    write_session(p, "s-std", 0, false);
    char a[128], b[128];

    (void)snprintf(a, sizeof a, "3:%s", heads[3]);
    assert_int_equal(run("--anchor", a, p, NULL), 0);
    (void)snprintf(a, sizeof a, "--anchor=5:%s", heads[5]);
    assert_int_equal(run(a, p, NULL), 0);
    (void)snprintf(a, sizeof a, "s-std:5:%s", heads[5]);
    assert_int_equal(run("--anchor", a, p, NULL), 0);
    /* upper-case hex is accepted */
    (void)snprintf(a, sizeof a, "1:%s", heads[1]);
    for (char *c = a; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    assert_int_equal(run("--anchor", a, p, NULL), 0);

    /* wrong hash at that seq */
    (void)snprintf(a, sizeof a, "3:%s", heads[2]);
    assert_int_equal(run("--anchor", a, p, NULL), 4);
    expect_summary(0, "s-std", "anchor_mismatch", 5, 0);
    /* beyond the end */
    (void)snprintf(a, sizeof a, "9:%s", heads[5]);
    assert_int_equal(run("--anchor", a, p, NULL), 4);
    /* another session's anchor */
    (void)snprintf(a, sizeof a, "s-other:3:%s", heads[3]);
    assert_int_equal(run("--anchor", a, p, NULL), 4);
    /* tail removed: the anchored record is gone, so not merely incomplete */
    char *l[MAXL];
    size_t n = load(p, l);
    save(m, l, 4);
    (void)snprintf(a, sizeof a, "5:%s", heads[5]);
    assert_int_equal(run("--anchor", a, m, NULL), 4);
    (void)snprintf(b, sizeof b, "4:%s", heads[4]);
    assert_int_equal(run("--anchor", b, m, NULL), 3);
    /* tampered beats anchor mismatch */
    l[1][30] ^= 1;
    save(m, l, n);
    assert_int_equal(run("--anchor", a, m, NULL), 1);
    drop(l, n);
    /* an anchor on an empty input */
    const char *e = pathf("empty.jsonl");
    save(e, l, 0);
    assert_int_equal(run("--anchor", a, e, NULL), 4);
}

static void
test_usage(void **state)
{
    (void)state;
    const char *p = pathf("good.jsonl");
    write_session(p, "s-std", 0, false);
    assert_int_equal(run(NULL), 64);
    assert_int_equal(run("--anchor", "3:abc", p, NULL), 64);
    assert_int_equal(run("--anchor", "0:" "0000000000000000000000000000000000000000000000000000000000000000", p, NULL), 64);
    assert_int_equal(run("--anchor", "x:" "0000000000000000000000000000000000000000000000000000000000000000", p, NULL), 64);
    assert_int_equal(run("--anchor", p, NULL), 64);
    assert_int_equal(run("--bogus", p, NULL), 64);
    assert_int_equal(run(pathf("missing.jsonl"), NULL), 64);
    assert_int_equal(run("--help", NULL), 0);
    assert_int_equal(run("--", p, NULL), 0);
}

static void
test_interleaved(void **state)
{
    (void)state;
    const char *a = pathf("a.jsonl"), *b = pathf("b.jsonl"), *m = pathf("mix.jsonl");
    write_session(a, "s-std", 0, false);
    write_session(b, "s-two", 100, false);
    char *la[MAXL], *lb[MAXL], *mix[2 * MAXL];
    size_t na = load(a, la), nb = load(b, lb), k = 0;
    for (size_t i = 0; i < na || i < nb; i++) {
        if (i < na)
            mix[k++] = la[i];
        if (i < nb)
            mix[k++] = lb[i];
    }
    save(m, mix, k);
    assert_int_equal(run(m, NULL), 0);
    expect_summary(0, "s-std", "intact", 5, 0);
    expect_summary(1, "s-two", "intact", 5, 0);
    /* tamper only s-two: worst wins */
    char *pid = strstr(lb[2], "\"pid\":4391");
    pid[7] = '0';
    save(m, mix, k);
    assert_int_equal(run(m, NULL), 1);
    expect_summary(0, "s-std", "intact", 5, 0);
    expect_summary(1, "s-two", "tampered", 2, 6);
    /* one incomplete (s-std end dropped) and one intact: 3 */
    pid[7] = '3';
    mix[8] = (char *)"";
    save(m, mix, k);
    assert_int_equal(run(m, NULL), 3);
    expect_summary(0, "s-std", "incomplete", 4, 0);
    expect_summary(1, "s-two", "intact", 5, 0);
    /* anchor without session applies to the session it matches */
    char an[128];
    (void)snprintf(an, sizeof an, "2:%s", heads[2]);
    assert_int_equal(run("--anchor", an, m, NULL), 3);
    (void)snprintf(an, sizeof an, "2:%s", heads[3]);
    assert_int_equal(run("--anchor", an, m, NULL), 4);
    drop(la, na);
    drop(lb, nb);
}

/* AA_REGEN_FIXTURES=1: rewrite the committed fixtures used by
 * tests/integration/verify.sh, then check each one's exit code. */
static void
test_fixtures(void **state)
{
    (void)state;
    const char *src = getenv("AA_SOURCE_DIR");
    if (!src)
        src = AA_SOURCE_DIR;
    char fx[512];
    (void)snprintf(fx, sizeof fx, "%s/tests/fixtures/verify", src);
    if (getenv("AA_REGEN_FIXTURES")) {
        char p[600];
        char *l[MAXL];
        (void)snprintf(p, sizeof p, "%s/intact.jsonl", fx);
        (void)unlink(p);
        write_session(p, "s-std", 0, false);
        (void)snprintf(p, sizeof p, "%s/schema-vectors.jsonl", fx);
        FILE *f = fopen(p, "we");
        fputs(VEC, f);
        fclose(f);
        (void)snprintf(p, sizeof p, "%s/intact.jsonl", fx);
        size_t n = load(p, l);
        (void)snprintf(p, sizeof p, "%s/incomplete.jsonl", fx);
        save(p, l, 4);
        char *pid = strstr(l[1], "\"pid\":4391");
        pid[7] = '5';
        (void)snprintf(p, sizeof p, "%s/tampered.jsonl", fx);
        save(p, l, n);
        pid[7] = '3';
        l[4][strlen(l[4]) - 10] = '\0';
        (void)snprintf(p, sizeof p, "%s/truncated.jsonl", fx);
        save(p, l, n);
        drop(l, n);
        (void)snprintf(p, sizeof p, "%s/intact.anchor", fx);
        f = fopen(p, "we");
        fprintf(f, "3:%s\n", heads[3]);
        fclose(f);
    }
    static const struct {
        const char *name;
        int rc;
    } want[] = {{"intact.jsonl", 0}, {"schema-vectors.jsonl", 3}, {"incomplete.jsonl", 3},
                {"tampered.jsonl", 1}, {"truncated.jsonl", 2}};
    for (size_t i = 0; i < AA_ARRAY_SIZE(want); i++) {
        char p[600];
        (void)snprintf(p, sizeof p, "%s/%s", fx, want[i].name);
        if (access(p, R_OK) != 0) {
            print_error("fixture %s missing (run with AA_REGEN_FIXTURES=1)\n", p);
            fail();
        }
        assert_int_equal(run(p, NULL), want[i].rc);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixtures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
