/* RELP sink (rsyslog's Reliable Event Logging Protocol, librelp doc/relp.md):
 * "TXNR SP COMMAND SP DATALEN [SP DATA] LF".  A small client of our own
 * rather than librelp's, because librelp gives no per-message
 * acknowledgement (reference/schema.md §2.3 option (b)): each batch is a
 * window of "syslog" commands whose "rsp 200" replies, in txnr order,
 * acknowledge the records one by one.  The payload is the RFC 5424
 * message, as rsyslog's omrelp sends it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sink.h"
#include "util.h"

#define RELP_WINDOW 128
#define RELP_MAX_RSP 4096

struct relp_priv {
    int fd;
    unsigned txnr; /* last used */
    char buf[RELP_MAX_RSP * 2];
    size_t have;
};

static unsigned
next_txnr(struct relp_priv *p)
{
    p->txnr = p->txnr >= 999999999 ? 1 : p->txnr + 1;
    return p->txnr;
}

static int
relp_send_frame(struct relp_priv *p, unsigned txnr, const char *cmd, const char *data, size_t len,
                int timeout_ms)
{
    char head[64];
    int k;
    int r;

    k = snprintf(head, sizeof head, len ? "%u %s %zu " : "%u %s %zu", txnr, cmd, len);
    r = aa_sink_send_all(p->fd, head, (size_t)k, timeout_ms);
    if (r == 0 && len)
        r = aa_sink_send_all(p->fd, data, len, timeout_ms);
    if (r == 0)
        r = aa_sink_send_all(p->fd, "\n", 1, timeout_ms);
    return r;
}

/* Read one response frame: txnr, the 3-digit status, and the command. */
static int
relp_read_frame(struct relp_priv *p, unsigned *ret_txnr, char cmd[32], int *ret_status,
                int timeout_ms)
{
    for (;;) {
        /* Try to parse a complete frame from buf. */
        char *sp1 = memchr(p->buf, ' ', p->have);
        if (sp1) {
            char *sp2 = memchr(sp1 + 1, ' ', p->have - (size_t)(sp1 + 1 - p->buf));
            if (sp2) {
                char *end;
                unsigned long txnr = strtoul(p->buf, &end, 10);
                if (end != sp1 || (size_t)(sp2 - sp1 - 1) >= 32)
                    return -EPROTO;
                char *lenp = sp2 + 1;
                size_t avail = p->have - (size_t)(lenp - p->buf);
                size_t digits = 0;
                while (digits < avail && lenp[digits] >= '0' && lenp[digits] <= '9')
                    digits++;
                if (digits < avail) {
                    size_t dlen = strtoul(lenp, NULL, 10);
                    if (dlen > RELP_MAX_RSP)
                        return -EPROTO;
                    size_t hdr = (size_t)(lenp - p->buf) + digits;
                    size_t total = hdr + (dlen ? 1 + dlen : 0) + 1;
                    if (total <= p->have) {
                        const char *data = p->buf + hdr + (dlen ? 1 : 0);
                        if (p->buf[total - 1] != '\n')
                            return -EPROTO;
                        memcpy(cmd, sp1 + 1, (size_t)(sp2 - sp1 - 1));
                        cmd[sp2 - sp1 - 1] = '\0';
                        *ret_txnr = (unsigned)txnr;
                        *ret_status = 0;
                        if (dlen >= 3 && data[0] >= '0' && data[0] <= '9')
                            *ret_status = (data[0] - '0') * 100 + (data[1] - '0') * 10 +
                                          (data[2] - '0');
                        memmove(p->buf, p->buf + total, p->have - total);
                        p->have -= total;
                        return 0;
                    }
                }
            }
        }
        if (p->have == sizeof p->buf)
            return -EPROTO;
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        /* The server's responses are small writes subject to its Nagle
         * timer: acknowledge at once rather than after our delayed-ACK. */
        (void)setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){1}, sizeof(int));
        ssize_t k = recv(p->fd, p->buf + p->have, sizeof p->buf - p->have, MSG_DONTWAIT);
        (void)setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){1}, sizeof(int));
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -ECONNRESET;
        p->have += (size_t)k;
    }
}

