/* Break-glass terminal (reference/schema.md §5): the session runs on a pty
 * the wrapper owns; what the command writes (and, with --record-input, what
 * the operator types while the terminal echoes) is relayed and recorded as
 * asciicast v2 in <journal dir>/<session id>.cast.  The stub document and the
 * post-mortem are in bg_docs.c. */
#include "breakglass.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

#define BG_IO_CHUNK 8192
#define BG_INBUF 8192
#define BG_DRAIN_IDLE_MS 200

struct bg_stream {
    unsigned char carry[4]; /* an incomplete UTF-8 sequence held for the next event */
    size_t carry_n;
};

struct aa_breakglass_tty {
    int master, slave, cast_fd;
    int in_fd, out_fd;
    char *cast_path;
    struct termios saved;
    bool have_saved, raw;
    bool record_input;
    bool stdin_open, master_open;
    struct timespec t0;
    uint64_t events;
    int write_error; /* first cast write error (-errno), 0 = none */
    struct bg_stream out, in;
    bool pw_mask;            /* a password prompt was shown: input not recorded until CR/LF */
    unsigned char otail[16]; /* last output bytes, for a prompt split across reads */
    size_t otail_n;
    unsigned char inbuf[BG_INBUF]; /* operator input not yet taken by the master */
    size_t inlen;
};

/* The terminal to restore at exit when a path leaves without tty_close. */
static struct termios bg_atexit_termios;
static int bg_atexit_fd = -1;
static bool bg_atexit_registered;

static void
bg_atexit_restore(void)
{
    if (bg_atexit_fd >= 0)
        (void)tcsetattr(bg_atexit_fd, TCSADRAIN, &bg_atexit_termios);
}

static void
restore_terminal(struct aa_breakglass_tty *t)
{
    if (t->raw) {
        void (*old)(int) = signal(SIGTTOU, SIG_IGN);
        (void)tcsetattr(t->in_fd, TCSADRAIN, &t->saved);
        signal(SIGTTOU, old);
        t->raw = false;
    }
    bg_atexit_fd = -1;
}

static double
elapsed(const struct aa_breakglass_tty *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->t0.tv_sec) + (double)(now.tv_nsec - t->t0.tv_nsec) / 1e9;
}

static void
cast_line(struct aa_breakglass_tty *t, const char *line, size_t n)
{
    if (t->cast_fd < 0 || t->write_error)
        return;
    int r = aa_write_all(t->cast_fd, line, n);
    if (r < 0)
        t->write_error = r;
}

/* One event [time, code, data]; data is already valid UTF-8. */
static void
cast_event(struct aa_breakglass_tty *t, const char *code, const char *data, size_t n)
{
    struct json_object *s = json_object_new_string_len(data, (int)n);
    if (!s) {
        t->write_error = t->write_error ? t->write_error : -ENOMEM;
        return;
    }
    const char *js = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t jn = strlen(js);
    size_t cap = jn + 64;
    cleanup_free char *line = malloc(cap);
    if (line) {
        int k = snprintf(line, cap, "[%.6f, \"%s\", %s]\n", elapsed(t), code, js);
        if (k > 0 && (size_t)k < cap) {
            cast_line(t, line, (size_t)k);
            t->events++;
        }
    } else if (!t->write_error)
        t->write_error = -ENOMEM;
    json_object_put(s);
}

/* Length of an incomplete (but so far plausible) UTF-8 sequence at the end
 * of p[0..n), to be held back so no sequence is split between events. */
static size_t
utf8_incomplete_tail(const unsigned char *p, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char b = p[n - k];
        if ((b & 0xC0) == 0x80)
            continue; /* continuation byte: keep looking for the lead */
        size_t need = b >= 0xC2 && b <= 0xDF   ? 2
                      : b >= 0xE0 && b <= 0xEF ? 3
                      : b >= 0xF0 && b <= 0xF4 ? 4
                                               : 0;
        return need > k ? k : 0;
    }
    return 0;
}

/* Record bytes of one stream: prepend the carry, hold back an incomplete
 * tail, sanitise the rest (invalid bytes -> U+FFFD) and write one event. */
