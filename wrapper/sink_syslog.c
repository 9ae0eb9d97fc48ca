/* Syslog sinks: RFC 5424 messages over AF_UNIX (datagram, else stream),
 * UDP, TCP (RFC 6587 octet counting) and TLS (RFC 5425, OpenSSL).  All are
 * best effort: a successful write is not an acknowledgement
 * (reference/schema.md §2.2), so they report ack "none". */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include "sink.h"
#include "util.h"

struct syslog_priv {
    int fd;
    int socktype; /* SOCK_DGRAM or SOCK_STREAM */
    SSL_CTX *ctx;
    SSL *ssl;
};

/* Printable US-ASCII (33..126), at most max chars, "-" when empty. */
static void
put_header_field(FILE *f, const char *s, size_t max)
{
    size_t n = 0;

    for (; s && *s && n < max; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c >= 33 && c <= 126 ? c : '_', f);
        n++;
    }
    if (n == 0)
        fputc('-', f);
}

static void
put_sd_value(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\' || *s == ']')
            fputc('\\', f);
        fputc(*s, f);
    }
}

/* RFC 5424 TIMESTAMP: copy when it looks like RFC 3339 with <= 6 fraction digits. */
static bool
timestamp_ok(const char *ts)
{
    size_t n;
    const char *frac;

    if (!ts || strlen(ts) < 20 || strlen(ts) > 32)
        return false;
    if (ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' || ts[16] != ':')
        return false;
    for (const char *p = ts; *p; p++)
        if (*p < 33 || *p > 126)
            return false;
    frac = strchr(ts, '.');
    if (frac) {
        n = strspn(frac + 1, "0123456789");
        if (n < 1 || n > 6)
            return false;
    }
    return true;
}

int
aa_syslog_format(const struct aa_fwd_item *it, char **ret, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int sev = it->severity >= 0 && it->severity <= 7 ? it->severity : 6;
    char pid[24];

    if (!f)
        return -ENOMEM;
    fprintf(f, "<%d>1 ", AA_SYSLOG_FACILITY * 8 + sev);
    if (timestamp_ok(it->timestamp))
        fputs(it->timestamp, f);
    else
        fputc('-', f);
    fputc(' ', f);
    put_header_field(f, it->host, 255);
    fputc(' ', f);
    put_header_field(f, AA_SYSLOG_APPNAME, 48);
    fputc(' ', f);
    if (it->pid > 0)
        snprintf(pid, sizeof pid, "%lld", (long long)it->pid);
    else
        pid[0] = '\0';
    put_header_field(f, pid, 128);
    fputc(' ', f);
    put_header_field(f, it->action, 32);
    fputc(' ', f);
    if (it->session_id || it->seq > 0) {
        fputs("[" AA_SYSLOG_SDID, f);
        if (it->session_id) {
            fputs(" session=\"", f);
            put_sd_value(f, it->session_id);
            fputc('"', f);
        }
        if (it->seq > 0)
            fprintf(f, " seq=\"%lld\"", (long long)it->seq);
        if (it->hash) {
            fputs(it->checkpoint ? " head=\"" : " hash=\"", f);
            put_sd_value(f, it->hash);
            fputc('"', f);
        }
        fputc(']', f);
    } else {
        fputc('-', f);
    }
    if (it->payload && it->len > 0) {
        fputc(' ', f);
        fwrite(it->payload, 1, it->len, f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *ret = buf;
    *ret_len = len;
    return 0;
}

int
aa_syslog_frame(const char *msg, size_t len, char **ret, size_t *ret_len)
{
    char *out;
    int k;

    k = asprintf(&out, "%zu %.*s", len, (int)len, msg);
    if (k < 0)
        return -ENOMEM;
    *ret = out;
    *ret_len = (size_t)k;
    return 0;
}

static void
syslog_disconnect(struct aa_sink *s)
{
    struct syslog_priv *p = s->priv;

    if (p->ssl) {
        (void)SSL_shutdown(p->ssl);
        SSL_free(p->ssl);
        p->ssl = NULL;
        ERR_clear_error();
    }
    if (p->fd >= 0 && p->socktype == SOCK_STREAM)
        aa_sink_close_gracefully(p->fd, 500);
    p->fd = aa_safe_close(p->fd);
}

static void
syslog_free(struct aa_sink *s)
{
    struct syslog_priv *p = s->priv;

    if (p->ctx)
        SSL_CTX_free(p->ctx);
    free(p);
    s->priv = NULL;
}

static int
connect_unix(struct aa_sink *s, struct syslog_priv *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    int last = -ECONNREFUSED;

    if (strlen(s->addr.path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, s->addr.path);
    for (size_t i = 0; i < AA_ARRAY_SIZE(types); i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            p->fd = fd;
            p->socktype = types[i];
            return 0;
        }
        last = -errno;
        close(fd);
        if (last != -EPROTOTYPE)
            break;
    }
    return last;
}

static int
tls_wait(int fd, int err, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
    int r;

    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return r == 0 ? -ETIMEDOUT : 0;
}

static int
tls_setup_ctx(struct aa_sink *s, struct syslog_priv *p)
{
    const struct aa_forward_target *t = s->target;

    if (p->ctx)
        return 0;
    p->ctx = SSL_CTX_new(TLS_client_method());
    if (!p->ctx)
        return -ENOMEM;
    SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
    if (t->tls_verify) {
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
        if (t->ca_file) {
            if (SSL_CTX_load_verify_locations(p->ctx, t->ca_file, NULL) != 1)
                return -EINVAL;
        } else if (SSL_CTX_set_default_verify_paths(p->ctx) != 1) {
            return -EINVAL;
        }
    } else {
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
    }
    if (t->cert_file &&
        SSL_CTX_use_certificate_chain_file(p->ctx, t->cert_file) != 1)
        return -EINVAL;
    if (t->key_file || t->cert_file) {
        if (SSL_CTX_use_PrivateKey_file(p->ctx, t->key_file ? t->key_file : t->cert_file,
                                        SSL_FILETYPE_PEM) != 1)
            return -EINVAL;
    }
    return 0;
}

static int
tls_connect(struct aa_sink *s, struct syslog_priv *p, int timeout_ms)
{
    unsigned char ipbuf[16];
    bool is_ip = inet_pton(AF_INET, s->addr.host, ipbuf) == 1 ||
                 inet_pton(AF_INET6, s->addr.host, ipbuf) == 1;
    int r;

    r = tls_setup_ctx(s, p);
    if (r < 0) {
        ERR_clear_error();
        return r;
    }
    p->ssl = SSL_new(p->ctx);
    if (!p->ssl)
        return -ENOMEM;
    if (s->target->tls_verify) {
        if (is_ip) {
            X509_VERIFY_PARAM *vp = SSL_get0_param(p->ssl);
            if (X509_VERIFY_PARAM_set1_ip_asc(vp, s->addr.host) != 1)
                return -EINVAL;
        } else if (SSL_set1_host(p->ssl, s->addr.host) != 1) {
            return -EINVAL;
        }
    }
    if (!is_ip)
        SSL_set_tlsext_host_name(p->ssl, s->addr.host);
    SSL_set_fd(p->ssl, p->fd);
    for (;;) {
        int k = SSL_connect(p->ssl);
        if (k == 1)
            break;
        int e = SSL_get_error(p->ssl, k);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            r = tls_wait(p->fd, e, timeout_ms);
            if (r < 0)
                return r;
            continue;
        }
        ERR_clear_error();
        return e == SSL_ERROR_SSL ? -EPROTO : -ECONNRESET;
    }
    return 0;
}

static int
syslog_connect(struct aa_sink *s, struct syslog_priv *p, int timeout_ms)
{
    int r;

    switch (s->addr.kind) {
    case AA_SINK_SYSLOG_UNIX:
        return connect_unix(s, p);
    case AA_SINK_SYSLOG_UDP:
        r = aa_sink_connect_inet(s->addr.host, s->addr.port, SOCK_DGRAM, timeout_ms);
        if (r < 0)
            return r;
        p->fd = r;
        p->socktype = SOCK_DGRAM;
        return 0;
    default:
        r = aa_sink_connect_inet(s->addr.host, s->addr.port, SOCK_STREAM, timeout_ms);
        if (r < 0)
            return r;
        p->fd = r;
        p->socktype = SOCK_STREAM;
        if (s->addr.kind == AA_SINK_SYSLOG_TLS)
            return tls_connect(s, p, timeout_ms);
        return 0;
    }
}

static int
tls_write_all(struct syslog_priv *p, const char *buf, size_t len, int timeout_ms)
{
    while (len > 0) {
        size_t done = 0;
        int k = SSL_write_ex(p->ssl, buf, len, &done);
        if (k == 1) {
            buf += done;
            len -= done;
            continue;
        }
        int e = SSL_get_error(p->ssl, k);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int r = tls_wait(p->fd, e, timeout_ms);
            if (r < 0)
                return r;
            continue;
        }
        ERR_clear_error();
        return -EPIPE;
    }
    return 0;
}

static int
send_one(struct aa_sink *s, struct syslog_priv *p, const char *msg, size_t len, int timeout_ms)
{
    cleanup_free char *frame = NULL;
    size_t flen;
    int r;

    if (p->socktype == SOCK_DGRAM) {
        ssize_t k;
        do
            k = send(p->fd, msg, len, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        if (k < 0 && errno == EMSGSIZE)
            return 0; /* can never fit a datagram: dropped (best effort) */
        return k < 0 ? -errno : 0;
    }
    r = aa_syslog_frame(msg, len, &frame, &flen);
    if (r < 0)
        return r;
    if (s->addr.kind == AA_SINK_SYSLOG_TLS)
        return tls_write_all(p, frame, flen, timeout_ms);
    return aa_sink_send_all(p->fd, frame, flen, timeout_ms);
}

static int
syslog_send(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
            int timeout_ms)
{
    struct syslog_priv *p = s->priv;
    int r;

    /* A stream peer that went away shows up as readable/HUP: reconnect
     * instead of writing into a dead connection (which "succeeds"). */
    if (p->fd >= 0 && p->socktype == SOCK_STREAM && aa_sink_peer_closed(p->fd))
        syslog_disconnect(s);
    if (p->fd < 0) {
        r = syslog_connect(s, p, timeout_ms);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *msg = NULL;
        size_t len;
        r = aa_syslog_format(&items[i], &msg, &len);
        if (r < 0)
            return r;
        r = send_one(s, p, msg, len, timeout_ms);
        if (r < 0)
            return r;
        *ret_done = i + 1;
    }
    return 0;
}

static const struct aa_sink_impl syslog_impl = {
    .send = syslog_send,
    .disconnect = syslog_disconnect,
    .free_priv = syslog_free,
    .max_batch = 256,
};

int
aa_sink_syslog_init(struct aa_sink *s)
{
    struct syslog_priv *p = calloc(1, sizeof *p);

    if (!p)
        return -ENOMEM;
    p->fd = -1;
    s->priv = p;
    s->impl = &syslog_impl;
    return 0;
}
