/* The forwarder: journal-as-spool delivery to the forward targets (see
 * forward.h for the semantics), and the `flush` verb. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "ecs.h"
#include "forward.h"
#include "sink.h"
#include "util.h"

#define FWD_MAX_LINE (4u << 20)     /* longer lines are skipped (never written by us) */
#define FWD_MAX_BATCH_BYTES (1u << 20)
#define FWD_IO_TIMEOUT_MS 5000
#define FWD_BACKOFF_MIN_MS 100
#define FWD_BACKOFF_MAX_MS 5000
#define FWD_IDLE_POLL_MS 250
#define FWD_DEFAULT_FINISH_MS 5000

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- paths */

char *
aa_default_journal_path(const struct aa_config *cfg)
{
    const char *xdg, *home;
    char *out;

    if (cfg && cfg->log)
        return strdup(cfg->log);
    if (geteuid() == 0)
        return strdup("/var/log/admin-audit/audit.jsonl");
    xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/') {
        if (asprintf(&out, "%s/admin-audit/audit.jsonl", xdg) < 0)
            return NULL;
        return out;
    }
    home = getenv("HOME");
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || home[0] != '/')
        return NULL;
    if (asprintf(&out, "%s/.local/state/admin-audit/audit.jsonl", home) < 0)
        return NULL;
    return out;
}

static char *
cursor_dir(const char *journal_path)
{
    char *out;

    if (asprintf(&out, "%s.d/cursors", journal_path) < 0)
        return NULL;
    return out;
}

char *
aa_forward_cursor_path(const char *journal_path, const char *url)
{
    char hex[65];
    char *out;

    if (aa_sha256_hex(url, strlen(url), hex) < 0)
        return NULL;
    hex[16] = '\0';
    if (asprintf(&out, "%s.d/cursors/%s.json", journal_path, hex) < 0)
        return NULL;
    return out;
}


/* -------------------------------------------------------------- cursors */

void
aa_forward_cursor_done(struct aa_forward_cursor *c)
{
    free(c->event_id);
    *c = (struct aa_forward_cursor){0};
}

int
aa_forward_cursor_load(const char *path, struct aa_forward_cursor *ret)
{
    cleanup_free char *buf = NULL;
    struct json_object *root, *v;
    size_t len;
    int r;

    *ret = (struct aa_forward_cursor){0};
    r = aa_read_file(path, 65536, &buf, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    root = json_tokener_parse(buf);
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return -EINVAL;
    }
    if (!json_object_object_get_ex(root, "offset", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0) {
        json_object_put(root);
        return -EINVAL;
    }
    ret->offset = (off_t)json_object_get_int64(v);
    if (json_object_object_get_ex(root, "event_id", &v) &&
        json_object_is_type(v, json_type_string)) {
        ret->event_id = strdup(json_object_get_string(v));
        if (!ret->event_id) {
            json_object_put(root);
            return -ENOMEM;
        }
    }
    json_object_put(root);
    return 0;
}

int
aa_forward_cursor_save(const char *path, const char *url, const char *ack,
                       const struct aa_forward_cursor *c)
{
    cleanup_free char *red = aa_sink_redact_url(url), *line = NULL;
    struct json_object *o = json_object_new_object();
    char ts[AA_TIMESTAMP_MAX];
    struct timespec now;
    int r;

    if (!o || !red) {
        json_object_put(o);
        return -ENOMEM;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    aa_format_timestamp(&now, ts);
    json_object_object_add(o, "url", json_object_new_string(red));
    json_object_object_add(o, "ack", json_object_new_string(ack));
    json_object_object_add(o, "offset", json_object_new_int64((int64_t)c->offset));
    json_object_object_add(o, "event_id", c->event_id ? json_object_new_string(c->event_id) : NULL);
    json_object_object_add(o, "updated", json_object_new_string(ts));
    const char *js =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    r = js ? asprintf(&line, "%s\n", js) : -1;
    json_object_put(o);
    if (r < 0) {
        line = NULL;
        return -ENOMEM;
    }
    size_t len = (size_t)r;
    r = aa_replace_file(path, line, len, 0600);
    if (r == -ENOENT) { /* the cursors directory, on first use */
        cleanup_free char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!dir)
            return -ENOMEM;
        if (slash) {
            *slash = '\0';
            r = aa_mkdir_p(dir, 0700);
            if (r < 0)
                return r;
        }
        r = aa_replace_file(path, line, len, 0600);
    }
    return r;
}

/* --------------------------------------------------------------- reader */

struct fwd_reader {
    FILE *f;
    off_t offset; /* just after the last consumed line */
    char *line;
    size_t cap;
    enum aa_forward_format format;
    long long checkpoint_every;
};

static int
reader_open(struct fwd_reader *rd, const char *path, off_t offset)
{
    struct stat st;

    rd->f = fopen(path, "re");
    if (!rd->f)
        return -errno;
    if (fstat(fileno(rd->f), &st) < 0)
        return -errno;
    if (st.st_size < offset)
        return -ESPIPE; /* journal shorter than the cursor: replaced */
    if (fseeko(rd->f, offset, SEEK_SET) < 0)
        return -errno;
    rd->offset = offset;
    return 0;
}

static void
reader_close(struct fwd_reader *rd)
{
    if (rd->f)
        fclose(rd->f);
    free(rd->line);
    rd->f = NULL;
    rd->line = NULL;
    rd->cap = 0;
}

static const char *
jstr(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, a, &v))
        return NULL;
    if (b && !json_object_object_get_ex(v, b, &v))
        return NULL;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t
