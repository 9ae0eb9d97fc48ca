/* Sink plumbing shared by every transport: URL parsing, redaction, the
 * dispatch to sink_syslog.c / sink_relp.c / sink_http.c, socket helpers. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sink.h"
#include "util.h"

void
aa_fwd_item_done(struct aa_fwd_item *it)
{
    free(it->payload);
    free(it->event_id);
    free(it->session_id);
    free(it->action);
    free(it->timestamp);
    free(it->host);
    free(it->hash);
    *it = (struct aa_fwd_item){0};
}

void
aa_sink_addr_done(struct aa_sink_addr *a)
{
    free(a->host);
    free(a->port);
    free(a->path);
    *a = (struct aa_sink_addr){0};
}

/* "HOST:PORT" or "[V6]:PORT" (an optional trailing '/' is tolerated). */
static int
parse_hostport(const char *s, const char *default_port, struct aa_sink_addr *a)
{
    const char *host, *hend, *port = NULL;
    size_t plen;

    if (*s == '[') {
        host = s + 1;
        hend = strchr(host, ']');
        if (!hend)
            return -EINVAL;
        if (hend[1] == ':')
            port = hend + 2;
        else if (hend[1] != '\0' && hend[1] != '/')
            return -EINVAL;
    } else {
        host = s;
        hend = strchr(s, ':');
        if (hend)
            port = hend + 1;
        else
            hend = s + strcspn(s, "/");
    }
    if (hend == host)
        return -EINVAL;
    if (port) {
        plen = strcspn(port, "/");
        if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen || port[plen + (port[plen] == '/')] != '\0')
            return -EINVAL;
    } else {
        port = default_port;
        plen = strlen(port);
    }
    a->host = strndup(host, (size_t)(hend - host));
    a->port = strndup(port, plen);
    if (!a->host || !a->port)
        return -ENOMEM;
    return 0;
}

int
aa_sink_parse_url(const char *url, struct aa_sink_addr *ret)
{
    static const struct {
        const char *prefix;
        enum aa_sink_kind kind;
        const char *port;
    } schemes[] = {
        {"syslog+udp://", AA_SINK_SYSLOG_UDP, "514"},
        {"syslog+tcp://", AA_SINK_SYSLOG_TCP, "514"},
        {"syslog+tls://", AA_SINK_SYSLOG_TLS, "6514"},
        {"relp://", AA_SINK_RELP, "2514"},
    };
    struct aa_sink_addr a = {0};
    int r;

    if (!url)
        return -EINVAL;
    if (strncmp(url, "syslog+unix:", 12) == 0) {
        const char *p = url + 12;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
        if (*p != '/')
            return -EINVAL;
        a.kind = AA_SINK_SYSLOG_UNIX;
        a.path = strdup(p);
        if (!a.path)
            return -ENOMEM;
        *ret = a;
        return 0;
    }
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
#ifdef AA_HAVE_CURL
        a.kind = AA_SINK_HTTP;
        *ret = a;
        return 0;
#else
        return -EPROTONOSUPPORT;
#endif
    }
    for (size_t i = 0; i < AA_ARRAY_SIZE(schemes); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(url, schemes[i].prefix, n) != 0)
            continue;
        a.kind = schemes[i].kind;
        r = parse_hostport(url + n, schemes[i].port, &a);
        if (r < 0) {
            aa_sink_addr_done(&a);
            return r;
        }
        *ret = a;
        return 0;
    }
    return -EINVAL;
}

char *
aa_sink_redact_url(const char *url)
{
    const char *auth = strstr(url, "://");
    const char *at, *end;
    char *out;

    if (!auth)
        return strdup(url);
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    at = memchr(auth, '@', (size_t)(end - auth));
    if (!at)
        return strdup(url);
    if (asprintf(&out, "%.*s[REDACTED]%s", (int)(auth - url), url, at) < 0)
        return NULL;
    return out;
}

enum aa_sink_ack
aa_sink_ack_of(enum aa_sink_kind kind)
{
    switch (kind) {
    case AA_SINK_RELP:
        return AA_ACK_RELP;
    case AA_SINK_HTTP:
        return AA_ACK_HTTP;
    default:
        return AA_ACK_NONE;
    }
}

const char *
aa_sink_ack_name(enum aa_sink_ack ack)
{
    switch (ack) {
    case AA_ACK_RELP:
        return "relp";
    case AA_ACK_HTTP:
        return "http";
    default:
        return "none";
    }
}

int
aa_sink_new(const struct aa_forward_target *target, struct aa_sink **ret)
{
    struct aa_sink *s = calloc(1, sizeof *s);
    int r;

    if (!s)
        return -ENOMEM;
    s->target = target;
    r = aa_sink_parse_url(target->url, &s->addr);
    if (r < 0) {
        free(s);
        return r;
    }
    switch (s->addr.kind) {
    case AA_SINK_RELP:
        r = aa_sink_relp_init(s);
        break;
    case AA_SINK_HTTP:
        r = aa_sink_http_init(s);
        break;
    default:
        r = aa_sink_syslog_init(s);
        break;
    }
    if (r < 0) {
        aa_sink_addr_done(&s->addr);
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

int
aa_sink_send(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
             int timeout_ms)
{
    int r;

    *ret_done = 0;
    if (n == 0)
        return 0;
    r = s->impl->send(s, items, n, ret_done, timeout_ms);
    if (r < 0 && r != -EAGAIN)
        s->impl->disconnect(s);
    return r;
}

size_t
aa_sink_max_batch(const struct aa_sink *s)
{
    return s->impl->max_batch;
}

enum aa_sink_ack
aa_sink_ack(const struct aa_sink *s)
{
    return aa_sink_ack_of(s->addr.kind);
}

void
aa_sink_disconnect(struct aa_sink *s)
{
    s->impl->disconnect(s);
}

void
aa_sink_free(struct aa_sink *s)
{
    if (!s)
        return;
    s->impl->disconnect(s);
    if (s->impl->free_priv)
        s->impl->free_priv(s);
    aa_sink_addr_done(&s->addr);
    free(s);
}

static int
wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;

    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return -ETIMEDOUT;
    return 0;
}

int
aa_sink_connect_inet(const char *host, const char *port, int socktype, int timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int r, last = -EHOSTUNREACH;

    r = getaddrinfo(host, port, &hints, &res);
    if (r != 0)
        return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0) {
            last = -errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            if (errno != EINPROGRESS) {
                last = -errno;
                close(fd);
                continue;
            }
            r = wait_fd(fd, POLLOUT, timeout_ms);
            if (r == 0) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    r = -errno;
                else if (err)
                    r = -err;
            }
            if (r < 0) {
                last = r;
                close(fd);
                continue;
            }
        }
        freeaddrinfo(res);
        return fd;
    }
    freeaddrinfo(res);
    return last;
}

int
aa_sink_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                int r = wait_fd(fd, POLLOUT, timeout_ms);
                if (r < 0)
                    return r;
                continue;
            }
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

void
aa_sink_close_gracefully(int fd, int timeout_ms)
{
    long long end;
    struct timespec ts;
    char buf[4096];

    if (shutdown(fd, SHUT_WR) < 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    end = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long left = end - ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        if (left <= 0 || wait_fd(fd, POLLIN, (int)left) < 0)
            return;
        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            return;
    }
}

bool
aa_sink_peer_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    char c;

    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
        return true;
    if (p.revents & POLLIN) {
        ssize_t k = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
        return k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR);
    }
    return false;
}
