/* Forwarder core: cursor files, default journal path, and live delivery by
 * the background process to an in-process TCP syslog listener. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "forward.h"

static char tmpdir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aa-fwd-unit.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void
append_record(const char *path, const char *sid, int seq, const char *action)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f,
            "{\"@timestamp\":\"2026-01-01T00:00:%02d.000000Z\",\"schema\":\"admin-audit/1\","
            "\"event\":{\"action\":\"%s\",\"outcome\":\"success\",\"id\":\"%s:%d\"},"
            "\"session\":{\"id\":\"%s\",\"task\":\"ADM-001\"},\"host\":{\"name\":\"h\"},"
            "\"process\":{\"pid\":42},\"chain\":{\"seq\":%d,\"prev\":\"p\"},"
            "\"hash\":\"%064d\"}\n",
            seq % 60, action, sid, seq, sid, seq, seq);
    fclose(f);
}

static void
test_cursor_roundtrip(void **state)
{
    (void)state;
    char journal[128];
    snprintf(journal, sizeof journal, "%s/j/audit.jsonl", tmpdir);
    char *p = aa_forward_cursor_path(journal, "relp://127.0.0.1:2514");
    assert_non_null(p);
    /* <journal>.d/cursors/<16 hex>.json */
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s.d/cursors/", journal);
    assert_memory_equal(p, prefix, strlen(prefix));
    assert_int_equal(strlen(p), strlen(prefix) + 16 + 5);

    struct aa_forward_cursor c = {0};
    assert_int_equal(aa_forward_cursor_load(p, &c), 0); /* missing = offset 0 */
    assert_int_equal(c.offset, 0);
    assert_null(c.event_id);

    struct aa_forward_cursor w = {.offset = 12345, .event_id = (char *)"S:9"};
    assert_int_equal(aa_forward_cursor_save(p, "relp://u:pw@127.0.0.1:2514", "relp", &w), 0);
    assert_int_equal(aa_forward_cursor_load(p, &c), 0);
    assert_int_equal(c.offset, 12345);
    assert_string_equal(c.event_id, "S:9");
    aa_forward_cursor_done(&c);

    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* the password never lands in the cursor file */
    FILE *f = fopen(p, "r");
    char buf[512] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_null(strstr(buf, "pw@"));

    f = fopen(p, "w");
    fputs("{\"offset\":\"x\"}", f);
    fclose(f);
    assert_int_equal(aa_forward_cursor_load(p, &c), -EINVAL);
    free(p);
}

static void
test_default_path(void **state)
{
    (void)state;
    struct aa_config cfg = {.log = (char *)"/srv/j.jsonl"};
    char *p = aa_default_journal_path(&cfg);
    assert_string_equal(p, "/srv/j.jsonl");
    free(p);
    p = aa_default_journal_path(NULL);
    assert_non_null(p);
    if (geteuid() == 0) {
        assert_string_equal(p, "/var/log/admin-audit/audit.jsonl");
    } else {
        assert_non_null(strstr(p, "/admin-audit/audit.jsonl"));
    }
    free(p);
}