jint(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, a, &v))
        return 0;
    if (b && !json_object_object_get_ex(v, b, &v))
        return 0;
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int
severity_of(struct json_object *rec, const char *action)
{
    if (!action)
        return 6;
    if (strcmp(action, "session.start") == 0) {
        const char *mode = jstr(rec, "session", "mode");
        return mode && strcmp(mode, "break-glass") == 0 ? 1 : 5;
    }
    if (strcmp(action, "session.end") == 0 || strcmp(action, "chain.checkpoint") == 0)
        return 5;
    return 6;
}

static int
set_payload(struct aa_fwd_item *it, struct json_object *rec, enum aa_forward_format fmt,
            const char *raw, size_t raw_len)
{
    if (fmt == AA_FORWARD_ECS) {
        struct json_object *e = aa_ecs_map(rec);
        size_t n;
        const char *s;
        if (!e)
            return -ENOMEM;
        s = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        it->payload = s ? strndup(s, n) : NULL;
        it->len = n;
        json_object_put(e);
    } else {
        it->payload = strndup(raw, raw_len);
        it->len = raw_len;
    }
    return it->payload ? 0 : -ENOMEM;
}

static int
fill_common(struct aa_fwd_item *it, struct json_object *rec)
{
    it->session_id = dup_or_null(jstr(rec, "session", "id"));
    it->timestamp = dup_or_null(jstr(rec, "@timestamp", NULL));
    it->host = dup_or_null(jstr(rec, "host", "name"));
    it->seq = jint(rec, "chain", "seq");
    it->pid = jint(rec, "process", "pid");
    return 0;
}

