/* admin-audit verify [--anchor [SESSION:]SEQ:HEX]... FILE...
 *
 * Checks the per-session hash chains of contract §6 (reference/schema.md
 * §4.2-4.3).  Lines are grouped by session.id (files may interleave several
 * sessions); FILEs are read in the order given ("-" = stdin) as one stream
 * per session.  One JSON summary line per session on stdout:
 *   {"session_id","records","last_seq","head","status","first_bad_line"}
 * plus "first_bad_file" when first_bad_line is set.
 *
 * Status and exit code per session:
 *   tampered 1        hash or prev mismatch, seq gap, duplicate, reorder,
 *                     insertion, a middle line that is not a chained record,
 *                     a torn line followed by more records of its session
 *   anchor_mismatch 4 the record with chain.seq SEQ is missing or its hash
 *                     is not HEX
 *   truncated 2       the file's last line is incomplete (no newline, or no
 *                     ,"hash":"<hex>"} suffix), everything before it valid
 *   incomplete 3      valid chain, no event.action "session.end"
 *   intact 0
 * With several sessions the exit code is the most severe status, ordered
 *   tampered(1) > anchor_mismatch(4) > truncated(2) > incomplete(3) > intact(0)
 * i.e. evidence of manipulation first, then a broken external anchor, then
 * a crash-shaped tail, then a merely unfinished session.
 * Usage errors, unreadable files: 64.
 *
 * An anchor without SESSION applies to the one session in the input; with
 * several sessions it must match one of them, otherwise every session is
 * reported anchor_mismatch.  Records that are chained but of an unknown kind
 * (chain.checkpoint) are accepted like any other. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "commands.h"
#include "journal.h"
#include "record.h"
#include "util.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define ANCHORS_MAX 64

enum vstatus { VS_INTACT, VS_INCOMPLETE, VS_TRUNCATED, VS_ANCHOR, VS_TAMPERED };

static const struct {
    const char *name;
    int exit_code;
} vstatus_info[] = {
    [VS_INTACT] = {"intact", 0},         [VS_INCOMPLETE] = {"incomplete", 3},
    [VS_TRUNCATED] = {"truncated", 2},   [VS_ANCHOR] = {"anchor_mismatch", 4},
    [VS_TAMPERED] = {"tampered", 1},
};

struct anchor {
    char *session; /* owned, NULL = unscoped */
    uint64_t seq;
    char hex[65];
};

struct vsession {
    char *id; /* owned; NULL for lines that name no session */
    uint64_t records, last_seq;
    char head[65];
    bool ended, tampered, torn;
    long bad_line;        /* first bad line (tampered or torn), 0 = none */
    const char *bad_file; /* borrowed from argv */
    bool anchor_bad;
    char (*anchor_hash)[65]; /* per anchor: hash seen at its seq, "" if none */
};

struct vstate {
    struct anchor anchors[ANCHORS_MAX];
    size_t nanchors;
    struct vsession *s;
    size_t n, cap;
    struct json_object *index; /* session id -> position in s */
    long null_session;         /* position of the NULL-id session, -1 */
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: admin-audit verify [--anchor [SESSION:]SEQ:HEX]... FILE...\n"
               "exit: 0 intact, 1 tampered, 2 truncated tail, 3 incomplete session,\n"
               "      4 anchor mismatch, 64 usage\n");
}

static int
parse_anchor(const char *arg, struct anchor *a)
{
    const char *c = strrchr(arg, ':');
    if (!c || strlen(c + 1) != 64)
        return -EINVAL;
    for (int i = 0; i < 64; i++) {
        char h = c[1 + i];
        if (h >= 'A' && h <= 'F')
            h = (char)(h - 'A' + 'a');
        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f')))
            return -EINVAL;
        a->hex[i] = h;
    }
    a->hex[64] = '\0';
    const char *seqstart = arg;
    const char *c2 = NULL;
    for (const char *p = arg; p < c; p++)
        if (*p == ':')
            c2 = p;
    if (c2)
        seqstart = c2 + 1;
    if (seqstart == c)
        return -EINVAL;
    uint64_t v = 0;
    for (const char *p = seqstart; p < c; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v == 0)
        return -EINVAL;
    a->seq = v;
    a->session = NULL;
    if (c2) {
        if (c2 == arg)
            return -EINVAL;
        a->session = strndup(arg, (size_t)(c2 - arg));
        if (!a->session)
            return -ENOMEM;
    }
    return 0;
}