static void
relp_disconnect(struct aa_sink *s)
{
    struct relp_priv *p = s->priv;

    if (p->fd >= 0) {
        /* Orderly close: "close" and its rsp; best effort, short timeout. */
        unsigned txnr = next_txnr(p), got;
        char cmd[32];
        int status;
        if (relp_send_frame(p, txnr, "close", NULL, 0, 200) == 0)
            (void)relp_read_frame(p, &got, cmd, &status, 200);
    }
    if (p->fd >= 0)
        aa_sink_close_gracefully(p->fd, 200);
    p->fd = aa_safe_close(p->fd);
    p->have = 0;
    p->txnr = 0;
}

static int
relp_open(struct aa_sink *s, struct relp_priv *p, int timeout_ms)
{
    static const char offers[] = "relp_version=0\nrelp_software=admin-audit\ncommands=syslog";
    unsigned txnr, got;
    char cmd[32];
    int status, r;

    r = aa_sink_connect_inet(s->addr.host, s->addr.port, SOCK_STREAM, timeout_ms);
    if (r < 0)
        return r;
    p->fd = r;
    (void)setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    p->have = 0;
    p->txnr = 0;
    txnr = next_txnr(p);
    r = relp_send_frame(p, txnr, "open", offers, sizeof offers - 1, timeout_ms);
    if (r == 0)
        r = relp_read_frame(p, &got, cmd, &status, timeout_ms);
    if (r == 0 && (got != txnr || strcmp(cmd, "rsp") != 0 || status != 200))
        r = -ECONNREFUSED;
    if (r < 0)
        p->fd = aa_safe_close(p->fd);
    return r;
}

static int
relp_send(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
          int timeout_ms)
{
    struct relp_priv *p = s->priv;
    unsigned first;
    int r;

    if (p->fd >= 0 && aa_sink_peer_closed(p->fd))
        relp_disconnect(s);
    if (p->fd < 0) {
        r = relp_open(s, p, timeout_ms);
        if (r < 0)
            return r;
    }
    if (n > RELP_WINDOW)
        n = RELP_WINDOW;
    first = p->txnr + 1 > 999999999 ? 1 : p->txnr + 1;
    /* The whole window in one write: no Nagle/delayed-ACK stalls. */
    {
        cleanup_free char *batch = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&batch, &blen);
        if (!f)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            cleanup_free char *msg = NULL;
            size_t len;
            r = aa_syslog_format(&items[i], &msg, &len);
            if (r < 0) {
                fclose(f);
                return r;
            }
            fprintf(f, "%u syslog %zu ", next_txnr(p), len);
            fwrite(msg, 1, len, f);
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            return -ENOMEM;
        r = aa_sink_send_all(p->fd, batch, blen, timeout_ms);
        if (r < 0)
            return r;
    }
    /* Responses come in txnr order; each 200 acknowledges one record. */
    for (size_t i = 0; i < n; i++) {
        unsigned want = (unsigned)((first - 1 + i) % 999999999) + 1, got;
        char cmd[32];
        int status;
        r = relp_read_frame(p, &got, cmd, &status, timeout_ms);
        if (r < 0)
            return r;
        if (strcmp(cmd, "serverclose") == 0)
            return -ECONNRESET;
        if (strcmp(cmd, "rsp") != 0 || got != want)
            return -EPROTO;
        if (status != 200)
            return -EREMOTEIO;
        *ret_done = i + 1;
    }
    return 0;
}

static void
relp_free(struct aa_sink *s)
{
    free(s->priv);
    s->priv = NULL;
}

static const struct aa_sink_impl relp_impl = {
    .send = relp_send,
    .disconnect = relp_disconnect,
    .free_priv = relp_free,
    .max_batch = RELP_WINDOW,
};

int
aa_sink_relp_init(struct aa_sink *s)
{
    struct relp_priv *p = calloc(1, sizeof *p);

    if (!p)
        return -ENOMEM;
    p->fd = -1;
    s->priv = p;
    s->impl = &relp_impl;
    return 0;
}