/* Read octet-counted frames until `want` frames arrived or 5 s passed. */
static int
read_frames(int fd, char frames[][1024], int want)
{
    static char buf[65536];
    static size_t have;
    int got = 0;

    for (int rounds = 0; got < want && rounds < 100;) {
        char *sp = memchr(buf, ' ', have);
        if (sp) {
            size_t len = strtoul(buf, NULL, 10), hdr = (size_t)(sp - buf) + 1;
            if (have >= hdr + len) {
                snprintf(frames[got++], 1024, "%.*s", (int)len, buf + hdr);
                memmove(buf, buf + hdr + len, have - hdr - len);
                have -= hdr + len;
                continue;
            }
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            rounds++;
            continue;
        }
        ssize_t k = read(fd, buf + have, sizeof buf - have);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    return got;
}

static void
test_live_tcp(void **state)
{
    (void)state;
    char journal[128], url[64];
    snprintf(journal, sizeof journal, "%s/audit.jsonl", tmpdir);
    append_record(journal, "S1", 1, "session.start");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof url, "syslog+tcp://127.0.0.1:%d", ntohs(sa.sin_port));

    struct aa_forward_target t = {.url = url, .tls_verify = true};
    struct aa_config cfg = {.forward = &t, .n_forward = 1, .checkpoint_every = 2};
    struct aa_forwarder *f = NULL;
    assert_int_equal(aa_forwarder_start(&cfg, journal, &f), 0);
    assert_non_null(f);

    struct pollfd p = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    int cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);

    static char frames[16][1024];
    assert_int_equal(read_frames(cfd, frames, 1), 1);
    assert_non_null(strstr(frames[0], " session.start [admin-audit@32473 session=\"S1\" seq=\"1\""));
    /* live: records appended after the start arrive without a flush */
    append_record(journal, "S1", 2, "process.exec");
    assert_int_equal(read_frames(cfd, frames, 2), 2);
    assert_non_null(strstr(frames[0], "\"id\":\"S1:2\""));
    assert_non_null(strstr(frames[1], " chain.checkpoint "));
    assert_non_null(strstr(frames[1], "\"chain\":{\"seq\":2,\"head\":\"0000"));

    append_record(journal, "S1", 3, "session.end");
    assert_int_equal(read_frames(cfd, frames, 2), 2);
    assert_non_null(strstr(frames[0], "\"id\":\"S1:3\""));
    assert_non_null(strstr(frames[1], "S1:3:checkpoint"));

    /* best effort: reported as sent, never acked */
    struct json_object *st = NULL;
    for (int i = 0; i < 50; i++) {
        json_object_put(st);
        assert_int_equal(aa_forwarder_status(f, &st), 0);
        struct json_object *t0 = json_object_array_get_idx(
            json_object_object_get(st, "targets"), 0), *v;
        if (json_object_object_get_ex(t0, "sent_seq", &v) && json_object_get_int(v) == 3)
            break;
        usleep(20000);
    }
    struct json_object *t0 = json_object_array_get_idx(json_object_object_get(st, "targets"), 0);
    assert_string_equal(json_object_get_string(json_object_object_get(t0, "ack")), "none");
    assert_int_equal(json_object_get_int(json_object_object_get(t0, "sent_seq")), 3);
    assert_null(json_object_object_get(t0, "acked_seq"));
    json_object_put(st);

    assert_int_equal(aa_forwarder_finish(f, 2000), 0);

    /* the cursor is at the end of the journal */
    struct stat jst;
    assert_int_equal(stat(journal, &jst), 0);
    char *cp = aa_forward_cursor_path(journal, url);
    struct aa_forward_cursor c;
    assert_int_equal(aa_forward_cursor_load(cp, &c), 0);
    assert_int_equal(c.offset, jst.st_size);
    assert_string_equal(c.event_id, "S1:3");
    aa_forward_cursor_done(&c);
    free(cp);
    close(cfd);
    close(lfd);
}

static void
test_finish_dead_target_is_bounded(void **state)
{
    (void)state;
    char journal[128];
    snprintf(journal, sizeof journal, "%s/dead.jsonl", tmpdir);
    append_record(journal, "S2", 1, "session.start");
    /* a port nobody listens on */
    struct aa_forward_target t = {.url = (char *)"relp://127.0.0.1:1", .tls_verify = true};
    struct aa_config cfg = {.forward = &t, .n_forward = 1, .checkpoint_every = 1000};
    struct aa_forwarder *f = NULL;
    assert_int_equal(aa_forwarder_start(&cfg, journal, &f), 0);
    append_record(journal, "S2", 2, "session.end");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(aa_forwarder_finish(f, 700), -ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms < 900);

    /* flush reports the records as still spooled */
    char buf[1024] = {0};
    FILE *rep = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(aa_forward_flush(&cfg, journal, 500, rep), -EAGAIN);
    fclose(rep);
    assert_non_null(strstr(buf, "2 record(s) still spooled"));

    /* invalid URL: refused, nothing started */
    t.url = (char *)"nope://x";
    assert_int_equal(aa_forwarder_start(&cfg, journal, &f), -EINVAL);
    cfg.n_forward = 0;
    assert_int_equal(aa_forwarder_start(&cfg, journal, &f), 0);
    assert_null(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_roundtrip),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_live_tcp),
        cmocka_unit_test(test_finish_dead_target_is_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