static struct vsession *
get_session(struct vstate *st, const char *id)
{
    struct json_object *pos;
    if (!id && st->null_session >= 0)
        return &st->s[st->null_session];
    if (id && json_object_object_get_ex(st->index, id, &pos))
        return &st->s[json_object_get_int(pos)];
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        struct vsession *ns = realloc(st->s, cap * sizeof *ns);
        if (!ns)
            return NULL;
        st->s = ns;
        st->cap = cap;
    }
    struct vsession *s = &st->s[st->n];
    *s = (struct vsession){0};
    memcpy(s->head, ZERO_HASH, sizeof s->head);
    s->anchor_hash = calloc(st->nanchors ? st->nanchors : 1, sizeof *s->anchor_hash);
    if (!s->anchor_hash)
        return NULL;
    if (id) {
        s->id = strdup(id);
        struct json_object *p = json_object_new_int((int)st->n);
        if (!s->id || !p || json_object_object_add(st->index, id, p) < 0) { /* steals p */
            free(s->id);
            free(s->anchor_hash);
            json_object_put(p);
            return NULL;
        }
    } else {
        st->null_session = (long)st->n;
    }
    st->n++;
    return s;
}

/* session.id of a line that may not parse: look for the envelope's
 * "session":{"id":"..."} bytes.  Owned result or NULL. */
static char *
sniff_session(const char *line, size_t len)
{
    static const char key[] = "\"session\":{\"id\":\"";
    const char *p = memmem(line, len, key, sizeof key - 1);
    if (!p)
        return NULL;
    p += sizeof key - 1;
    const char *e = memchr(p, '"', len - (size_t)(p - line));
    if (!e || memchr(p, '\\', (size_t)(e - p)))
        return NULL;
    return strndup(p, (size_t)(e - p));
}

