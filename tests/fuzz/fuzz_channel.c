/* libFuzzer: the wrapper's decoding of shim reports.  Any process of the
 * session can send the wrapper arbitrary bytes on its channel, so the TLV
 * parser and the record builders for process.exec, network.connect and
 * dns.lookup must survive anything.  This file includes wrapper/channel.c to
 * reach its static functions, with the session and backstop replaced by
 * stubs; invariant: every record built serialises to valid UTF-8 JSON
 * without a raw newline. */
#include "../../wrapper/channel.c"

#include "backstop.h"
#include "record.h"
#include "session.h"

static struct aa_counts fz_counts;
static const struct aa_envelope fz_env = {
    .session_id = "01a23e00-0000-7000-8000-000000000000",
    .task_id = "ADM-001",
    .user_name = "fuzz",
    .user_effective = "fuzz",
    .host_name = "fuzzhost",
};

const struct aa_envelope *
aa_session_envelope(const struct aa_session *s)
{
    (void)s;
    return &fz_env;
}

struct aa_counts *
aa_session_counts(struct aa_session *s)
{
    (void)s;
    return &fz_counts;
}

int
aa_session_emit(struct aa_session *s, struct json_object *rec)
{
    (void)s;
    size_t n = 0;
    const char *line = aa_record_serialize(rec, &n);
    if (!line || !aa_utf8_valid(line, n) || memchr(line, '\n', n))
        __builtin_trap();
    struct json_object *back = json_tokener_parse(line);
    if (!back)
        __builtin_trap();
    json_object_put(back);
    return 0;
}

bool
aa_session_fail_open(const struct aa_session *s)
{
    (void)s;
    return false;
}

bool
aa_session_broken(const struct aa_session *s)
{
    (void)s;
    return false;
}

bool
aa_session_is_member(const struct aa_session *s, pid_t pid)
{
    (void)s;
    (void)pid;
    return true;
}

pid_t
aa_session_wrapper_pid(const struct aa_session *s)
{
    (void)s;
    return 1;
}

int
aa_backstop_claim_connect(struct aa_backstop *b, pid_t pid, const char *api, int family,
                          const void *addr, int port, char *ref, size_t reflen)
{
    (void)b, (void)pid, (void)api, (void)family, (void)addr, (void)port, (void)ref, (void)reflen;
    return 0;
}

int
aa_backstop_drain(struct aa_backstop *b)
{
    (void)b;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static struct aa_channel ch;
    ch.s = NULL;
    ch.bs = NULL;
    ch.epfd = ch.lfd = ch.dfd = ch.tfd = -1;
    struct report r;
    if (report_parse((const char *)data + 1, size - 1, &r) == 0) {
        switch (data[0] % 3) {
        case 0: {
            struct json_object *rec = exec_record(&ch, 4242, &r, "attempt", 0, NULL);
            if (rec)
                (void)aa_session_emit(NULL, rec);
            json_object_put(rec);
            rec = exec_record(&ch, 4242, &r, "result", ENOENT, "x:1");
            if (rec)
                (void)aa_session_emit(NULL, rec);
            json_object_put(rec);
            break;
        }
        case 1: (void)handle_connect(&ch, 4242, &r); break;
        default: (void)handle_dns(&ch, 4242, &r); break;
        }
    }
    report_free(&r);
    return 0;
}
