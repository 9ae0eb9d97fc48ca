/* Records (contract §6): envelope in fixed key order, dotted-path setters,
 * outside bytes made UTF-8 (U+FFFD + audit.raw base64) and redacted
 * (redact.h) before anything is hashed or written.
 *
 * NOTE: redaction runs on the raw bytes first, so audit.raw holds the exact
 * bytes *after* redaction: a secret never reaches the journal, not even in
 * base64. */
#include "record.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "util.h"

#define PATH_MAX_DOTTED 256

static int
add_member(struct json_object *obj, const char *key, struct json_object *val)
{
    /* steals val; json-c replaces an existing key in place (position kept). */
    if (json_object_object_add(obj, key, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

/* A JSON string of NUL-terminated s, invalid UTF-8 replaced by U+FFFD; NULL
 * on ENOMEM. */
static struct json_object *
utf8_string(const char *s)
{
    size_t n = strlen(s);
    if (aa_utf8_valid(s, n))
        return json_object_new_string_len(s, (int)n);
    cleanup_free char *fixed = aa_utf8_sanitize(s, n);
    return fixed ? json_object_new_string(fixed) : NULL;
}

/* A string member (see utf8_string), or NULL -> JSON null. */
static int
add_str(struct json_object *obj, const char *key, const char *s)
{
    struct json_object *v = NULL;
    if (s && !(v = utf8_string(s)))
        return -ENOMEM;
    return add_member(obj, key, v); /* steals v */
}

static struct json_object *
new_obj_in(struct json_object *parent, const char *key)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (add_member(parent, key, o) < 0) /* steals o */
        return NULL;
    return o;
}

struct json_object *
aa_record_new(const struct aa_envelope *env, const char *action, const char *outcome,
              const struct timespec *ts, pid_t pid)
{
    struct timespec now;
    char stamp[AA_TIMESTAMP_MAX];
    if (!ts) {
        (void)clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    aa_format_timestamp(ts, stamp);

    struct json_object *rec = json_object_new_object();
    if (!rec)
        return NULL;
    struct json_object *ev, *se, *us, *eff, *ho, *pr;
    if (add_str(rec, "@timestamp", stamp) < 0 || add_str(rec, "schema", AA_SCHEMA) < 0 ||
        !(ev = new_obj_in(rec, "event")) || add_str(ev, "action", action) < 0 ||
        add_str(ev, "outcome", outcome) < 0 || add_member(ev, "id", NULL) < 0 ||
        !(se = new_obj_in(rec, "session")) || add_str(se, "id", env->session_id) < 0 ||
        add_str(se, "task", env->task_id) < 0 || !(us = new_obj_in(rec, "user")) ||
        add_str(us, "name", env->user_name) < 0 || !(eff = new_obj_in(us, "effective")) ||
        add_str(eff, "name", env->user_effective) < 0 || !(ho = new_obj_in(rec, "host")) ||
        add_str(ho, "name", env->host_name) < 0 || !(pr = new_obj_in(rec, "process")) ||
        add_member(pr, "pid", json_object_new_int64((int64_t)pid)) < 0) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

/* Walk/create the objects of dotted[0..n). */
static struct json_object *
obj_at(struct json_object *rec, const char *dotted, size_t n)
{
    struct json_object *cur = rec;
    size_t i = 0;
    while (i < n) {
        const char *dot = memchr(dotted + i, '.', n - i);
        size_t l = dot ? (size_t)(dot - dotted) - i : n - i;
        char key[PATH_MAX_DOTTED];
        if (l == 0 || l >= sizeof key)
            return NULL;
        memcpy(key, dotted + i, l);
        key[l] = '\0';
        struct json_object *next = NULL;
        if (json_object_object_get_ex(cur, key, &next) && next) {
            if (!json_object_is_type(next, json_type_object))
                return NULL;
        } else {
            /* Missing or JSON null: (re)place an object, position kept. */
            next = new_obj_in(cur, key);
            if (!next)
                return NULL;
        }
        cur = next;
        i += l + (dot ? 1 : 0);
    }
    return cur;
}

struct json_object *
aa_rec_obj(struct json_object *rec, const char *dotted)
{
    if (!rec || !dotted || !json_object_is_type(rec, json_type_object))
        return NULL;
    return obj_at(rec, dotted, strlen(dotted));
}

int
aa_rec_set(struct json_object *rec, const char *dotted, struct json_object *val)
{
    const char *dot = strrchr(dotted, '.');
    struct json_object *parent = dot ? obj_at(rec, dotted, (size_t)(dot - dotted)) : rec;
    if (!parent || !json_object_is_type(parent, json_type_object)) {
        json_object_put(val);
        return -ENOMEM;
    }
    return add_member(parent, dot ? dot + 1 : dotted, val); /* steals val */
}

int
aa_rec_set_str(struct json_object *rec, const char *dotted, const char *s)
{
    if (!s)
        return aa_rec_set(rec, dotted, NULL);
    struct json_object *v = utf8_string(s);
    if (!v)
        return -ENOMEM;
    return aa_rec_set(rec, dotted, v); /* steals v */
}

int
aa_rec_set_int(struct json_object *rec, const char *dotted, int64_t v)
{
    struct json_object *o = json_object_new_int64(v);
    if (!o)
        return -ENOMEM;
    return aa_rec_set(rec, dotted, o); /* steals o */
}

int
aa_rec_set_num_str(struct json_object *rec, const char *dotted, int64_t v)
{
    char b[24];
    (void)snprintf(b, sizeof b, "%lld", (long long)v);
    return aa_rec_set_str(rec, dotted, b);
}

int
aa_rec_set_bool(struct json_object *rec, const char *dotted, bool v)
{
    struct json_object *o = json_object_new_boolean(v);
    if (!o)
        return -ENOMEM;
    return aa_rec_set(rec, dotted, o); /* steals o */
}

/* audit.redactions[] += {"field","index","rule"} for each bit of hits. */
static int
note_redactions(struct json_object *rec, const char *field, int64_t index, uint32_t hits,
                struct aa_counts *counts)
{
    if (!hits)
        return 0;
    struct json_object *audit = aa_rec_obj(rec, "audit"), *arr = NULL;
    if (!audit)
        return -ENOMEM;
    if (!json_object_object_get_ex(audit, "redactions", &arr) ||
        !json_object_is_type(arr, json_type_array)) {
        arr = json_object_new_array();
        if (!arr || add_member(audit, "redactions", arr) < 0) /* steals arr */
            return -ENOMEM;
    }
    for (int rule = 0; rule < AA_REDACT_RULE_MAX; rule++) {
        if (!(hits & (UINT32_C(1) << rule)))
            continue;
        struct json_object *e = json_object_new_object();
        if (!e)
            return -ENOMEM;
        if (add_str(e, "field", field) < 0 ||
            add_member(e, "index", index >= 0 ? json_object_new_int64(index) : NULL) < 0 ||
            add_str(e, "rule", aa_redact_rule_name((enum aa_redact_rule)rule)) < 0 ||
            json_object_array_add(arr, e) < 0) { /* steals e */
            json_object_put(e);
            return -ENOMEM;
        }
        if (counts)
            counts->redactions++;
    }
    return 0;
}

/* JSON string for outside bytes; records audit.raw[rawkey] when they are not
 * clean UTF-8 (invalid or containing NUL). */
static int
outside_string(struct json_object *rec, const char *rawkey, const char *p, size_t n,
               struct json_object **ret)
{
    struct json_object *v;
    if (n > INT32_MAX)
        return -E2BIG;
    if (aa_utf8_valid(p, n) && (n == 0 || !memchr(p, '\0', n))) {
        v = json_object_new_string_len(n ? p : "", (int)n);
        if (!v)
            return -ENOMEM;
        *ret = v;
        return 0;
    }
    cleanup_free char *fixed = aa_utf8_sanitize(p, n);
    cleanup_free char *b64 = aa_base64(p, n);
    if (!fixed || !b64)
        return -ENOMEM;
    struct json_object *raw = aa_rec_obj(rec, "audit.raw");
    if (!raw)
        return -ENOMEM;
    /* rawkey contains dots: add directly, not via a dotted path. */
    if (add_str(raw, rawkey, b64) < 0)
        return -ENOMEM;
    v = json_object_new_string(fixed);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

int
aa_rec_set_bytes(struct json_object *rec, const char *dotted, const void *p, size_t n,
                 bool redact, struct aa_counts *counts)
{
    cleanup_free char *red = NULL;
    size_t rn = 0;
    uint32_t hits = 0;
    int r;
    if (!p)
        return aa_rec_set(rec, dotted, NULL);
    if (redact) {
        r = aa_redact_value(p, n, &red, &rn, &hits);
        if (r < 0)
            return r;
        if (r > 0) {
            p = red;
            n = rn;
        }
    }
    struct json_object *v = NULL;
    r = outside_string(rec, dotted, p, n, &v);
    if (r < 0)
        return r;
    r = aa_rec_set(rec, dotted, v); /* steals v */
    if (r < 0)
        return r;
    return note_redactions(rec, dotted, -1, hits, counts);
}

/* Shared by args and env: element i of the array at dotted, with the UTF-8
 * rule (audit.raw["<dotted>[i]"]) and its redaction notes. */
static int
append_element(struct json_object *rec, const char *dotted, struct json_object *arr, size_t i,
               const char *p, size_t n, uint32_t hits, struct aa_counts *counts)
{
    char rawkey[PATH_MAX_DOTTED + 32];
    (void)snprintf(rawkey, sizeof rawkey, "%s[%zu]", dotted, i);
    struct json_object *v = NULL;
    int r = outside_string(rec, rawkey, p, n, &v);
    if (r < 0)
        return r;
    if (json_object_array_add(arr, v) < 0) { /* steals v */
        json_object_put(v);
        return -ENOMEM;
    }
    return note_redactions(rec, dotted, (int64_t)i, hits, counts);
}

int
aa_rec_set_args(struct json_object *rec, const char *dotted, const struct aa_bytes *argv,
                size_t argc, struct aa_counts *counts)
{
    struct json_object *arr = json_object_new_array_ext((int)(argc ? argc : 1));
    int r;
    if (!arr)
        return -ENOMEM;
    /* Attach first so audit.* members created below come after it is known. */
    r = aa_rec_set(rec, dotted, arr) /* steals arr */;
    if (r < 0)
        return r;
    for (size_t i = 0; i < argc; i++) {
        cleanup_free char *red = NULL;
        size_t rn = 0;
        uint32_t hits = 0;
        const char *p = argv[i].p ? argv[i].p : "";
        size_t n = argv[i].p ? argv[i].n : 0;
        r = aa_redact_arg(argv, argc, i, &red, &rn, &hits);
        if (r < 0)
            return r;
        if (r > 0) {
            p = red;
            n = rn;
        }
        r = append_element(rec, dotted, arr, i, p, n, hits, counts);
        if (r < 0)
            return r;
    }
    size_t dl = strlen(dotted);
    if (dl >= 5 && strcmp(dotted + dl - 5, ".args") == 0 && dl < PATH_MAX_DOTTED) {
        char cnt[PATH_MAX_DOTTED + 8];
        (void)snprintf(cnt, sizeof cnt, "%.*s.args_count", (int)(dl - 5), dotted);
        r = aa_rec_set_int(rec, cnt, (int64_t)argc);
        if (r < 0)
            return r;
    }
    return 0;
}

int
aa_rec_set_env(struct json_object *rec, const char *dotted, const struct aa_bytes *envp,
               size_t envc, char *const *extra_allow, struct aa_counts *counts)
{
    struct json_object *arr = json_object_new_array_ext((int)(envc ? envc : 1));
    int r;
    if (!arr)
        return -ENOMEM;
    r = aa_rec_set(rec, dotted, arr) /* steals arr */;
    if (r < 0)
        return r;
    for (size_t i = 0; i < envc; i++) {
        const char *p = envp[i].p ? envp[i].p : "";
        size_t n = envp[i].p ? envp[i].n : 0;
        const char *eq = memchr(p, '=', n);
        size_t nl = eq ? (size_t)(eq - p) : n;
        uint32_t hits = 0;
        cleanup_free char *buf = NULL;

        bool names_only = false;

        if (eq && aa_redact_env_name_secret(p, nl)) {
            /* Secret-looking names lose their value even when allowlisted. */
            hits |= UINT32_C(1) << AA_REDACT_ENV_SECRET;
            names_only = true;
        } else if (eq && aa_redact_env_name_allowed(p, nl, extra_allow)) {
            cleanup_free char *val = NULL;
            size_t vn = 0;
            r = aa_redact_value(eq + 1, n - nl - 1, &val, &vn, &hits);
            if (r < 0)
                return r;
            if (r > 0) {
                buf = malloc(nl + 1 + vn + 1);
                if (!buf)
                    return -ENOMEM;
                memcpy(buf, p, nl + 1);
                memcpy(buf + nl + 1, val, vn);
                p = buf;
                n = nl + 1 + vn;
            }
        } else if (eq) {
            /* Not allowlisted: the name only.  This is policy, not a
             * detection, so no audit.redactions entry. */
            names_only = true;
        }
        if (names_only) {
            size_t ml = strlen(AA_REDACTED);
            buf = malloc(nl + 1 + ml + 1);
            if (!buf)
                return -ENOMEM;
            memcpy(buf, p, nl + 1);
            memcpy(buf + nl + 1, AA_REDACTED, ml + 1);
            p = buf;
            n = nl + 1 + ml;
        }
        r = append_element(rec, dotted, arr, i, p, n, hits, counts);
        if (r < 0)
            return r;
    }
    return 0;
}

const char *
aa_record_serialize(struct json_object *rec, size_t *ret_len)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (ret_len)
        *ret_len = s ? len : 0;
    return s;
}

struct json_object *
aa_json_get(struct json_object *o, const char *dotted)
{
    char key[128];
    while (o && *dotted) {
        size_t n = strcspn(dotted, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, dotted, n);
        key[n] = '\0';
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o))
            return NULL;
        dotted += n + (dotted[n] == '.');
    }
    return o;
}

const char *
aa_json_get_str(struct json_object *o, const char *dotted)
{
    struct json_object *v = aa_json_get(o, dotted);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *
aa_errno_name(int e, char buf[16])
{
    const char *n = strerrorname_np(e);
    if (n)
        return n;
    (void)snprintf(buf, 16, "E%d", e);
    return buf;
}

void
aa_record_event_id(struct json_object *rec, char *out, size_t outlen)
{
    const char *id = aa_json_get_str(rec, "event.id");
    (void)snprintf(out, outlen, "%s", id ? id : "");
}

const char *
aa_net_transport_name(int type, int proto)
{
    switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_UDPLITE: return "udplite";
    case IPPROTO_SCTP: return "sctp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "ipv6-icmp";
    default: break;
    }
    return type == SOCK_STREAM ? "tcp" : type == SOCK_DGRAM ? "udp" : "raw";
}
