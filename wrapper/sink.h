/* Forward sinks (reference/schema.md §2): one transport per sink_*.c file.
 * Used only by the forwarder (forward.c).  A sink delivers a batch of
 * items in order and says how many leading items it delivered: for sinks
 * with acknowledgements (relp, http) that count means "acknowledged by the
 * receiver", for best-effort sinks (syslog unix/udp/tcp/tls) only "handed
 * to the kernel" (ack "none", never reported as confirmed). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum aa_sink_ack { AA_ACK_NONE, AA_ACK_RELP, AA_ACK_HTTP };

enum aa_sink_kind {
    AA_SINK_SYSLOG_UNIX,
    AA_SINK_SYSLOG_UDP,
    AA_SINK_SYSLOG_TCP,
    AA_SINK_SYSLOG_TLS,
    AA_SINK_RELP,
    AA_SINK_HTTP,
};

/* RFC 5424 private SD-ID.  32473 is the documentation PEN of RFC 5612. */
#define AA_SYSLOG_SDID "admin-audit@32473"
#define AA_SYSLOG_APPNAME "admin-audit"
#define AA_SYSLOG_FACILITY 10 /* authpriv */

/* One forwarded message: a journal record or a chain.checkpoint. */
struct aa_fwd_item {
    char *payload;      /* owned: the JSON text sent as MSG / document (no newline) */
    size_t len;
    char *event_id;     /* owned: "<session>:<seq>" (checkpoint: "<session>:<seq>:checkpoint") */
    char *session_id;   /* owned, may be NULL */
    char *action;       /* owned, may be NULL: event.action */
    char *timestamp;    /* owned, may be NULL: @timestamp */
    char *host;         /* owned, may be NULL: host.name */
    char *hash;         /* owned, may be NULL: record hash / checkpoint head */
    int64_t seq;        /* chain.seq, 0 when unknown */
    int64_t pid;        /* process.pid, 0 when unknown */
    int severity;       /* RFC 5424 severity 0..7 */
    bool checkpoint;
    bool commit;        /* delivering it lets the cursor move to end_offset */
    off_t end_offset;   /* journal offset just after the record's line */
};

void aa_fwd_item_done(struct aa_fwd_item *it);

/* A parsed forward URL. */
struct aa_sink_addr {
    enum aa_sink_kind kind;
    char *host; /* owned; NULL for unix and http */
    char *port; /* owned; NULL for unix and http */
    char *path; /* owned; unix socket path; NULL otherwise */
};

/* Parse a forward URL (contract §2 --forward).  Returns 0, -EINVAL for an
 * unknown scheme or malformed address (-EPROTONOSUPPORT for http(s) when
 * built without libcurl), -ENOMEM. */
int aa_sink_parse_url(const char *url, struct aa_sink_addr *ret);
void aa_sink_addr_done(struct aa_sink_addr *a);

/* The URL with any userinfo replaced by "[REDACTED]" (owned, NULL on ENOMEM). */
char *aa_sink_redact_url(const char *url);

/* Acknowledgement semantics of a URL's transport. */
enum aa_sink_ack aa_sink_ack_of(enum aa_sink_kind kind);
const char *aa_sink_ack_name(enum aa_sink_ack ack);

struct aa_sink;

/* A sink for a target (not connected yet; connecting is lazy).  The target
 * is borrowed and must outlive the sink. */
int aa_sink_new(const struct aa_forward_target *target, struct aa_sink **ret);

/* Deliver items[0..n) in order, connecting first when needed; at most
 * timeout_ms per blocking step.  *ret_done = number of leading items
 * delivered (acknowledged for relp/http).  Returns 0 when all n were
 * delivered, else -errno (the connection is dropped; the next call
 * reconnects).  -EAGAIN: the receiver rejected some items, retry later. */
int aa_sink_send(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
                 int timeout_ms);

/* Largest batch the transport wants per call. */
size_t aa_sink_max_batch(const struct aa_sink *s);
enum aa_sink_ack aa_sink_ack(const struct aa_sink *s);

/* Drop the connection (orderly close where the protocol has one). */
void aa_sink_disconnect(struct aa_sink *s);
void aa_sink_free(struct aa_sink *s); /* NULL-safe */

/* ---- RFC 5424 (sink_syslog.c), exposed for unit tests ---- */

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG" (no
 * BOM, no trailer).  Header fields are reduced to printable US-ASCII and
 * their RFC 5424 length limits, NILVALUE "-" when empty; SD param values are
 * escaped (", \, ]).  Owned result in *ret. */
int aa_syslog_format(const struct aa_fwd_item *it, char **ret, size_t *ret_len);

/* RFC 6587 §3.4.1 octet-counting frame "MSG-LEN SP SYSLOG-MSG". */
int aa_syslog_frame(const char *msg, size_t len, char **ret, size_t *ret_len);

/* ---- internal constructors per transport ---- */
struct aa_sink_impl {
    int (*send)(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
                int timeout_ms);
    void (*disconnect)(struct aa_sink *s);
    void (*free_priv)(struct aa_sink *s);
    size_t max_batch;
};

struct aa_sink {
    const struct aa_forward_target *target;
    struct aa_sink_addr addr;
    const struct aa_sink_impl *impl;
    void *priv;
};

int aa_sink_syslog_init(struct aa_sink *s);
int aa_sink_relp_init(struct aa_sink *s);
int aa_sink_http_init(struct aa_sink *s);

/* Shared socket helpers (sink_syslog.c): connect a stream/datagram socket to
 * host:port with a timeout; returns an fd or -errno. */
int aa_sink_connect_inet(const char *host, const char *port, int socktype, int timeout_ms);
/* Write all bytes with poll() and a timeout; MSG_NOSIGNAL. */
int aa_sink_send_all(int fd, const void *buf, size_t len, int timeout_ms);
/* shutdown(SHUT_WR) and read until EOF (bounded), so that close() sends a
 * FIN, not a RST that would make the peer discard unread data. */
void aa_sink_close_gracefully(int fd, int timeout_ms);
/* True when a stream peer has closed or reset the connection (non-blocking check). */
bool aa_sink_peer_closed(int fd);