static int
make_checkpoint(struct aa_fwd_item *it, struct json_object *rec, const struct fwd_reader *rd,
                off_t end)
{
    struct json_object *cp = json_object_new_object(), *ev, *ses, *ch, *host;
    const char *sid = jstr(rec, "session", "id"), *head = jstr(rec, "hash", NULL);
    const char *s;
    int64_t seq = jint(rec, "chain", "seq");
    char *id = NULL;
    size_t n;
    int r;

    if (!cp)
        return -ENOMEM;
    if (asprintf(&id, "%s:%lld:checkpoint", sid ? sid : "-", (long long)seq) < 0) {
        json_object_put(cp);
        return -ENOMEM;
    }
    if (jstr(rec, "@timestamp", NULL))
        json_object_object_add(cp, "@timestamp",
                               json_object_new_string(jstr(rec, "@timestamp", NULL)));
    ev = json_object_new_object();
    json_object_object_add(ev, "action", json_object_new_string("chain.checkpoint"));
    json_object_object_add(ev, "id", json_object_new_string(id));
    json_object_object_add(cp, "event", ev);
    ses = json_object_new_object();
    json_object_object_add(ses, "id", sid ? json_object_new_string(sid) : NULL);
    json_object_object_add(cp, "session", ses);
    if (jstr(rec, "host", "name")) {
        host = json_object_new_object();
        json_object_object_add(host, "name", json_object_new_string(jstr(rec, "host", "name")));
        json_object_object_add(cp, "host", host);
    }
    ch = json_object_new_object();
    json_object_object_add(ch, "seq", json_object_new_int64(seq));
    json_object_object_add(ch, "head", head ? json_object_new_string(head) : NULL);
    json_object_object_add(cp, "chain", ch);

    *it = (struct aa_fwd_item){.checkpoint = true, .commit = true, .end_offset = end,
                               .severity = 5, .event_id = id};
    fill_common(it, rec);
    it->action = strdup("chain.checkpoint");
    it->hash = dup_or_null(head);
    s = json_object_to_json_string_length(cp, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    r = set_payload(it, cp, rd->format, s, n);
    json_object_put(cp);
    if (r == 0 && !it->action)
        r = -ENOMEM;
    if (r < 0)
        aa_fwd_item_done(it);
    return r;
}

static void
items_free(struct aa_fwd_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aa_fwd_item_done(&items[i]);
}

/* Read up to max items (complete lines only) from the reader's position.
 * *ret_eof: no further complete line right now. */
static int
reader_batch(struct fwd_reader *rd, struct aa_fwd_item *items, size_t max, size_t *ret_n,
             bool *ret_eof)
{
    size_t n = 0, bytes = 0;
    int r;

    *ret_eof = false;
    while (n < max && bytes < FWD_MAX_BATCH_BYTES) {
        off_t start = rd->offset;
        ssize_t k = getline(&rd->line, &rd->cap, rd->f);
        if (k <= 0 || rd->line[k - 1] != '\n') {
            /* EOF or a line still being written: come back to it later. */
            clearerr(rd->f);
            if (fseeko(rd->f, start, SEEK_SET) < 0)
                return -errno;
            *ret_eof = true;
            break;
        }
        size_t len = (size_t)k - 1;
        if (len > FWD_MAX_LINE || len == 0) {
            rd->offset += k;
            continue;
        }
        struct json_object *rec = json_tokener_parse(rd->line);
        const char *eid = jstr(rec, "event", "id");
        if (!rec || !json_object_is_type(rec, json_type_object) || !eid) {
            /* Not a record (torn line of a crashed writer): skipped. */
            json_object_put(rec);
            rd->offset += k;
            continue;
        }
        const char *action = jstr(rec, "event", "action");
        int64_t seq = jint(rec, "chain", "seq");
        bool cp = (action && strcmp(action, "session.end") == 0) ||
                  (rd->checkpoint_every > 0 && seq > 0 && seq % rd->checkpoint_every == 0);
        if (cp && n + 2 > max) {
            json_object_put(rec);
            if (n == 0)
                return -EINVAL; /* max < 2: cannot happen with our sinks */
            if (fseeko(rd->f, start, SEEK_SET) < 0)
                return -errno;
            break;
        }
        struct aa_fwd_item *it = &items[n];
        *it = (struct aa_fwd_item){.commit = !cp, .end_offset = start + k};
        fill_common(it, rec);
        it->event_id = strdup(eid);
        it->action = dup_or_null(action);
        it->hash = dup_or_null(jstr(rec, "hash", NULL));
        it->severity = severity_of(rec, action);
        r = set_payload(it, rec, rd->format, rd->line, len);
        if (r == 0 && !it->event_id)
            r = -ENOMEM;
        if (r < 0) {
            json_object_put(rec);
            aa_fwd_item_done(it);
            items_free(items, n);
            return r;
        }
        bytes += it->len;
        n++;
        if (cp) {
            r = make_checkpoint(&items[n], rec, rd, start + k);
            if (r < 0) {
                json_object_put(rec);
                items_free(items, n);
                return r;
            }
            bytes += items[n].len;
            n++;
        }
        json_object_put(rec);
        rd->offset = start + k;
    }
    *ret_n = n;
    return 0;
}

/* ------------------------------------------------------ per-target state */

struct fwd_target {
    const struct aa_forward_target *t;
    const struct aa_config *cfg;
    const char *journal;
    char *cursor_path;
    char *lock_path;
    struct aa_sink *sink;
    unsigned backoff_ms;
};

static void
fwd_target_done(struct fwd_target *ft)
{
    aa_sink_free(ft->sink);
    free(ft->cursor_path);
    free(ft->lock_path);
    *ft = (struct fwd_target){0};
}

static int
fwd_target_init(struct fwd_target *ft, const struct aa_config *cfg,
                const struct aa_forward_target *t, const char *journal)
{
    int r;

    *ft = (struct fwd_target){.t = t, .cfg = cfg, .journal = journal};
    ft->cursor_path = aa_forward_cursor_path(journal, t->url);
    if (!ft->cursor_path || asprintf(&ft->lock_path, "%.*s.lock",
                                     (int)(strlen(ft->cursor_path) - 5), ft->cursor_path) < 0) {
        ft->lock_path = NULL;
        fwd_target_done(ft);
        return -ENOMEM;
    }
    r = aa_sink_new(t, &ft->sink);
    if (r < 0) {
        fwd_target_done(ft);
        return r;
    }
    return 0;
}

static int
lock_target(struct fwd_target *ft)
{
    cleanup_free char *dir = cursor_dir(ft->journal);
    int fd, r;

    if (!dir)
        return -ENOMEM;
    fd = open(ft->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        r = aa_mkdir_p(dir, 0700);
        if (r < 0)
            return r;
        fd = open(ft->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        return r;
    }
    return fd;
}

static int
save_cursor(struct fwd_target *ft, struct aa_forward_cursor *cur, off_t offset, const char *eid)
{
    char *nid = NULL;

    if (eid) {
        nid = strdup(eid);
        if (!nid)
            return -ENOMEM;
        free(cur->event_id);
        cur->event_id = nid;
    }
    cur->offset = offset;
    return aa_forward_cursor_save(ft->cursor_path, ft->t->url,
                                  aa_sink_ack_name(aa_sink_ack(ft->sink)), cur);
}

/* event.id of the record an item belongs to (a checkpoint follows its record). */
static const char *
record_id(const struct aa_fwd_item *items, size_t i)
{
    if (items[i].checkpoint)
        return i > 0 ? items[i - 1].event_id : NULL;
    return items[i].event_id;
}

/* One delivery pass: from the cursor to the current end of the journal.
 * deadline_ms 0 = none.  *caught_up when the end was reached. */
static int
fwd_pass(struct fwd_target *ft, long long deadline_ms, bool *caught_up)
{
    struct aa_forward_cursor cur = {0};
    struct fwd_reader rd = {.format = ft->cfg->forward_format,
                            .checkpoint_every = ft->cfg->checkpoint_every};
    size_t max = aa_sink_max_batch(ft->sink);
    cleanup_free struct aa_fwd_item *items = calloc(max, sizeof *items);
    cleanup_fd int lock = -1;
    int r;

    *caught_up = false;
    if (!items)
        return -ENOMEM;
    lock = lock_target(ft);
    if (lock < 0)
        return lock;
    r = aa_forward_cursor_load(ft->cursor_path, &cur);
    if (r < 0)
        cur = (struct aa_forward_cursor){0}; /* unreadable cursor: start over (duplicates) */
    r = reader_open(&rd, ft->journal, cur.offset);
    if (r == -ESPIPE) {
        reader_close(&rd);
        aa_forward_cursor_done(&cur);
        r = reader_open(&rd, ft->journal, 0);
    }
    if (r < 0)
        goto out;
    for (;;) {
        size_t n = 0, done = 0;
        bool eof;
        int timeout = FWD_IO_TIMEOUT_MS;

        if (deadline_ms) {
            long long left = deadline_ms - now_ms();
            if (left <= 0) {
                r = -ETIMEDOUT;
                break;
            }
            if (left < timeout)
                timeout = (int)left;
        }
        r = reader_batch(&rd, items, max, &n, &eof);
        if (r < 0)
            break;
        if (n == 0) {
            if (rd.offset != cur.offset) /* only skipped lines */
                r = save_cursor(ft, &cur, rd.offset, NULL);
            if (r == 0 && eof)
                *caught_up = true;
            break;
        }
        r = aa_sink_send(ft->sink, items, n, &done, timeout);
        if (done == n) {
            int w = save_cursor(ft, &cur, rd.offset, record_id(items, n - 1));
            if (r == 0)
                r = w;
        } else {
            for (size_t i = done; i-- > 0;) {
                if (items[i].commit) {
                    int w = save_cursor(ft, &cur, items[i].end_offset, record_id(items, i));
                    if (r == 0)
                        r = w;
                    break;
                }
            }
            if (r == 0)
                r = -EAGAIN;
        }
        items_free(items, n);
        if (r < 0)
            break;
        if (eof) {
            *caught_up = true;
            break;
        }
    }
out:
    reader_close(&rd);
    aa_forward_cursor_done(&cur);
    return r;
}

static void
next_backoff(struct fwd_target *ft, int r)
{
    if (r == -EBUSY)
        ft->backoff_ms = FWD_BACKOFF_MIN_MS; /* another forwarder holds it */
    else if (ft->backoff_ms == 0)
        ft->backoff_ms = FWD_BACKOFF_MIN_MS;
    else
        ft->backoff_ms = ft->backoff_ms * 2 > FWD_BACKOFF_MAX_MS ? FWD_BACKOFF_MAX_MS
                                                                 : ft->backoff_ms * 2;
}

/* Main loop of a background process.  ctl: the socket to the parent (a
 * 4-byte finish timeout, or EOF).  drain_ms >= 0: no live phase, finish
 * within drain_ms (flush).  Returns the exit status. */
static int
fwd_child_main(struct fwd_target *ft, int ctl, int drain_ms)
{
    bool finishing = drain_ms >= 0, caught_up = false;
    long long deadline = finishing ? now_ms() + drain_ms : 0;
    int ino = -1;

    if (!finishing) {
        ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino >= 0 && inotify_add_watch(ino, ft->journal, IN_MODIFY | IN_CLOSE_WRITE) < 0)
            ino = aa_safe_close(ino);
    }
    for (;;) {
        int r = fwd_pass(ft, finishing ? deadline : 0, &caught_up);
        long long wait;

        if (r < 0) {
            next_backoff(ft, r);
            caught_up = false;
        } else {
            ft->backoff_ms = 0;
        }
        if (finishing && caught_up)
            return 0;
        if (finishing && now_ms() >= deadline)
            return 1;
        wait = r < 0 ? ft->backoff_ms : caught_up ? FWD_IDLE_POLL_MS : 0;
        if (finishing && wait > deadline - now_ms())
            wait = deadline - now_ms();
        if (wait <= 0)
            continue;

        struct pollfd p[2] = {{.fd = finishing ? -1 : ctl, .events = POLLIN},
                              {.fd = finishing ? -1 : ino, .events = POLLIN}};
        int k = poll(p, 2, (int)wait);
        if (k < 0 && errno != EINTR)
            return 2;
        if (k > 0 && (p[1].revents & POLLIN)) {
            char buf[4096];
            while (read(ino, buf, sizeof buf) > 0)
                ;
        }
        if (k > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            int32_t ms = FWD_DEFAULT_FINISH_MS;
            ssize_t got = read(ctl, &ms, sizeof ms);
            if (got != (ssize_t)sizeof ms || ms < 0)
                ms = got == 0 || got < 0 ? FWD_DEFAULT_FINISH_MS : 0;
            finishing = true;
            deadline = now_ms() + ms;
            ft->backoff_ms = 0; /* try right away */
            if (ino >= 0)
                ino = aa_safe_close(ino);
        }
    }
}

/* ------------------------------------------------ background processes */

struct fwd_proc {
    pid_t pid;
    int sock; /* parent end */
    char *url;
    char *cursor_path;
    enum aa_sink_ack ack;
};

struct aa_forwarder {
    char *journal;
    char *session_id; /* session whose records status() reports, may be NULL */
    struct fwd_proc *procs;
    size_t n;
};

static void
child_setup(int sock)
{
    sigset_t all;
    int null;
    static const int ign[] = {SIGPIPE, SIGINT, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};

    (void)setsid();
    for (size_t i = 0; i < AA_ARRAY_SIZE(ign); i++)
        signal(ign[i], SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (sock >= 0 && sock != 3) {
        dup2(sock, 3);
    }
    /* Nothing of the wrapper's (channel sockets, pty, journal fd) stays open here. */
    close_range(sock >= 0 ? 4 : 3, ~0U, 0);
}

/* Fork one process for target t; drain_ms < 0 = live. */
static int
spawn_target(const struct aa_config *cfg, const struct aa_forward_target *t, const char *journal,
             int drain_ms, struct fwd_proc *ret)
{
    struct fwd_target ft;
    int sv[2], r;
    pid_t pid;

    r = fwd_target_init(&ft, cfg, t, journal);
    if (r < 0)
        return r;
    *ret = (struct fwd_proc){.pid = -1, .sock = -1, .ack = aa_sink_ack(ft.sink)};
    ret->url = aa_sink_redact_url(t->url);
    ret->cursor_path = strdup(ft.cursor_path);
    if (!ret->url || !ret->cursor_path) {
        fwd_target_done(&ft);
        return -ENOMEM;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        r = -errno;
        fwd_target_done(&ft);
        return r;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        r = -errno;
        close(sv[0]);
        close(sv[1]);
        fwd_target_done(&ft);
        return r;
    }
    if (pid == 0) {
        close(sv[0]);
        child_setup(sv[1]);
        int status = fwd_child_main(&ft, 3, drain_ms);
        fwd_target_done(&ft); /* orderly close: RELP "close", TLS close_notify, FIN */
        _exit(status);
    }
    close(sv[1]);
    fwd_target_done(&ft);
    ret->pid = pid;
    ret->sock = sv[0];
    return 0;
}

static void
proc_done(struct fwd_proc *p)
{
    if (p->sock >= 0)
        close(p->sock);
    free(p->url);
    free(p->cursor_path);
    *p = (struct fwd_proc){.pid = -1, .sock = -1};
}

/* Wait until every process closed its socket (exited) or the deadline; then
 * SIGKILL the rest and reap.  Returns the number that did not finish in time
 * or failed. */
static size_t
wait_procs(struct fwd_proc *procs, size_t n, long long deadline)
{
    size_t failed = 0;

    for (size_t i = 0; i < n; i++) {
        struct fwd_proc *p = &procs[i];
        bool exited = false;
        int status;

        while (p->pid > 0 && p->sock >= 0) {
            long long left = deadline - now_ms();
            struct pollfd pfd = {.fd = p->sock, .events = POLLIN};
            char c;
            if (left < 0)
                left = 0;
            int k = poll(&pfd, 1, (int)left);
            if (k < 0 && errno == EINTR)
                continue;
            if (k > 0 && read(p->sock, &c, 1) == 0) {
                exited = true;
                break;
            }
            if (k <= 0)
                break;
        }
        if (p->pid <= 0)
            continue;
        if (!exited)
            (void)kill(p->pid, SIGKILL);
        pid_t w;
        do
            w = waitpid(p->pid, &status, 0);
        while (w < 0 && errno == EINTR);
        if (!exited || (w == p->pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)))
            failed++;
        p->pid = -1;
    }
    return failed;
}

static char *
journal_last_session(const char *path)
{
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[65536 + 1];
    struct stat st;
    off_t from;
    ssize_t k;
    char *end, *start;
    struct json_object *rec;
    char *out = NULL;

    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
        return NULL;
    from = st.st_size > 65536 ? st.st_size - 65536 : 0;
    k = pread(fd, buf, sizeof buf - 1, from);
    if (k <= 0)
        return NULL;
    buf[k] = '\0';
    end = buf + k;
    while (end > buf && end[-1] == '\n')
        *--end = '\0';
    start = memrchr(buf, '\n', (size_t)(end - buf));
    start = start ? start + 1 : buf;
    rec = json_tokener_parse(start);
    if (rec && jstr(rec, "session", "id"))
        out = strdup(jstr(rec, "session", "id"));
    json_object_put(rec);
    return out;
}

static void
forwarder_free(struct aa_forwarder *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        proc_done(&f->procs[i]);
    free(f->procs);
    free(f->journal);
    free(f->session_id);
    free(f);
}

int
aa_forwarder_start(const struct aa_config *cfg, const char *journal_path,
                   struct aa_forwarder **ret)
{
    struct aa_forwarder *f;
    int r;

    *ret = NULL;
    if (!cfg || cfg->n_forward == 0)
        return 0;
    for (size_t i = 0; i < cfg->n_forward; i++) {
        struct aa_sink_addr a;
        r = aa_sink_parse_url(cfg->forward[i].url, &a);
        if (r < 0)
            return r == -ENOMEM ? r : -EINVAL;
        aa_sink_addr_done(&a);
    }
    f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->journal = strdup(journal_path);
    f->procs = calloc(cfg->n_forward, sizeof *f->procs);
    if (!f->journal || !f->procs) {
        forwarder_free(f);
        return -ENOMEM;
    }
    f->session_id = journal_last_session(journal_path);
    for (size_t i = 0; i < cfg->n_forward; i++) {
        r = spawn_target(cfg, &cfg->forward[i], journal_path, -1, &f->procs[i]);
        if (r < 0) {
            f->n = i;
            proc_done(&f->procs[i]);
            (void)aa_forwarder_finish(f, 0);
            return r;
        }
        f->n = i + 1;
    }
    *ret = f;
    return 0;
}

bool
aa_forwarder_owns_pid(const struct aa_forwarder *f, pid_t pid)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (f->procs[i].pid == pid)
            return true;
    return false;
}