static const char *
str_member(struct json_object *obj, const char *a, const char *b)
{
    struct json_object *o, *v;
    if (!obj || !json_object_object_get_ex(obj, a, &o) || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, b, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void
mark_bad(struct vsession *s, long line, const char *file, bool torn)
{
    if (s->tampered)
        return;
    if (s->torn && !torn) {
        /* A torn line followed by more of the session: it was in the
         * middle, so it is damage, not a crash tail.  Report the torn line. */
        s->tampered = true;
        return;
    }
    if (torn) {
        if (s->torn) {
            s->tampered = true;
            return;
        }
        s->torn = true;
    } else {
        s->tampered = true;
    }
    s->bad_line = line;
    s->bad_file = file;
}

/* One line (without its newline).  has_nl: the line was terminated;
 * last: no further line in this file.  prev_sid: the session of the
 * previous line of this file (for lines that name none); updated. */
static int
verify_line(struct vstate *st, const char *file, long lineno, const char *line, size_t len,
            bool has_nl, bool last, char **prev_sid)
{
    char recorded[65], computed[65];
    int hr = has_nl ? aa_chain_line_hash(line, len, recorded, computed) : -EINVAL;

    struct json_object *obj = NULL;
    if (has_nl) {
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
            return -ENOMEM;
        obj = json_tokener_parse_ex(tok, line, (int)len);
        if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
                    (size_t)json_tokener_get_parse_end(tok) != len ||
                    !json_object_is_type(obj, json_type_object))) {
            json_object_put(obj);
            obj = NULL;
        }
        json_tokener_free(tok);
    }

    cleanup_free char *sniffed = NULL;
    const char *sid = str_member(obj, "session", "id");
    if (!sid) {
        sniffed = sniff_session(line, len);
        sid = sniffed ? sniffed : *prev_sid;
    }
    struct vsession *s = get_session(st, sid);
    if (!s) {
        json_object_put(obj);
        return -ENOMEM;
    }
    if (s->id != *prev_sid) {
        /* prev_sid borrows the session's id (sessions live until the end). */
        *prev_sid = s->id;
    }

    if (s->tampered)
        goto out;
    if (hr < 0) {
        /* No hash suffix: a crash-shaped tail when it is the last line of
         * the file, otherwise foreign or damaged. */
        mark_bad(s, lineno, file, !has_nl || last);
        goto out;
    }
    if (s->torn) {
        mark_bad(s, lineno, file, false);
        goto out;
    }
    struct json_object *chain, *jseq;
    const char *prev = str_member(obj, "chain", "prev");
    if (strcmp(recorded, computed) != 0 || !obj || !prev || !aa_utf8_valid(line, len) ||
        !json_object_object_get_ex(obj, "chain", &chain) ||
        !json_object_object_get_ex(chain, "seq", &jseq) || !json_object_is_type(jseq, json_type_int) ||
        json_object_get_int64(jseq) <= 0) {
        mark_bad(s, lineno, file, false);
        goto out;
    }
    uint64_t seq = (uint64_t)json_object_get_int64(jseq);
    if (seq != s->last_seq + 1 || strcmp(prev, s->head) != 0) {
        /* Gap, duplicate, reorder, insertion or a forged self-hash. */
        mark_bad(s, lineno, file, false);
        goto out;
    }
    s->records++;
    s->last_seq = seq;
    memcpy(s->head, recorded, sizeof s->head);
    const char *action = str_member(obj, "event", "action");
    if (action && strcmp(action, "session.end") == 0)
        s->ended = true;
    for (size_t k = 0; k < st->nanchors; k++)
        if (st->anchors[k].seq == seq)
            memcpy(s->anchor_hash[k], recorded, 65);
out:
    json_object_put(obj);
    return 0;
}

static int
verify_stream(struct vstate *st, const char *file, FILE *f)
{
    char *cur = NULL, *next = NULL;
    size_t ccap = 0, ncap = 0;
    ssize_t clen = getline(&cur, &ccap, f), nlen;
    long lineno = 0;
    char *prev_sid = NULL; /* borrowed */
    int r = 0;

    while (clen >= 0) {
        nlen = getline(&next, &ncap, f);
        lineno++;
        bool has_nl = clen > 0 && cur[clen - 1] == '\n';
        size_t len = (size_t)clen - (has_nl ? 1 : 0);
        r = verify_line(st, file, lineno, cur, len, has_nl, nlen < 0, &prev_sid);
        if (r < 0)
            break;
        char *t = cur;
        cur = next;
        next = t;
        size_t tc = ccap;
        ccap = ncap;
        ncap = tc;
        clen = nlen;
    }
    if (r == 0 && ferror(f))
        r = -EIO;
    free(cur);
    free(next);
    return r;
}

static enum vstatus
session_status(const struct vsession *s)
{
    if (s->tampered)
        return VS_TAMPERED;
    if (s->anchor_bad)
        return VS_ANCHOR;
    if (s->torn)
        return VS_TRUNCATED;
    if (!s->ended)
        return VS_INCOMPLETE;
    return VS_INTACT;
}

static int
apply_anchors(struct vstate *st)
{
    for (size_t k = 0; k < st->nanchors; k++) {
        const struct anchor *a = &st->anchors[k];
        if (a->session) {
            struct vsession *s = get_session(st, a->session);
            if (!s)
                return -ENOMEM;
            if (strcmp(s->anchor_hash[k], a->hex) != 0)
                s->anchor_bad = true;
            continue;
        }
        bool matched = false;
        for (size_t i = 0; i < st->n; i++)
            if (st->s[i].id && strcmp(st->s[i].anchor_hash[k], a->hex) == 0)
                matched = true;
        if (matched)
            continue;
        size_t real = 0;
        for (size_t i = 0; i < st->n; i++)
            if (st->s[i].id) {
                st->s[i].anchor_bad = true;
                real++;
            }
        if (real == 0) {
            struct vsession *s = get_session(st, NULL);
            if (!s)
                return -ENOMEM;
            s->anchor_bad = true;
        }
    }
    return 0;
}