static void
record_bytes(struct aa_breakglass_tty *t, struct bg_stream *st, const char *code,
             const unsigned char *p, size_t n, bool final)
{
    if (t->cast_fd < 0)
        return;
    size_t total = st->carry_n + n;
    if (total == 0)
        return;
    cleanup_free unsigned char *buf = malloc(total);
    if (!buf) {
        t->write_error = t->write_error ? t->write_error : -ENOMEM;
        return;
    }
    memcpy(buf, st->carry, st->carry_n);
    if (n)
        memcpy(buf + st->carry_n, p, n);
    size_t hold = final ? 0 : utf8_incomplete_tail(buf, total);
    size_t use = total - hold;
    memcpy(st->carry, buf + use, hold);
    st->carry_n = hold;
    if (use == 0)
        return;
    cleanup_free char *clean = aa_utf8_sanitize(buf, use);
    if (!clean) {
        t->write_error = t->write_error ? t->write_error : -ENOMEM;
        return;
    }
    cast_event(t, code, clean, strlen(clean));
}

static int
write_header(struct aa_breakglass_tty *t, const struct winsize *ws, const char *session_id,
             const char *command)
{
    struct json_object *h = json_object_new_object();
    struct json_object *env = json_object_new_object();
    if (!h || !env) {
        json_object_put(h);
        json_object_put(env);
        return -ENOMEM;
    }
    char title[256];
    (void)snprintf(title, sizeof title, "break-glass %s", session_id);
    cleanup_free char *cmd = command ? aa_utf8_sanitize(command, strlen(command)) : NULL;
    const char *term = getenv("TERM"), *shell = getenv("SHELL");
    cleanup_free char *term_s = term ? aa_utf8_sanitize(term, strlen(term)) : NULL;
    cleanup_free char *shell_s = shell ? aa_utf8_sanitize(shell, strlen(shell)) : NULL;
    json_object_object_add(h, "version", json_object_new_int(2));
    json_object_object_add(h, "width", json_object_new_int(ws->ws_col));
    json_object_object_add(h, "height", json_object_new_int(ws->ws_row));
    json_object_object_add(h, "timestamp", json_object_new_int64((int64_t)time(NULL)));
    if (cmd)
        json_object_object_add(h, "command", json_object_new_string(cmd));
    json_object_object_add(h, "title", json_object_new_string(title));
    if (term_s)
        json_object_object_add(env, "TERM", json_object_new_string(term_s));
    if (shell_s)
        json_object_object_add(env, "SHELL", json_object_new_string(shell_s));
    json_object_object_add(h, "env", env);
    const char *s =
        json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    int r = s ? aa_write_all(t->cast_fd, s, strlen(s)) : -ENOMEM;
    if (r == 0)
        r = aa_write_all(t->cast_fd, "\n", 1);
    json_object_put(h);
    return r;
}

/* <journal dir>/<session id>.cast, the directory made absolute so the path
 * in the records means the same thing wherever they are read. */
static char *
cast_path_for(const char *journal_path, const char *session_id)
{
    const char *slash = strrchr(journal_path, '/');
    cleanup_free char *dir = slash ? strndup(journal_path, (size_t)(slash - journal_path))
                                   : strdup(".");
    if (!dir)
        return NULL;
    char real[PATH_MAX];
    const char *d = realpath(dir[0] ? dir : "/", real) ? real : (dir[0] ? dir : "/");
    size_t n = strlen(d) + strlen(session_id) + 8;
    char *p = malloc(n);
    if (p)
        (void)snprintf(p, n, "%s%s%s.cast", d, strcmp(d, "/") == 0 ? "" : "/", session_id);
    return p;
}

static void
tty_free(struct aa_breakglass_tty *t)
{
    if (!t)
        return;
    t->master = aa_safe_close(t->master);
    t->slave = aa_safe_close(t->slave);
    t->cast_fd = aa_safe_close(t->cast_fd);
    free(t->cast_path);
    free(t);
}