static int64_t
cursor_seq(const char *cursor_path, const char *session_id)
{
    struct aa_forward_cursor c;
    int64_t seq = 0;
    size_t n;

    if (aa_forward_cursor_load(cursor_path, &c) < 0)
        return 0;
    if (c.event_id && session_id) {
        n = strlen(session_id);
        if (strncmp(c.event_id, session_id, n) == 0 && c.event_id[n] == ':')
            seq = strtoll(c.event_id + n + 1, NULL, 10);
    }
    aa_forward_cursor_done(&c);
    return seq;
}

int
aa_forwarder_status(struct aa_forwarder *f, struct json_object **ret)
{
    struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

    if (!o || !arr) {
        json_object_put(o);
        json_object_put(arr);
        return -ENOMEM;
    }
    for (size_t i = 0; f && i < f->n; i++) {
        struct fwd_proc *p = &f->procs[i];
        struct json_object *t = json_object_new_object();
        if (!t) {
            json_object_put(arr);
            json_object_put(o);
            return -ENOMEM;
        }
        json_object_object_add(t, "url", json_object_new_string(p->url));
        json_object_object_add(t, "ack", json_object_new_string(aa_sink_ack_name(p->ack)));
        json_object_object_add(t, p->ack == AA_ACK_NONE ? "sent_seq" : "acked_seq",
                               json_object_new_int64(cursor_seq(p->cursor_path, f->session_id)));
        json_object_array_add(arr, t);
    }
    json_object_object_add(o, "targets", arr);
    *ret = o;
    return 0;
}