static int
print_summary(const struct vsession *s, enum vstatus vs)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return -ENOMEM;
    struct json_object *sid = NULL;
    if (s->id) {
        cleanup_free char *fixed = aa_utf8_sanitize(s->id, strlen(s->id));
        sid = fixed ? json_object_new_string(fixed) : NULL;
    }
    /* steals each value */
    json_object_object_add(o, "session_id", sid);
    json_object_object_add(o, "records", json_object_new_int64((int64_t)s->records));
    json_object_object_add(o, "last_seq", json_object_new_int64((int64_t)s->last_seq));
    json_object_object_add(o, "head", s->records ? json_object_new_string(s->head) : NULL);
    json_object_object_add(o, "status", json_object_new_string(vstatus_info[vs].name));
    json_object_object_add(o, "first_bad_line",
                           s->bad_line && vs != VS_ANCHOR ? json_object_new_int64(s->bad_line)
                                                          : NULL);
    if (s->bad_line && vs != VS_ANCHOR && s->bad_file)
        json_object_object_add(o, "first_bad_file", json_object_new_string(s->bad_file));
    const char *txt =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    int r = txt && printf("%s\n", txt) >= 0 ? 0 : -EIO;
    json_object_put(o);
    return r;
}

static void
vstate_done(struct vstate *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->s[i].id);
        free(st->s[i].anchor_hash);
    }
    free(st->s);
    json_object_put(st->index);
    for (size_t k = 0; k < st->nanchors; k++)
        free(st->anchors[k].session);
}

int
aa_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"anchor", required_argument, NULL, 'a'},
        {"head", required_argument, NULL, 'a'}, /* schema.md spelling */
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct vstate st = {.null_session = -1};
    int c, r, rc = AA_EXIT_USAGE;

    st.index = json_object_new_object();
    if (!st.index) {
        aa_log("verify: out of memory");
        return AA_EXIT_USAGE;
    }
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (st.nanchors == ANCHORS_MAX) {
                aa_log("verify: at most %d --anchor options", ANCHORS_MAX);
                goto out;
            }
            if (parse_anchor(optarg, &st.anchors[st.nanchors]) < 0) {
                aa_log("verify: --anchor '%s': expected [SESSION:]SEQ:HEX (SEQ >= 1, 64 hex digits)",
                       optarg);
                goto out;
            }
            st.nanchors++;
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            aa_log("verify: unknown or incomplete option '%s'", argv[optind - 1]);
            usage(stderr);
            goto out;
        }
    }
    if (optind >= argc) {
        aa_log("verify: no FILE given");
        usage(stderr);
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        cleanup_file FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "re");
        FILE *in = f ? f : (strcmp(path, "-") == 0 ? stdin : NULL);
        if (!in) {
            aa_log_errno(-errno, "verify: cannot read '%s': %m", path);
            goto out;
        }
        r = verify_stream(&st, path, in);
        if (r < 0) {
            aa_log_errno(r, "verify: reading '%s': %m", path);
            goto out;
        }
    }
    r = apply_anchors(&st);
    if (r < 0) {
        aa_log_errno(r, "verify: %m");
        goto out;
    }
    enum vstatus worst = VS_INTACT;
    for (size_t i = 0; i < st.n; i++) {
        enum vstatus vs = session_status(&st.s[i]);
        if (vs > worst)
            worst = vs;
        if (print_summary(&st.s[i], vs) < 0) {
            aa_log("verify: cannot write the summary");
            goto out;
        }
    }
    if (st.n == 0)
        aa_log("verify: no records");
    (void)fflush(stdout);
    rc = vstatus_info[worst].exit_code;
out:
    vstate_done(&st);
    return rc;
}