int
aa_breakglass_tty_open(const char *journal_path, const char *session_id, const char *command,
                       bool record_input, struct aa_breakglass_tty **ret)
{
    *ret = NULL;
    if (!isatty(STDIN_FILENO))
        return -ENOTTY;
    struct aa_breakglass_tty *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->master = t->slave = t->cast_fd = -1;
    t->in_fd = STDIN_FILENO;
    t->out_fd = STDOUT_FILENO;
    t->record_input = record_input;
    t->stdin_open = t->master_open = true;
    int r;
    if (tcgetattr(t->in_fd, &t->saved) < 0) {
        r = -errno;
        tty_free(t);
        return r == -EINVAL ? -ENOTTY : r;
    }
    t->have_saved = true;
    struct winsize ws = {0};
    if (ioctl(t->in_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
        ws = (struct winsize){.ws_row = 24, .ws_col = 80};
    /* The slave starts with the operator's terminal settings and size. */
    if (openpty(&t->master, &t->slave, NULL, &t->saved, &ws) < 0) {
        r = -errno;
        tty_free(t);
        return r;
    }
    (void)fcntl(t->master, F_SETFD, FD_CLOEXEC);
    (void)fcntl(t->slave, F_SETFD, FD_CLOEXEC);
    t->cast_path = cast_path_for(journal_path, session_id);
    if (!t->cast_path) {
        tty_free(t);
        return -ENOMEM;
    }
    t->cast_fd = open(t->cast_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (t->cast_fd < 0) {
        r = -errno;
        tty_free(t);
        return r;
    }
    (void)fchmod(t->cast_fd, 0600);
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    if ((r = write_header(t, &ws, session_id, command)) < 0) {
        (void)unlink(t->cast_path);
        tty_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

int
aa_breakglass_tty_child(struct aa_breakglass_tty *t)
{
    if (!t)
        return 0;
    (void)close(t->master);
    if (t->cast_fd >= 0)
        (void)close(t->cast_fd);
    if (setsid() < 0)
        return errno;
    if (ioctl(t->slave, TIOCSCTTY, 0) < 0)
        return errno;
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(t->slave, fd) < 0)
            return errno;
    if (t->slave > 2)
        (void)close(t->slave);
    return 0;
}

void
aa_breakglass_tty_parent(struct aa_breakglass_tty *t)
{
    if (!t)
        return;
    t->slave = aa_safe_close(t->slave);
    int fl = fcntl(t->master, F_GETFL);
    if (fl >= 0)
        (void)fcntl(t->master, F_SETFL, fl | O_NONBLOCK);
    /* Raw mode only now: everything the wrapper printed before (banner) was
     * written with the operator's own terminal settings. */
    struct termios raw = t->saved;
    cfmakeraw(&raw);
    void (*old)(int) = signal(SIGTTOU, SIG_IGN);
    if (tcsetattr(t->in_fd, TCSADRAIN, &raw) == 0) {
        t->raw = true;
        bg_atexit_termios = t->saved;
        bg_atexit_fd = t->in_fd;
        if (!bg_atexit_registered && atexit(bg_atexit_restore) == 0)
            bg_atexit_registered = true;
    }
    signal(SIGTTOU, old);
}

size_t
aa_breakglass_tty_pollfds(struct aa_breakglass_tty *t, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    if (!t)
        return 0;
    if (t->master_open && n < max)
        fds[n++] = (struct pollfd){.fd = t->master,
                                   .events = (short)(POLLIN | (t->inlen ? POLLOUT : 0))};
    if (t->stdin_open && t->master_open && t->inlen < sizeof t->inbuf && n < max)
        fds[n++] = (struct pollfd){.fd = t->in_fd, .events = POLLIN};
    return n;
}

/* Output to our terminal; a non-blocking stdout gets waited for. */
static void
relay_out(struct aa_breakglass_tty *t, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(t->out_fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = t->out_fd, .events = POLLOUT};
            if (poll(&pf, 1, 1000) >= 0)
                continue;
        }
        return; /* our terminal is gone: the recording goes on */
    }
}

static bool
contains_word_ci(const unsigned char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++) {
        size_t k = 0;
        while (k < wl && tolower(p[i + k]) == w[k])
            k++;
        if (k == wl)
            return true;
    }
    return false;
}

/* sudo's passprompt_regex idea (reference/schema.md §5): after output that
 * asks for a password or passphrase, typed input is not recorded until the
 * operator ends the line, whatever the terminal mode. */
static void
scan_prompt(struct aa_breakglass_tty *t, const unsigned char *p, size_t n)
{
    unsigned char win[sizeof t->otail + 256];
    size_t off = 0;
    /* Look at the tail of the previous output plus the start of this one,
     * then at this chunk itself. */
    memcpy(win, t->otail, t->otail_n);
    off = t->otail_n;
    size_t head = n < 256 ? n : 256;
    memcpy(win + off, p, head);
    if (contains_word_ci(win, off + head, "password") ||
        contains_word_ci(win, off + head, "passphrase") ||
        contains_word_ci(p, n, "password") || contains_word_ci(p, n, "passphrase"))
        t->pw_mask = true;
    if (n >= sizeof t->otail) {
        memcpy(t->otail, p + n - sizeof t->otail, sizeof t->otail);
        t->otail_n = sizeof t->otail;
    } else {
        size_t keep = t->otail_n + n > sizeof t->otail ? sizeof t->otail - n : t->otail_n;
        memmove(t->otail, t->otail + t->otail_n - keep, keep);
        memcpy(t->otail + keep, p, n);
        t->otail_n = keep + n;
    }
}

/* Read what the master has; false at EOF/EIO (every slave closed). */
static bool
read_master(struct aa_breakglass_tty *t)
{
    unsigned char buf[BG_IO_CHUNK];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(t->master, buf, sizeof buf);
        if (n > 0) {
            relay_out(t, buf, (size_t)n);
            record_bytes(t, &t->out, "o", buf, (size_t)n, false);
            if (t->record_input)
                scan_prompt(t, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        return false; /* 0 or EIO: no slave left */
    }
    return true;
}

/* May what is typed now be recorded?  Not while the line discipline reads a
 * line without echo (ECHO off, ICANON on: getpass, read -s, ssh, sudo,
 * psql prompts).  ECHO off in non-canonical mode is an application doing
 * its own echo (readline, editors), which is recorded unless a password
 * prompt was shown (scan_prompt). */
static bool
input_recordable(struct aa_breakglass_tty *t)
{
    struct termios tio;
    /* On Linux the master reports the pair's (the slave's) settings. */
    if (tcgetattr(t->master, &tio) < 0)
        return false; /* unknown: never record */
    if (!(tio.c_lflag & ECHO) && (tio.c_lflag & ICANON))
        return false;
    return true;
}

static void
record_input(struct aa_breakglass_tty *t, const unsigned char *p, size_t n)
{
    bool ok = input_recordable(t);
    if (!ok || t->pw_mask) {
        /* Secret input lasts to the end of the line. */
        size_t i = 0;
        while (i < n && p[i] != '\r' && p[i] != '\n')
            i++;
        if (i == n)
            return;
        t->pw_mask = false;
        p += i + 1;
        n -= i + 1;
        if (!ok)
            return;
    }
    if (n)
        record_bytes(t, &t->in, "i", p, n, false);
}

static void
read_stdin(struct aa_breakglass_tty *t)
{
    size_t room = sizeof t->inbuf - t->inlen;
    if (room == 0)
        return;
    ssize_t n = read(t->in_fd, t->inbuf + t->inlen, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        t->stdin_open = false;
        return;
    }
    if (t->record_input)
        record_input(t, t->inbuf + t->inlen, (size_t)n);
    t->inlen += (size_t)n;
}

static void
write_master(struct aa_breakglass_tty *t)
{
    while (t->inlen > 0) {
        ssize_t w = write(t->master, t->inbuf, t->inlen);
        if (w > 0) {
            memmove(t->inbuf, t->inbuf + w, t->inlen - (size_t)w);
            t->inlen -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return;
        t->inlen = 0; /* no reader any more: the input is dropped */
        return;
    }
}

int
aa_breakglass_tty_dispatch(struct aa_breakglass_tty *t, const struct pollfd *fds, size_t n)
{
    if (!t)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        if (fds[i].fd == t->master) {
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (!read_master(t))
                    t->master_open = false;
            }
            if (t->master_open && (fds[i].revents & POLLOUT))
                write_master(t);
        } else if (fds[i].fd == t->in_fd) {
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                read_stdin(t);
                if (t->inlen)
                    write_master(t);
            }
        }
    }
    return t->write_error;
}