int
aa_forwarder_finish(struct aa_forwarder *f, int timeout_ms)
{
    long long deadline;
    size_t failed;

    if (!f)
        return 0;
    if (timeout_ms < 0)
        timeout_ms = 0;
    deadline = now_ms() + timeout_ms;
    for (size_t i = 0; i < f->n; i++) {
        /* The child needs a little time to exit cleanly before our deadline. */
        int32_t ms = timeout_ms > 100 ? timeout_ms - 50 : timeout_ms / 2;
        if (f->procs[i].sock < 0)
            continue;
        (void)send(f->procs[i].sock, &ms, sizeof ms, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)shutdown(f->procs[i].sock, SHUT_WR);
    }
    failed = wait_procs(f->procs, f->n, deadline);
    forwarder_free(f);
    return failed ? -ETIMEDOUT : 0;
}

/* ---------------------------------------------------------------- flush */

/* Number of complete lines after offset (streamed). */
static long long
count_pending(const char *journal, off_t offset)
{
    cleanup_fd int fd = open(journal, O_RDONLY | O_CLOEXEC);
    char buf[65536];
    long long n = 0;
    ssize_t k;

    if (fd < 0)
        return -1;
    if (lseek(fd, offset, SEEK_SET) < 0)
        return -1;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < k; i++)
            n += buf[i] == '\n';
    return n;
}

int
aa_forward_flush(const struct aa_config *cfg, const char *journal_path, int timeout_ms,
                 FILE *report)
{
    cleanup_free struct fwd_proc *procs = NULL;
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    size_t n = 0;
    bool pending = false;
    int r = 0;

    if (!cfg || cfg->n_forward == 0)
        return 0;
    if (access(journal_path, R_OK) < 0)
        return -errno;
    procs = calloc(cfg->n_forward, sizeof *procs);
    if (!procs)
        return -ENOMEM;
    for (; n < cfg->n_forward; n++) {
        r = spawn_target(cfg, &cfg->forward[n], journal_path, timeout_ms > 100 ? timeout_ms - 50 : 0,
                         &procs[n]);
        if (r < 0) {
            proc_done(&procs[n]);
            break;
        }
    }
    (void)wait_procs(procs, n, deadline + 200);
    for (size_t i = 0; i < n; i++) {
        struct aa_forward_cursor c;
        long long left = -1;
        if (aa_forward_cursor_load(procs[i].cursor_path, &c) == 0)
            left = count_pending(journal_path, c.offset);
        else
            c = (struct aa_forward_cursor){0};
        if (left != 0)
            pending = true;
        if (report)
            fprintf(report, "%s (ack %s): %s%s, %lld record(s) still spooled\n", procs[i].url,
                    aa_sink_ack_name(procs[i].ack),
                    procs[i].ack == AA_ACK_NONE ? "sent through " : "acknowledged through ",
                    c.event_id ? c.event_id : "nothing yet", left < 0 ? 0 : left);
        aa_forward_cursor_done(&c);
        proc_done(&procs[i]);
    }
    if (r < 0)
        return r;
    return pending ? -EAGAIN : 0;
}