void
aa_breakglass_tty_winch(struct aa_breakglass_tty *t)
{
    if (!t)
        return;
    struct winsize ws;
    if (ioctl(t->in_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
        return;
    /* TIOCSWINSZ on the master: the kernel signals the slave's foreground group. */
    if (t->master >= 0)
        (void)ioctl(t->master, TIOCSWINSZ, &ws);
    char d[32];
    int k = snprintf(d, sizeof d, "%ux%u", (unsigned)ws.ws_col, (unsigned)ws.ws_row);
    cast_event(t, "r", d, (size_t)k);
}

static int
file_digest(int fd, char hex[65], uint64_t *ret_bytes)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    int r = 0;
    uint64_t total = 0;
    if (lseek(fd, 0, SEEK_SET) < 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        r = lseek(fd, 0, SEEK_CUR) < 0 ? -errno : -EIO;
    while (r == 0) {
        unsigned char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            r = -EIO;
        total += (uint64_t)n;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (r == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32))
        r = -EIO;
    EVP_MD_CTX_free(ctx);
    if (r == 0) {
        aa_hex(md, 32, hex);
        *ret_bytes = total;
    }
    return r;
}

int
aa_breakglass_tty_close(struct aa_breakglass_tty *t, struct json_object **ret_recording)
{
    *ret_recording = NULL;
    if (!t)
        return 0;
    /* Drain what the last processes wrote.  Something outside the session
     * (a forked helper) may still hold the slave, so an idle bound applies. */
    if (t->slave >= 0)
        t->slave = aa_safe_close(t->slave);
    while (t->master_open) {
        struct pollfd pf = {.fd = t->master, .events = POLLIN};
        int pr = poll(&pf, 1, BG_DRAIN_IDLE_MS);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        if (!read_master(t))
            break;
    }
    t->master_open = false;
    record_bytes(t, &t->out, "o", NULL, 0, true);
    record_bytes(t, &t->in, "i", NULL, 0, true);
    restore_terminal(t);

    int r = t->write_error;
    char hex[65] = "";
    uint64_t bytes = 0;
    if (t->cast_fd >= 0) {
        if (fsync(t->cast_fd) < 0 && r == 0)
            r = -errno;
        /* Digest from a fresh read-only descriptor (ours is write-only). */
        int rfd = open(t->cast_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        int dr = rfd < 0 ? -errno : file_digest(rfd, hex, &bytes);
        if (rfd >= 0)
            (void)close(rfd);
        if (dr < 0 && r == 0)
            r = dr;
        if (close(t->cast_fd) < 0 && r == 0)
            r = -errno;
        t->cast_fd = -1;
    }
    struct json_object *rec = json_object_new_object();
    if (rec) {
        cleanup_free char *file = aa_utf8_sanitize(t->cast_path, strlen(t->cast_path));
        json_object_object_add(rec, "format", json_object_new_string("asciicast-v2"));
        json_object_object_add(rec, "file", file ? json_object_new_string(file) : NULL);
        json_object_object_add(rec, "sha256", hex[0] ? json_object_new_string(hex) : NULL);
        json_object_object_add(rec, "bytes", json_object_new_int64((int64_t)bytes));
        json_object_object_add(rec, "events", json_object_new_int64((int64_t)t->events));
        json_object_object_add(rec, "input", json_object_new_boolean(t->record_input));
        if (r < 0)
            json_object_object_add(rec, "error", json_object_new_string(strerror(-r)));
    } else if (r == 0)
        r = -ENOMEM;
    *ret_recording = rec;
    tty_free(t);
    return r;
}

const char *
aa_breakglass_tty_cast_path(const struct aa_breakglass_tty *t)
{
    return t ? t->cast_path : NULL;
}