/* ------------------------------------------------------------ the verb */

static int
add_target(struct aa_config *cfg, const char *url)
{
    struct aa_forward_target *v = realloc(cfg->forward, (cfg->n_forward + 1) * sizeof *v);

    if (!v)
        return -ENOMEM;
    cfg->forward = v;
    v[cfg->n_forward] = (struct aa_forward_target){.tls_verify = true, .url = strdup(url)};
    if (!v[cfg->n_forward].url)
        return -ENOMEM;
    cfg->n_forward++;
    return 0;
}

static void
flush_usage(FILE *f)
{
    fputs("usage: admin-audit flush [--config FILE] [--log FILE] [--forward URL]...\n"
          "                         [--forward-format native|ecs] [--timeout DURATION]\n",
          f);
}

int
aa_cmd_flush(int argc, char **argv)
{
    enum { OPT_CONFIG = 256, OPT_LOG, OPT_FORWARD, OPT_FORMAT, OPT_TIMEOUT, OPT_TASKS };
    static const struct option opts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"log", required_argument, NULL, OPT_LOG},
        {"forward", required_argument, NULL, OPT_FORWARD},
        {"forward-format", required_argument, NULL, OPT_FORMAT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"tasks-dir", required_argument, NULL, OPT_TASKS},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *config_path = AA_DEFAULT_CONFIG, *log = NULL, *format = NULL;
    cleanup_free const char **urls = calloc((size_t)argc + 1, sizeof *urls);
    cleanup_free char *journal = NULL;
    struct aa_config cfg;
    long long timeout_ms = 30000;
    size_t n_urls = 0;
    char err[512];
    int c, r;

    if (!urls)
        return aa_log_errno(-ENOMEM, "flush"), 125;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_LOG:
            log = optarg;
            break;
        case OPT_FORWARD:
            urls[n_urls++] = optarg;
            break;
        case OPT_FORMAT:
            format = optarg;
            if (strcmp(format, "native") != 0 && strcmp(format, "ecs") != 0) {
                aa_log("flush: --forward-format must be native or ecs, not \"%s\"", format);
                return AA_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT:
            if (aa_parse_duration(optarg, &timeout_ms) < 0 || timeout_ms <= 0 ||
                timeout_ms > INT_MAX) {
                aa_log("flush: --timeout needs a duration such as 30s or 2m, not \"%s\"", optarg);
                return AA_EXIT_USAGE;
            }
            break;
        case OPT_TASKS:
            break; /* accepted for symmetry with the other verbs */
        case 'h':
            flush_usage(stdout);
            return 0;
        default:
            aa_log("flush: unknown or incomplete option \"%s\"", argv[optind - 1]);
            flush_usage(stderr);
            return AA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        aa_log("flush: unexpected argument \"%s\"", argv[optind]);
        flush_usage(stderr);
        return AA_EXIT_USAGE;
    }
    r = aa_config_load(config_path, &cfg, err, sizeof err);
    if (r < 0) {
        aa_log("flush: %s", err);
        return AA_EXIT_REFUSED;
    }
    for (size_t i = 0; i < n_urls; i++) {
        r = add_target(&cfg, urls[i]);
        if (r < 0) {
            aa_config_done(&cfg);
            return aa_log_errno(r, "flush"), AA_EXIT_REFUSED;
        }
    }
    if (format)
        cfg.forward_format = strcmp(format, "ecs") == 0 ? AA_FORWARD_ECS : AA_FORWARD_NATIVE;
    for (size_t i = 0; i < cfg.n_forward; i++) {
        struct aa_sink_addr a;
        r = aa_sink_parse_url(cfg.forward[i].url, &a);
        if (r < 0) {
            cleanup_free char *red = aa_sink_redact_url(cfg.forward[i].url);
            aa_log("flush: forward target \"%s\" is not usable (%s); expected syslog+unix:PATH, "
                   "syslog+udp|tcp|tls://HOST:PORT, relp://HOST:PORT or http(s)://...",
                   red ? red : "?", strerror(-r));
            aa_config_done(&cfg);
            return AA_EXIT_USAGE;
        }
        aa_sink_addr_done(&a);
    }
    journal = log ? strdup(log) : aa_default_journal_path(&cfg);
    if (!journal) {
        aa_config_done(&cfg);
        aa_log("flush: no journal path (set --log or config \"log\")");
        return AA_EXIT_REFUSED;
    }
    if (cfg.n_forward == 0) {
        aa_config_done(&cfg);
        aa_log("flush: no forward targets (config \"forward\" or --forward URL); nothing to do");
        return 0;
    }
    r = aa_forward_flush(&cfg, journal, (int)timeout_ms, stdout);
    aa_config_done(&cfg);
    if (r == -EAGAIN) {
        aa_log("flush: some records are still spooled in %s; run flush again when the "
               "targets are reachable",
               journal);
        return 1;
    }
    if (r < 0) {
        aa_log_errno(r, "flush: %s", journal);
        return AA_EXIT_REFUSED;
    }
    return 0;
}
