/* The wrapper's end of the shim channel (include/admin-audit/protocol.h).
 *
 * Two abstract AF_UNIX sockets: a SOCK_SEQPACKET listener (one connection per
 * exec attempt; the shim blocks until our ack, which we send only once the
 * record is in the journal) and a SOCK_DGRAM socket with SO_PASSCRED for
 * connect/lookup reports.  Every peer is authenticated by the kernel's
 * credentials (SO_PEERCRED / SCM_CREDENTIALS) and aa_session_is_member().
 * The abstract namespace has no permission bits, so children that drop
 * privileges (setpriv, su) still reach it; strangers are rejected by pid.
 *
 * All descriptors live in one epoll set: the poll loop watches a single fd.
 *
 * Wake-ups are what an exec costs the wrapper on this kind of machine (a
 * context switch in a VM costs more than building and writing the record), so
 * an exec connection is read as soon as it is accepted, registered in the
 * epoll set (EPOLLONESHOT) only while its report is incomplete, and "parked"
 * once acknowledged: a successful exec closes it, and nothing needs to wake
 * us for that EOF.  Parked connections are looked at again when the same
 * process connects again (order of its records), on a 50 ms timer while any
 * are parked (a failed exec's result record is written within ~50 ms), and
 * when the channel is drained. */
#include "channel.h"
#include "exectarget.h"

#include <admin-audit/protocol.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "record.h"
#include "session.h"
#include "util.h"

#define AA_DNS_MAP 1024
#define AA_MEMBER_CACHE 64
#define AA_PARK_SCAN 128 /* parked connections that trigger a scan for EOF */
#define AA_REF_LEN 96
#ifndef SO_PEERPIDFD
#define AA_SO_PEERPIDFD 77 /* asm-generic/socket.h of Linux 6.5 */
#else
#define AA_SO_PEERPIDFD SO_PEERPIDFD
#endif
#define AA_SO_PASSPIDFD 76 /* Linux 6.5 */
#define AA_SCM_PIDFD 0x04  /* Linux 6.5 */
#define AA_PIDFS_MAGIC 0x50494446 /* linux/magic.h, 6.9: pidfds have an inode each */

enum conn_state { CONN_ATTEMPT, CONN_RESULT, CONN_DONE };

struct aa_conn {
    int fd;
    pid_t pid; /* kernel peer credentials */
    enum conn_state state;
    char *buf; /* owned: message being assembled */
    size_t len, cap;
    char *attempt; /* owned: payload of the acknowledged attempt */
    size_t attempt_len;
    char ref[AA_REF_LEN]; /* event.id of the attempt */
    bool in_ep;           /* registered in the epoll set */
    struct aa_conn *prev, *next;
};

struct dns_entry {
    pid_t pid;
    int family;
    unsigned char addr[16];
    char *name; /* owned, raw bytes + NUL */
    size_t name_len;
    char ref[AA_REF_LEN];
};

struct aa_channel {
    struct aa_session *s; /* borrowed */
    int epfd, lfd, dfd;
    char base[96];
    struct aa_conn *conns;
    int tfd;     /* timerfd: look at parked connections again */
    bool tarmed; /* tfd is armed */
    struct dns_entry dns[AA_DNS_MAP];
    size_t dns_next;
    struct {
        pid_t pid; /* 0: empty slot */
        int pidfd; /* pins the identity: readable once that process is gone */
        bool hot;  /* looked up since the replacement hand last passed it */
    } members[AA_MEMBER_CACHE];
    size_t members_next;
    bool no_peerpidfd; /* SO_PEERPIDFD or PIDFD_GET_INFO missing: /proc path */
    bool dgram_pidfd;  /* datagrams carry the sender's pidfd (SO_PASSPIDFD) and
                        * pidfds have an inode per process (pidfs) */
    size_t n_parked;   /* connections in CONN_RESULT (one descriptor each) */
    size_t park_scan_at; /* n_parked that triggers a scan for EOF; 0 = not computed yet */
    size_t members_cap;  /* member-cache entries used (<= AA_MEMBER_CACHE); 0 = not yet */
    /* backstop link (aa_channel_set_backstop): the kernel backstop asks
     * which execs the shim already recorded, and is told of shim connects */
    struct aa_backstop *bs; /* borrowed, may be NULL */
    struct {
        pid_t pid; /* a system()/popen() report: its /bin/sh child is covered */
        long long mono_ns;
    } shells[16];
    size_t shells_next;
};

/* Decoded report; byte fields point into the message buffer (borrowed). */
struct report {
    bool have[128];
    int64_t num[128];
    struct aa_bytes str[128];
    struct aa_bytes *args; /* owned */
    size_t argc;
    struct aa_bytes ips[AA_PROTO_MAX_IPS];
    size_t nips;
};

static void
report_free(struct report *r)
{
    free(r->args);
    r->args = NULL;
}

/* Parse a TLV payload.  Returns 0 or -EBADMSG / -ENOMEM. */
static int
report_parse(const char *p, size_t n, struct report *r)
{
    memset(r, 0, sizeof *r);
    size_t cap = 0;
    size_t off = 0;
    while (off < n) {
        struct aa_proto_tlv t;
        if (n - off < sizeof t)
            return -EBADMSG;
        memcpy(&t, p + off, sizeof t);
        off += sizeof t;
        if (t.len > n - off)
            return -EBADMSG;
        const char *v = p + off;
        off += t.len;
        if (t.tag >= 128)
            continue; /* unknown: ignore (forward compatible) */
        if (t.tag == AA_T_ARG) {
            if (r->argc == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct aa_bytes *na = realloc(r->args, nc * sizeof *na);
                if (!na)
                    return -ENOMEM;
                r->args = na;
                cap = nc;
            }
            r->args[r->argc++] = (struct aa_bytes){v, t.len};
            continue;
        }
        if (t.tag == AA_T_DNS_IP) {
            /* family byte and length must agree (4 + 4 bytes, 6 + 16 bytes): every
             * consumer derives the address size from the family */
            if (r->nips < AA_PROTO_MAX_IPS &&
                ((t.len == 5 && v[0] == 4) || (t.len == 17 && v[0] == 6)))
                r->ips[r->nips++] = (struct aa_bytes){v, t.len};
            continue;
        }
        r->have[t.tag] = true;
        r->str[t.tag] = (struct aa_bytes){v, t.len};
        if (t.len == sizeof(int64_t))
            memcpy(&r->num[t.tag], v, sizeof(int64_t));
    }
    return 0;
}

static int64_t
rnum(const struct report *r, int tag, int64_t dflt)
{
    return r->have[tag] && r->str[tag].n == sizeof(int64_t) ? r->num[tag] : dflt;
}




/* ---- membership ------------------------------------------------------------ */

/* Membership costs a /proc read per ancestor (~8 us each here), and every
 * exec comes from a pid never seen before.  So known members are cached with
 * a pidfd each: while the pidfd is not readable that very process is alive,
 * so its pid cannot have been reused by a stranger.  An unknown pid is then
 * checked by one /proc read (its parent) when the parent is the wrapper or a
 * live cached member; only otherwise the whole ancestry is walked. */
/* A live cached member with that pid: 1.  Otherwise -1 when an entry of
 * that pid is cached but its process has exited (*dead = its slot: the
 * pidfd still names that very process, which a datagram it sent before it
 * exited can be matched against), or 0.  A dead entry never hides a newer
 * live one of the same pid. */
static int
member_lookup(struct aa_channel *ch, pid_t pid, size_t *dead)
{
    int r = 0;
    for (size_t i = 0; i < AA_MEMBER_CACHE; i++) {
        if (ch->members[i].pid != pid)
            continue;
        struct pollfd p = {.fd = ch->members[i].pidfd, .events = POLLIN};
        if (poll(&p, 1, 0) == 0) { /* POLLIN: exited; POLLNVAL: not ours */
            ch->members[i].hot = true;
            return 1;
        }
        ch->members[i].hot = false; /* gone: first to be replaced */
        if (dead)
            *dead = i;
        r = -1;
    }
    return r;
}

static bool
member_cached(struct aa_channel *ch, pid_t pid)
{
    return member_lookup(ch, pid, NULL) == 1;
}

/* Close up to n cached pidfds (cold entries first) to free descriptors. */
static size_t
member_evict(struct aa_channel *ch, size_t n)
{
    size_t done = 0;
    for (int pass = 0; pass < 2 && done < n; pass++)
        for (size_t i = 0; i < AA_MEMBER_CACHE && done < n; i++)
            if (ch->members[i].pid > 0 && (pass == 1 || !ch->members[i].hot)) {
                (void)close(ch->members[i].pidfd);
                ch->members[i].pid = 0;
                ch->members[i].hot = false;
                done++;
            }
    return done;
}


/* Cache pid; with child > 0, pid is child's parent, which must still hold
 * once pid is pinned (the pid could have been reused meanwhile). */
/* Descriptor budget, from RLIMIT_NOFILE as it is once the session runs (the
 * wrapper raises its soft limit before the command starts): the member
 * cache gets a quarter of what is left beside the wrapper's own ~32, at most
 * AA_MEMBER_CACHE; parked connections are scanned for EOF when they reach
 * half of the rest. */
static void
channel_budget(struct aa_channel *ch)
{
    if (ch->members_cap)
        return;
    struct rlimit rl;
    size_t lim = 1 << 20;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lim = (size_t)rl.rlim_cur;
    size_t spare = lim > 32 ? lim - 32 : 0;
    size_t cap = spare / 4;
    ch->members_cap = cap < 1 ? 1 : cap > AA_MEMBER_CACHE ? AA_MEMBER_CACHE : cap;
    size_t at = spare > ch->members_cap ? (spare - ch->members_cap) / 2 : 0;
    ch->park_scan_at = at < 4 ? 4 : at > AA_PARK_SCAN ? AA_PARK_SCAN : at;
}

static void
member_keep(struct aa_channel *ch, pid_t pid, int fd)
{
    channel_budget(ch);
    /* second chance: an entry that answered a lookup since it was last
     * passed (the shell of a loop, xargs, make) is kept, so a stream of
     * short-lived children does not push out the parent they all share */
    size_t n = ch->members_cap;
    size_t i = ch->members_next++ % n;
    for (size_t tries = 0; tries < n && ch->members[i].pid > 0 && ch->members[i].hot; tries++) {
        ch->members[i].hot = false;
        i = ch->members_next++ % n;
    }
    if (ch->members[i].pid > 0)
        (void)close(ch->members[i].pidfd);
    ch->members[i].pid = pid;
    ch->members[i].pidfd = fd;
    ch->members[i].hot = false;
}

static void
member_add(struct aa_channel *ch, pid_t pid, pid_t child)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec */
    if (fd < 0)
        return; /* ENOSYS, ESRCH: not cached, checked in full next time */
    if (child > 0 && aa_proc_ppid(child) != pid) {
        (void)close(fd);
        return;
    }
    member_keep(ch, pid, fd);
}


static int parked_scan(struct aa_channel *ch, pid_t pid);

/* Out of descriptors or memory for the moment: not a verdict on the peer. */
static bool
fd_short(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
}

/* pid, whose parent was pp when read: a member when pp is the wrapper or a
 * live cached member (a live pp cannot have been reused since, so pid is its
 * child), else when the whole ancestry walk says so; then pp is cached too,
 * so its next child (the shell of an exec loop never reports itself) costs
 * one read.  false with errno as the walk left it. */
static bool
member_via_parent(struct aa_channel *ch, pid_t pid, pid_t pp)
{
    if (pp > 0 && (pp == aa_session_wrapper_pid(ch->s) || member_cached(ch, pp)))
        return true;
    errno = 0;
    if (!aa_session_is_member(ch->s, pid))
        return false;
    if (pp > 1)
        member_add(ch, pp, pid);
    return true;
}

/* The peer of an exec connection, by the pidfd the kernel hands out for it
 * (SO_PEERPIDFD, Linux 6.5+) and PIDFD_GET_INFO (6.13+): two syscalls for
 * pid and parent, where the /proc path below costs five and a pidfd_open.
 * The pidfd pins that very process, so it becomes the cache entry.  Sets
 * *pid; returns 1 member, 0 not a member (or gone), -1 not available here
 * (older kernel: use member()), -2 out of descriptors or memory just now. */
static int
member_peer(struct aa_channel *ch, int sock, pid_t *pid)
{
    int pfd = -1;
    socklen_t pl = sizeof pfd;
    if (getsockopt(sock, SOL_SOCKET, AA_SO_PEERPIDFD, &pfd, &pl) < 0 || pfd < 0) {
        int e = pfd < 0 && errno == 0 ? EINVAL : errno;
        if (fd_short(e))
            return -2;
        /* only an unknown option means "this kernel has none"; EINVAL,
         * ENOENT, ESRCH: a peer already gone (6.13: EINVAL for a reaped one) */
        return e == ENOPROTOOPT ? -1 : 0;
    }
    pid_t pp = 0;
    int r = aa_pidfd_ids(pfd, pid, &pp);
    if (r < 0) {
        (void)close(pfd);
        if (fd_short(-r))
            return -2;
        return r == -ENOTTY || r == -EINVAL || r == -ENOSYS ? -1 : 0;
    }
    if (member_cached(ch, *pid)) {
        (void)close(pfd);
        return 1;
    }
    bool ok = member_via_parent(ch, *pid, pp);
    if (!ok && fd_short(errno) && ch->n_parked > 0) {
        /* the /proc walk ran out of descriptors: take back the parked
         * connections' and walk again, rather than refuse a member */
        (void)parked_scan(ch, 0);
        ok = member_via_parent(ch, *pid, pp);
    }
    if (!ok) {
        bool short_now = fd_short(errno);
        (void)close(pfd);
        return short_now ? -2 : 0;
    }
    member_keep(ch, *pid, pfd);
    return 1;
}

static bool
member(struct aa_channel *ch, pid_t pid)
{
    if (pid <= 0)
        return false;
    if (member_cached(ch, pid))
        return true;
    if (!member_via_parent(ch, pid, aa_proc_ppid(pid)))
        return false;
    member_add(ch, pid, 0);
    return true;
}

/* Two pidfds name the same process (pidfs: one inode per process). */
static bool
same_process(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The sender of a datagram report, pid from SCM_CREDENTIALS and, when the
 * kernel passes it, its pidfd from SCM_PIDFD (*pidfd: taken into the member
 * cache, then set to -1).  A sender may have exited by the time its report
 * is read (a connect right before _exit): then it is still recognised when
 * its pidfd is the very process a cached member entry pins, or, while it is
 * a zombie, by its parent.  Returns 1 member, 0 stranger, -1 gone and not
 * verifiable (counted as lost by the caller). */
static int
member_dgram(struct aa_channel *ch, pid_t pid, int *pidfd)
{
    if (pid <= 0)
        return 0;
    size_t dead = 0;
    int c = member_lookup(ch, pid, &dead);
    if (c == 1)
        return 1;
    if (*pidfd < 0)
        return member(ch, pid) ? 1 : kill(pid, 0) < 0 && errno == ESRCH ? -1 : 0;
    if (c == -1 && same_process(*pidfd, ch->members[dead].pidfd))
        return 1;
    pid_t p = 0, pp = 0;
    int r = aa_pidfd_ids(*pidfd, &p, &pp);
    if (r == -ESRCH)
        return -1; /* exited and reaped, never cached: nothing left to ask */
    if (r < 0)
        return member(ch, pid) ? 1 : 0;
    if (!member_via_parent(ch, p, pp))
        return aa_pidfd_ids(*pidfd, &p, &pp) == -ESRCH ? -1 : 0;
    member_keep(ch, p, *pidfd);
    *pidfd = -1;
    return 1;
}

/* ---- process.exec ----------------------------------------------------------- */

/* Build a process.exec record from an attempt report.  phase "attempt" or
 * "result" (err != 0, ref = the attempt's event.id). */
static struct json_object *
exec_record(struct aa_channel *ch, pid_t peer, const struct report *r, const char *phase, int err,
            const char *ref)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    struct json_object *rec =
        aa_record_new(aa_session_envelope(ch->s), "process.exec", err ? "failure" : "unknown",
                      NULL, peer);
    if (!rec)
        return NULL;
    struct aa_bytes exe = r->str[AA_T_EXECUTABLE];
    if (!exe.n)
        exe = r->str[AA_T_PATH_ARG];
    const char *name = exe.p ? memrchr(exe.p, '/', exe.n) : NULL;
    size_t name_off = name ? (size_t)(name - exe.p) + 1 : 0;
    int rc = 0;
    rc |= aa_rec_set_bytes(rec, "process.executable", exe.p ? exe.p : "", exe.n, false, counts);
    rc |= aa_rec_set_bytes(rec, "process.name", exe.p ? exe.p + name_off : "", exe.n - name_off,
                           false, counts);
    rc |= aa_rec_set_args(rec, "process.args", r->args, r->argc, counts);
    rc |= aa_rec_set_bytes(rec, "process.working_directory", r->str[AA_T_CWD].p ?: "",
                           r->str[AA_T_CWD].n, false, counts);
    rc |= aa_rec_set_int(rec, "process.parent.pid", rnum(r, AA_T_PPID, 0));
    rc |= aa_rec_set_num_str(rec, "process.user.id", rnum(r, AA_T_EUID, -1));
    rc |= aa_rec_set_num_str(rec, "process.real_user.id", rnum(r, AA_T_UID, -1));
    rc |= aa_rec_set_num_str(rec, "process.group.id", rnum(r, AA_T_GID, -1));
    if (err) {
        char b[16];
        rc |= aa_rec_set_str(rec, "error.code", aa_errno_name(err, b));
        const char *msg = strerrordesc_np(err);
        if (msg)
            rc |= aa_rec_set_str(rec, "error.message", msg);
    }
    rc |= aa_rec_set_bytes(rec, "audit.exec.api", r->str[AA_T_API].p ?: "", r->str[AA_T_API].n,
                           false, counts);
    rc |= aa_rec_set_str(rec, "audit.exec.phase", phase);
    if (r->have[AA_T_PATH_ARG])
        rc |= aa_rec_set_bytes(rec, "audit.exec.path_arg", r->str[AA_T_PATH_ARG].p,
                               r->str[AA_T_PATH_ARG].n, true, counts);
    if (ref)
        rc |= aa_rec_set_str(rec, "audit.ref", ref);
    if (!err && exe.p && exe.n && exe.n < PATH_MAX && !memchr(exe.p, '\0', exe.n)) {
        /* Contract §7.5: flag an exec of a program the shim cannot enter
         * (the backstop, when on, records what that program does). */
        char path[PATH_MAX * 2];
        struct aa_bytes cwd = r->str[AA_T_CWD];
        size_t k = 0;
        if (exe.p[0] != '/' && cwd.n && cwd.n < PATH_MAX && !memchr(cwd.p, '\0', cwd.n)) {
            memcpy(path, cwd.p, cwd.n); /* relative to the caller's cwd, not ours */
            path[cwd.n] = '/';
            k = cwd.n + 1;
        }
        memcpy(path + k, exe.p, exe.n);
        path[k + exe.n] = '\0';
        const char *gap = NULL;
        if (aa_exec_target_enterable(path, (uid_t)rnum(r, AA_T_UID, -1),
                                     (gid_t)rnum(r, AA_T_GID, -1), &gap) == 0) {
            rc |= aa_rec_set_bool(rec, "audit.exec.shim_enters", false);
            rc |= aa_rec_set_str(rec, "audit.exec.shim_gap", gap);
        }
    }
    int64_t rpid = rnum(r, AA_T_PID, peer);
    if (rpid != peer)
        rc |= aa_rec_set_int(rec, "audit.reported_pid", rpid);
    rc |= aa_rec_set_str(rec, "audit.source", "shim");
    if (rc) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

static void
conn_send_ack(struct aa_conn *c, enum aa_verdict v)
{
    struct aa_proto_ack ack;
    memset(&ack, 0, sizeof ack);
    ack.hdr = (struct aa_proto_hdr){.magic = AA_PROTO_MAGIC,
                                    .version = AA_PROTO_VERSION,
                                    .type = AA_MSG_ACK,
                                    .len = sizeof ack - sizeof ack.hdr};
    ack.verdict = v;
    size_t rl = strlen(c->ref);
    if (rl > sizeof ack.ref)
        rl = 0;
    ack.ref_len = (uint32_t)rl;
    memcpy(ack.ref, c->ref, rl);
    /* a peer that died meanwhile: nothing to do */
    (void)send(c->fd, &ack, sizeof ack, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* ---- backstop link ------------------------------------------------------------ */


static bool
bytes_is(const struct aa_bytes *b, const char *s)
{
    size_t n = strlen(s);
    return b->p && b->n == n && memcmp(b->p, s, n) == 0;
}

/* system() and popen() are reported by the caller, which then closes the
 * connection and lets libc start /bin/sh: remember the caller for a while. */
static void
shell_remember(struct aa_channel *ch, pid_t pid, const struct aa_bytes *api)
{
    if (!bytes_is(api, "system") && !bytes_is(api, "popen"))
        return;
    size_t i = ch->shells_next++ % AA_ARRAY_SIZE(ch->shells);
    ch->shells[i].pid = pid;
    ch->shells[i].mono_ns = aa_mono_ns();
}

void
aa_channel_set_backstop(struct aa_channel *ch, struct aa_backstop *b)
{
    if (ch)
        ch->bs = b;
}

/* Is path (what the kernel is about to exec) the exec the shim reported in r? */
static bool
exec_path_matches(const struct report *r, const char *path, size_t len)
{
    const struct aa_bytes *exe = &r->str[AA_T_EXECUTABLE], *arg = &r->str[AA_T_PATH_ARG];
    if ((exe->p && exe->n == len && memcmp(exe->p, path, len) == 0) ||
        (arg->p && arg->n == len && memcmp(arg->p, path, len) == 0))
        return true;
    const struct aa_bytes *api = &r->str[AA_T_API];
    if (bytes_is(api, "fexecve") || bytes_is(api, "execveat"))
        return len == 0 || (len > 14 && memcmp(path, "/proc/self/fd/", 14) == 0);
    /* PATH search (execvp*, posix_spawnp) tries dir/name in turn, and libc
     * runs a file without a #! line with /bin/sh (ENOEXEC) */
    if (len == 7 && memcmp(path, "/bin/sh", 7) == 0)
        return true;
    if (arg->p && arg->n && !memchr(arg->p, '/', arg->n) && len > arg->n &&
        path[len - arg->n - 1] == '/' && memcmp(path + len - arg->n, arg->p, arg->n) == 0)
        return true;
    return false;
}

bool
aa_channel_exec_covered(struct aa_channel *ch, pid_t pid, pid_t ppid, const char *path,
                        size_t len)
{
    if (!ch || pid <= 0)
        return false;
    for (struct aa_conn *c = ch->conns; c; c = c->next) {
        if (c->state != CONN_RESULT || !c->attempt)
            continue;
        if (c->pid != pid && (ppid <= 0 || c->pid != ppid))
            continue;
        /* parked: a connection its peer closed (exec done) or answered with a
         * result (exec failed) no longer covers anything */
        char b;
        if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno != EAGAIN)
            continue;
        struct report r;
        if (report_parse(c->attempt, c->attempt_len, &r) < 0) {
            report_free(&r);
            continue;
        }
        const struct aa_bytes *api = &r.str[AA_T_API];
        bool spawn = bytes_is(api, "posix_spawn") || bytes_is(api, "posix_spawnp");
        /* the exec family runs in the reporting process, posix_spawn in its child */
        bool who = spawn ? c->pid == ppid : c->pid == pid;
        bool ok = who && exec_path_matches(&r, path, len);
        report_free(&r);
        if (ok)
            return true;
    }
    if (ppid > 0 && len == 7 && memcmp(path, "/bin/sh", 7) == 0) {
        long long now = aa_mono_ns();
        for (size_t i = 0; i < AA_ARRAY_SIZE(ch->shells); i++)
            if (ch->shells[i].pid == ppid && now - ch->shells[i].mono_ns < 30000000000LL) {
                ch->shells[i].pid = 0; /* one shell per report */
                return true;
            }
    }
    return false;
}

/* Parked connections are counted: each holds a descriptor until its EOF is
 * seen, and an exec storm parks hundreds within the 50 ms timer. */
static void
conn_set_state(struct aa_channel *ch, struct aa_conn *c, enum conn_state st)
{
    if (c->state == CONN_RESULT && ch->n_parked > 0)
        ch->n_parked--;
    if (st == CONN_RESULT)
        ch->n_parked++;
    c->state = st;
}

static int
handle_exec(struct aa_channel *ch, struct aa_conn *c, const char *payload, size_t n)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    struct report r;
    int rp = report_parse(payload, n, &r);
    if (rp < 0) {
        report_free(&r);
        counts->lost++;
        return rp == -ENOMEM ? rp : -EBADMSG;
    }
    counts->execs++;
    struct json_object *rec = exec_record(ch, c->pid, &r, "attempt", 0, NULL);
    report_free(&r);
    int er = rec ? aa_session_emit(ch->s, rec) : -ENOMEM;
    if (er == 0)
        aa_record_event_id(rec, c->ref, sizeof c->ref);
    else if (!rec)
        counts->lost++;
    /* the record is written: let the exec go first, tidy up after */
    bool allow = er == 0 || aa_session_fail_open(ch->s);
    conn_send_ack(c, allow ? AA_VERDICT_ALLOW : AA_VERDICT_DENY);
    if (er == 0)
        shell_remember(ch, c->pid, &r.str[AA_T_API]);
    json_object_put(rec);
    if (allow) {
        free(c->attempt);
        c->attempt = malloc(n ? n : 1);
        if (c->attempt) {
            memcpy(c->attempt, payload, n);
            c->attempt_len = n;
        }
        conn_set_state(ch, c, CONN_RESULT);
    } else {
        counts->denied++;
        conn_set_state(ch, c, CONN_DONE);
    }
    return 0;
}

static int
handle_exec_result(struct aa_channel *ch, struct aa_conn *c, const char *payload, size_t n)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    struct report res, att;
    int rc = report_parse(payload, n, &res);
    report_free(&res);
    if (rc < 0 || !c->attempt) {
        counts->lost++;
        return 0;
    }
    int err = (int)rnum(&res, AA_T_ERRNO, 0);
    conn_set_state(ch, c, CONN_DONE);
    if (!err)
        return 0;
    rc = report_parse(c->attempt, c->attempt_len, &att);
    struct json_object *rec =
        rc < 0 ? NULL : exec_record(ch, c->pid, &att, "result", err, c->ref[0] ? c->ref : NULL);
    report_free(&att);
    if (!rec) {
        counts->lost++;
        return rc == -ENOMEM ? rc : 0;
    }
    (void)aa_session_emit(ch->s, rec); /* a failure is counted as lost by the session */
    json_object_put(rec);
    return 0;
}

/* ---- dns map ------------------------------------------------------------------ */

static void
dns_remember(struct aa_channel *ch, pid_t pid, const struct aa_bytes *ip, const struct aa_bytes *name,
             const char *ref)
{
    struct dns_entry *e = &ch->dns[ch->dns_next++ % AA_DNS_MAP];
    free(e->name);
    memset(e, 0, sizeof *e);
    e->name = malloc(name->n + 1);
    if (!e->name)
        return;
    if (name->n) /* an absent name is {NULL, 0}: memcpy(NULL) is undefined even for 0 bytes */
        memcpy(e->name, name->p, name->n);
    e->name[name->n] = '\0';
    e->name_len = name->n;
    e->pid = pid;
    /* the family byte must agree with the length the parser accepted (5 or 17) */
    e->family = ip->n == 5 ? AF_INET : AF_INET6;
    memcpy(e->addr, ip->p + 1, ip->n - 1);
    (void)snprintf(e->ref, sizeof e->ref, "%s", ref);
}

static const struct dns_entry *
dns_find(const struct aa_channel *ch, pid_t pid, int family, const unsigned char *addr)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    size_t alen = family == AF_INET ? 4 : 16;
    for (size_t k = 0; k < AA_DNS_MAP; k++) {
        const struct dns_entry *e = &ch->dns[(ch->dns_next - 1 - k) % AA_DNS_MAP];
        if (!e->name || e->pid != pid)
            continue;
        if (e->family == family && memcmp(e->addr, addr, alen) == 0)
            return e;
        if (family == AF_INET6 && e->family == AF_INET && memcmp(addr, v4mapped, 12) == 0 &&
            memcmp(e->addr, addr + 12, 4) == 0)
            return e;
    }
    return NULL;
}

/* ---- dns.lookup --------------------------------------------------------------- */

static const char *
eai_name(int rc, char buf[16])
{
    switch (rc) {
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    case EAI_OVERFLOW: return "EAI_OVERFLOW";
    case EAI_NODATA: return "EAI_NODATA";
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
    default: (void)snprintf(buf, 16, "EAI_%d", rc); return buf;
    }
}

static const char *
eai_rcode(int rc)
{
    switch (rc) {
    case 0:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
        return "NOERROR";
    case EAI_NONAME:
        return "NXDOMAIN";
    default:
        return "SERVFAIL";
    }
}

static const char *
herr_name(int h)
{
    switch (h) {
    case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
    case TRY_AGAIN: return "TRY_AGAIN";
    case NO_RECOVERY: return "NO_RECOVERY";
    case NO_DATA: return "NO_DATA";
    default: return "NETDB_INTERNAL";
    }
}

static const char *
herr_rcode(int h)
{
    switch (h) {
    case 0:
    case NO_DATA:
        return "NOERROR";
    case HOST_NOT_FOUND:
        return "NXDOMAIN";
    default:
        return "SERVFAIL";
    }
}

static void
format_ip(const unsigned char *raw, int family, char out[INET6_ADDRSTRLEN])
{
    if (!inet_ntop(family, raw, out, INET6_ADDRSTRLEN))
        out[0] = '\0';
}

static int
handle_dns(struct aa_channel *ch, pid_t peer, const struct report *r)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    bool ptr = rnum(r, AA_T_DNS_QFAMILY, AF_UNSPEC) == -1;
    bool by_herr = r->have[AA_T_DNS_HERR];
    int code = (int)(by_herr ? rnum(r, AA_T_DNS_HERR, 0) : rnum(r, AA_T_DNS_EAI, 0));
    counts->lookups++;
    struct json_object *rec = aa_record_new(aa_session_envelope(ch->s), "dns.lookup",
                                            code ? "failure" : "success", NULL, peer);
    if (!rec) {
        counts->lost++;
        return -ENOMEM;
    }
    int rc = 0;
    char ipbuf[INET6_ADDRSTRLEN];
    rc |= aa_rec_set_str(rec, "dns.type", "answer");
    if (ptr) {
        if (r->nips) {
            format_ip((const unsigned char *)r->ips[0].p + 1, r->ips[0].p[0] == 4 ? AF_INET : AF_INET6,
                      ipbuf);
            rc |= aa_rec_set_str(rec, "dns.question.name", ipbuf);
        }
        rc |= aa_rec_set_str(rec, "dns.question.type", "PTR");
    } else {
        rc |= aa_rec_set_bytes(rec, "dns.question.name", r->str[AA_T_DNS_NAME].p ?: "",
                               r->str[AA_T_DNS_NAME].n, false, counts);
        int64_t qf = rnum(r, AA_T_DNS_QFAMILY, AF_UNSPEC);
        rc |= aa_rec_set_str(rec, "dns.question.type",
                             qf == AF_INET ? "A" : qf == AF_INET6 ? "AAAA" : "ANY");
    }
    struct json_object *ips = json_object_new_array();
    if (!ips)
        rc |= -ENOMEM;
    for (size_t i = 0; ips && !ptr && i < r->nips; i++) {
        format_ip((const unsigned char *)r->ips[i].p + 1, r->ips[i].p[0] == 4 ? AF_INET : AF_INET6,
                  ipbuf);
        json_object_array_add(ips, json_object_new_string(ipbuf)); /* steals val */
    }
    rc |= aa_rec_set(rec, "dns.resolved_ip", ips); /* steals val */
    if (ptr && r->have[AA_T_DNS_ANSWER]) {
        struct json_object *answers = json_object_new_array();
        struct json_object *a = json_object_new_object();
        char *data = aa_utf8_sanitize(r->str[AA_T_DNS_ANSWER].p, r->str[AA_T_DNS_ANSWER].n);
        if (answers && a && data) {
            json_object_object_add(a, "type", json_object_new_string("PTR")); /* steals val */
            json_object_object_add(a, "data", json_object_new_string(data));  /* steals val */
            json_object_array_add(answers, a);                                /* steals val */
            a = NULL;
            rc |= aa_rec_set(rec, "dns.answers", answers); /* steals val */
            answers = NULL;
        } else {
            rc |= -ENOMEM;
        }
        free(data);
        json_object_put(a);
        json_object_put(answers);
    }
    rc |= aa_rec_set_str(rec, "dns.response_code", by_herr ? herr_rcode(code) : eai_rcode(code));
    if (code) {
        char b[16];
        rc |= aa_rec_set_str(rec, "error.code", by_herr ? herr_name(code) : eai_name(code, b));
    }
    if (r->have[AA_T_DURATION])
        rc |= aa_rec_set_int(rec, "event.duration", rnum(r, AA_T_DURATION, 0));
    rc |= aa_rec_set_bytes(rec, "audit.dns.api", r->str[AA_T_API].p ?: "", r->str[AA_T_API].n,
                           false, counts);
    if (r->have[AA_T_DNS_SERVICE])
        rc |= aa_rec_set_bytes(rec, "audit.dns.service", r->str[AA_T_DNS_SERVICE].p,
                               r->str[AA_T_DNS_SERVICE].n, false, counts);
    rc |= aa_rec_set_str(rec, "audit.source", "shim");
    if (rc) {
        json_object_put(rec);
        counts->lost++;
        return -ENOMEM;
    }
    if (aa_session_emit(ch->s, rec) == 0) {
        char ref[AA_REF_LEN];
        aa_record_event_id(rec, ref, sizeof ref);
        if (ptr && r->nips && r->have[AA_T_DNS_ANSWER])
            dns_remember(ch, peer, &r->ips[0], &r->str[AA_T_DNS_ANSWER], ref);
        for (size_t i = 0; !ptr && i < r->nips; i++)
            dns_remember(ch, peer, &r->ips[i], &r->str[AA_T_DNS_NAME], ref);
    }
    json_object_put(rec);
    return 0;
}

/* ---- network.connect ------------------------------------------------------------ */


static int
handle_connect(struct aa_channel *ch, pid_t peer, const struct report *r)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    int family = (int)rnum(r, AA_T_FAMILY, 0);
    struct aa_bytes addr = r->str[AA_T_ADDR];
    if ((family != AF_INET || addr.n != 4) && (family != AF_INET6 || addr.n != 16)) {
        counts->lost++;
        return 0;
    }
    int err = (int)rnum(r, AA_T_ERRNO, 0);
    int64_t ret = rnum(r, AA_T_RC, 0);
    const char *outcome = ret == 0 ? "success" : err == EINPROGRESS ? "unknown" : "failure";
    counts->connects++;
    struct json_object *rec =
        aa_record_new(aa_session_envelope(ch->s), "network.connect", outcome, NULL, peer);
    if (!rec) {
        counts->lost++;
        return -ENOMEM;
    }
    char ip[INET6_ADDRSTRLEN];
    format_ip((const unsigned char *)addr.p, family, ip);
    const struct dns_entry *d = dns_find(ch, peer, family, (const unsigned char *)addr.p);
    int type = (int)rnum(r, AA_T_SOCKTYPE, 0), proto = (int)rnum(r, AA_T_PROTOCOL, 0);
    int rc = 0;
    rc |= aa_rec_set_str(rec, "destination.ip", ip);
    rc |= aa_rec_set_int(rec, "destination.port", rnum(r, AA_T_PORT, 0));
    if (d) {
        rc |= aa_rec_set_bytes(rec, "destination.domain", d->name, d->name_len, false, counts);
        rc |= aa_rec_set_bytes(rec, "destination.address", d->name, d->name_len, false, counts);
    } else {
        rc |= aa_rec_set_str(rec, "destination.address", ip);
    }
    rc |= aa_rec_set_str(rec, "network.transport", aa_net_transport_name(type, proto));
    rc |= aa_rec_set_str(rec, "network.type", family == AF_INET ? "ipv4" : "ipv6");
    if (proto > 0)
        rc |= aa_rec_set_num_str(rec, "network.iana_number", proto);
    rc |= aa_rec_set_str(rec, "network.direction", "egress");
    if (ret != 0 && err) {
        char b[16];
        rc |= aa_rec_set_str(rec, "error.code", aa_errno_name(err, b));
    }
    rc |= aa_rec_set_bytes(rec, "audit.syscall", r->str[AA_T_API].p ?: "", r->str[AA_T_API].n,
                           false, counts);
    if (d && d->ref[0])
        rc |= aa_rec_set_str(rec, "audit.dns_ref", d->ref);
    rc |= aa_rec_set_str(rec, "audit.source", "shim");
    if (ch->bs) {
        /* the backstop saw this call too: one record (this one), marked so */
        char api[16] = "", bsref[AA_REF_LEN] = "";
        if (r->str[AA_T_API].p && r->str[AA_T_API].n < sizeof api)
            memcpy(api, r->str[AA_T_API].p, r->str[AA_T_API].n);
        int seen = aa_backstop_claim_connect(ch->bs, peer, api, family, addr.p,
                                             (int)rnum(r, AA_T_PORT, 0), bsref, sizeof bsref);
        if (seen)
            rc |= aa_rec_set_bool(rec, "audit.seccomp", true);
        if (seen == 2 && bsref[0])
            rc |= aa_rec_set_str(rec, "audit.seccomp_ref", bsref);
    }
    if (rc) {
        json_object_put(rec);
        counts->lost++;
        return -ENOMEM;
    }
    (void)aa_session_emit(ch->s, rec);
    json_object_put(rec);
    return 0;
}

/* ---- sockets ------------------------------------------------------------------- */

static void
conn_free(struct aa_channel *ch, struct aa_conn *c)
{
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else if (ch->conns == c)
        ch->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->state == CONN_RESULT && ch->n_parked > 0)
        ch->n_parked--;
    if (c->fd >= 0)
        (void)close(c->fd); /* never dup'ed: closing also leaves the epoll set */
    free(c->buf);
    free(c->attempt);
    free(c);
}

static int conn_read(struct aa_channel *ch, struct aa_conn *c);
static int do_dgram(struct aa_channel *ch);

static void
timer_arm(struct aa_channel *ch)
{
    if (ch->tarmed || ch->tfd < 0)
        return;
    struct itimerspec its = {.it_value = {.tv_nsec = 50 * 1000000}};
    ch->tarmed = timerfd_settime(ch->tfd, 0, &its, NULL) == 0;
}

/* After conn_read left c open: wait for the rest of an incomplete report, or
 * park an acknowledged connection.  Returns 0 or -errno. */
static int
conn_after(struct aa_channel *ch, struct aa_conn *c)
{
    if (c->state != CONN_ATTEMPT) {
        timer_arm(ch); /* parked (CONN_RESULT) */
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = c};
    if (epoll_ctl(ch->epfd, c->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        int r = -errno;
        conn_free(ch, c); /* the shim reads EOF: EACCES */
        return r;
    }
    c->in_ep = true;
    return 0;
}

/* Read parked connections (of process pid, or all for pid 0): EOF frees them,
 * a result message is recorded.  Returns 0 or -errno. */
static int
parked_scan(struct aa_channel *ch, pid_t pid)
{
    bool left = false;
    for (struct aa_conn *c = ch->conns, *next; c; c = next) {
        next = c->next; /* c may be freed */
        if (c->state != CONN_RESULT || (pid > 0 && c->pid != pid))
            continue;
        int r = conn_read(ch, c);
        if (r < 0)
            return r;
        left |= r == 1;
    }
    if (left || pid > 0)
        timer_arm(ch);
    return 0;
}

static int
do_timer(struct aa_channel *ch)
{
    uint64_t ticks;
    if (read(ch->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return 0;
    ch->tarmed = false;
    return parked_scan(ch, 0);
}

/* One connection per call: the listener is level-triggered in the epoll set,
 * so a second pending connection is seen at once by the next poll, and after
 * an ack the wrapper goes back to sleep without a useless accept4. */
static int
do_accept(struct aa_channel *ch)
{
    /* an exec storm parks a connection per exec until the timer looks:
     * free those already at EOF before they use up the descriptors */
    channel_budget(ch);
    if (ch->n_parked >= ch->park_scan_at) {
        int r = parked_scan(ch, 0);
        if (r < 0)
            return r;
    }
    bool reclaimed = false;
    for (;;) {
        int fd = accept4(ch->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
                return 0;
            if (fd_short(errno) && !reclaimed && ch->n_parked > 0) {
                reclaimed = true; /* descriptors held by parked connections */
                int r = parked_scan(ch, 0);
                if (r < 0)
                    return r;
                continue;
            }
            if (fd_short(errno))
                return 0; /* retried on the next round; the peer waits (backpressure) */
            return -errno;
        }
        pid_t peer = 0;
        int m = ch->no_peerpidfd ? -1 : member_peer(ch, fd, &peer);
        if (m == -2 && ch->n_parked > 0) {
            (void)parked_scan(ch, 0);
            m = member_peer(ch, fd, &peer);
        }
        if (m == -2 && member_evict(ch, 8) > 0) /* then the cache's own */
            m = member_peer(ch, fd, &peer);
        if (m == -1) {
            ch->no_peerpidfd = true; /* this kernel: the /proc path from now on */
            struct ucred cred = {.pid = 0};
            socklen_t cl = sizeof cred;
            m = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && member(ch, cred.pid);
            peer = cred.pid;
        }
        if (m == -2) {
            /* a member, perhaps, but no descriptor left to tell: the exec is
             * refused (the shim reads EOF: EACCES) and counted, not hidden */
            aa_session_counts(ch->s)->denied++;
            aa_session_counts(ch->s)->lost++;
            (void)close(fd);
            continue;
        }
        if (m != 1) {
            (void)close(fd); /* the shim reads EOF: EACCES, nothing recorded */
            continue;
        }
        struct aa_conn *c = calloc(1, sizeof *c);
        if (!c) {
            (void)close(fd);
            return -ENOMEM;
        }
        c->fd = fd;
        c->pid = peer;
        /* records of one process stay in order: its earlier exec first */
        int r = parked_scan(ch, c->pid);
        c->next = ch->conns;
        if (ch->conns)
            ch->conns->prev = c;
        ch->conns = c;
        if (r < 0)
            return r;
        /* what this process reported by datagram before it came to exec
         * (a connect, a lookup) is already queued: record it first, so
         * its records keep their order even when the epoll set hands us
         * the listener before the datagram socket */
        int dr = do_dgram(ch); /* its failure must not leave this exec waiting */
        /* the report usually follows the connect at once */
        r = conn_read(ch, c);
        if (r == 1)
            r = conn_after(ch, c);
        return r < 0 ? r : dr < 0 ? dr : 0;
    }
}

/* Read what is queued on one exec connection.  Returns 1 when the connection
 * is still open, 0 when it was freed, or -errno (internal failure, freed or
 * not). */
static int
conn_read(struct aa_channel *ch, struct aa_conn *c)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    for (;;) {
        if (c->cap - c->len < AA_PROTO_CHUNK) {
            size_t nc = c->cap ? c->cap * 2 : 2 * AA_PROTO_CHUNK;
            while (nc - c->len < AA_PROTO_CHUNK)
                nc *= 2;
            char *nb = realloc(c->buf, nc);
            if (!nb) {
                conn_free(ch, c);
                counts->lost++;
                return -ENOMEM;
            }
            c->buf = nb;
            c->cap = nc;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 1;
            n = 0; /* ECONNRESET and the like: treat as EOF */
        }
        if (n == 0) {
            if (c->len > 0)
                counts->lost++; /* the peer died in the middle of a report */
            conn_free(ch, c);
            return 0;
        }
        c->len += (size_t)n;
        while (c->len >= sizeof(struct aa_proto_hdr)) {
            struct aa_proto_hdr h;
            memcpy(&h, c->buf, sizeof h);
            if (h.magic != AA_PROTO_MAGIC || h.version != AA_PROTO_VERSION ||
                h.len > AA_PROTO_MAX_PAYLOAD ||
                (h.type != AA_MSG_EXEC && h.type != AA_MSG_EXEC_RESULT) ||
                (h.type == AA_MSG_EXEC && c->state != CONN_ATTEMPT) ||
                (h.type == AA_MSG_EXEC_RESULT && c->state != CONN_RESULT)) {
                counts->lost++;
                conn_free(ch, c);
                return 0;
            }
            size_t need = sizeof h + h.len;
            if (c->len < need)
                break;
            int r = h.type == AA_MSG_EXEC
                        ? handle_exec(ch, c, c->buf + sizeof h, h.len)
                        : handle_exec_result(ch, c, c->buf + sizeof h, h.len);
            memmove(c->buf, c->buf + need, c->len - need);
            c->len -= need;
            if (r == -ENOMEM)
                return r;
            if (r < 0) {
                conn_free(ch, c);
                return 0;
            }
            if (c->state == CONN_DONE) {
                conn_free(ch, c);
                return 0;
            }
            /* acknowledged, nothing more queued: the exec is on its way
             * and usually waits for this CPU (the ack's wake-up is a
             * synchronous one): no further recv, park at once */
            if (h.type == AA_MSG_EXEC && c->len == 0)
                return 1;
        }
    }
}

static int
do_dgram(struct aa_channel *ch)
{
    struct aa_counts *counts = aa_session_counts(ch->s);
    for (;;) {
        char buf[AA_PROTO_DGRAM_MAX + 64];
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
        } cbuf;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf.b,
                            .msg_controllen = sizeof cbuf.b};
        ssize_t n = recvmsg(ch->dfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -errno;
        }
        struct ucred cred = {.pid = 0};
        cleanup_fd int pidfd = -1; /* SCM_PIDFD: installed for us, closed here */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET)
                continue;
            if (cm->cmsg_type == SCM_CREDENTIALS && cm->cmsg_len >= CMSG_LEN(sizeof cred))
                memcpy(&cred, CMSG_DATA(cm), sizeof cred);
            else if (cm->cmsg_type == AA_SCM_PIDFD && cm->cmsg_len >= CMSG_LEN(sizeof(int)) &&
                     pidfd < 0)
                memcpy(&pidfd, CMSG_DATA(cm), sizeof(int));
        }
        int m = member_dgram(ch, cred.pid, &pidfd);
        if (m == -1)
            counts->lost++; /* the sender is gone and cannot be told from a stranger */
        if (m != 1)
            continue; /* not ours: cannot inject */
        struct aa_proto_hdr h;
        if ((size_t)n < sizeof h || (mh.msg_flags & MSG_TRUNC)) {
            counts->lost++;
            continue;
        }
        memcpy(&h, buf, sizeof h);
        if (h.magic != AA_PROTO_MAGIC || h.version != AA_PROTO_VERSION ||
            h.len != (size_t)n - sizeof h) {
            counts->lost++;
            continue;
        }
        struct report r;
        int r0 = report_parse(buf + sizeof h, h.len, &r);
        int rc = 0;
        if (r0 < 0)
            counts->lost++;
        else if (h.type == AA_MSG_CONNECT)
            rc = handle_connect(ch, cred.pid, &r);
        else if (h.type == AA_MSG_DNS)
            rc = handle_dns(ch, cred.pid, &r);
        else
            counts->lost++;
        report_free(&r);
        if (rc == -ENOMEM)
            return rc;
    }
}

static int
pump(struct aa_channel *ch, int max_rounds)
{
    for (int round = 0; max_rounds < 0 || round < max_rounds; round++) {
        struct epoll_event ev[32];
        int k = epoll_wait(ch->epfd, ev, (int)AA_ARRAY_SIZE(ev), 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return 0;
        bool accepted = false;
        for (int i = 0; i < k; i++) {
            int r;
            if (ev[i].data.ptr == &ch->lfd)
                accepted = true, r = do_accept(ch);
            else if (ev[i].data.ptr == &ch->dfd)
                r = do_dgram(ch);
            else if (ev[i].data.ptr == &ch->tfd)
                r = do_timer(ch);
            else if ((r = conn_read(ch, ev[i].data.ptr)) == 1)
                r = conn_after(ch, ev[i].data.ptr);
            if (r < 0)
                return r;
        }
        /* an exec was just let go and waits for this CPU: sleep in the
         * caller's poll (which returns at once if more is pending) rather
         * than look again here */
        if (accepted && max_rounds >= 0)
            return 0;
    }
    return 0;
}

/* ---- public interface ------------------------------------------------------------- */

static int
bind_abstract(int fd, const char *base, char suffix)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t bl = strlen(base);
    if (bl + 3 > sizeof a.sun_path)
        return -ENAMETOOLONG;
    memcpy(a.sun_path + 1, base, bl);
    a.sun_path[1 + bl] = '/';
    a.sun_path[2 + bl] = suffix;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 3 + bl);
    if (bind(fd, (struct sockaddr *)&a, len) < 0)
        return -errno;
    return 0;
}

int
aa_channel_open(struct aa_session *s, struct aa_channel **ret)
{
    struct aa_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return -ENOMEM;
    ch->s = s;
    ch->epfd = ch->lfd = ch->dfd = ch->tfd = -1;
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        free(ch);
        return -EIO;
    }
    char hex[17];
    aa_hex(rnd, sizeof rnd, hex);
    /* 10 bytes: the address "\0<base>/x" is then 15 bytes long, shorter than
     * any inet sockaddr (16), so the backstop's filter (connect with
     * addrlen >= 16) never stops the shim's own connects to us */
    (void)snprintf(ch->base, sizeof ch->base, "aa%.8s", hex);

    int r;
    ch->epfd = epoll_create1(EPOLL_CLOEXEC);
    ch->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ch->dfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ch->epfd < 0 || ch->lfd < 0 || ch->dfd < 0) {
        r = -errno;
        goto fail;
    }
    int one = 1, rcv = 4 << 20;
    if (setsockopt(ch->dfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
        r = -errno;
        goto fail;
    }
    /* the sender's pidfd with each report, where pidfds identify one
     * process each (pidfs): a report from a process that exited before it
     * was read can still be told from a stranger's (member_dgram) */
    int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
    struct statfs sfs;
    if (self >= 0 && fstatfs(self, &sfs) == 0 && (unsigned long)sfs.f_type == AA_PIDFS_MAGIC &&
        setsockopt(ch->dfd, SOL_SOCKET, AA_SO_PASSPIDFD, &one, sizeof one) == 0)
        ch->dgram_pidfd = true;
    if (self >= 0)
        (void)close(self);
    if (setsockopt(ch->dfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
        (void)setsockopt(ch->dfd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    if ((r = bind_abstract(ch->lfd, ch->base, 'x')) < 0 ||
        (r = bind_abstract(ch->dfd, ch->base, 'd')) < 0)
        goto fail;
    if (listen(ch->lfd, SOMAXCONN) < 0) {
        r = -errno;
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ch->lfd};
    if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->lfd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    ev.data.ptr = &ch->dfd;
    if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->dfd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    ch->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    ev.data.ptr = &ch->tfd;
    if (ch->tfd < 0 || epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->tfd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    *ret = ch;
    return 0;
fail:
    aa_channel_close(ch);
    return r;
}

static int
env_put(char ***envp, char *entry)
{
    if (!entry)
        return -ENOMEM;
    size_t n = 0;
    while ((*envp)[n])
        n++;
    char **nv = realloc(*envp, (n + 2) * sizeof *nv);
    if (!nv) {
        free(entry);
        return -ENOMEM;
    }
    nv[n] = entry;
    nv[n + 1] = NULL;
    *envp = nv;
    return 0;
}

static char *
env_join(const char *name, const char *a, const char *sep, const char *b)
{
    char *out = NULL;
    if (asprintf(&out, "%s=%s%s%s", name, a, b && *b ? sep : "", b ? b : "") < 0)
        return NULL;
    return out;
}

int
aa_channel_child_env(struct aa_channel *ch, const char *shim_path, char ***envp)
{
    if (!ch || !shim_path || !envp || !*envp)
        return -EINVAL;
    /* drop what we set anew; keep an existing LD_PRELOAD after the shim */
    cleanup_free char *old = NULL;
    size_t k = 0;
    for (size_t i = 0; (*envp)[i]; i++) {
        char *e = (*envp)[i];
        if (strncmp(e, "LD_PRELOAD=", 11) == 0) {
            if (!old)
                old = strdup(e + 11);
            free(e);
            continue;
        }
        if (strncmp(e, AA_ENV_SOCKET "=", sizeof AA_ENV_SOCKET) == 0 ||
            strncmp(e, AA_ENV_SHIM "=", sizeof AA_ENV_SHIM) == 0 ||
            strncmp(e, AA_ENV_FLAGS "=", sizeof AA_ENV_FLAGS) == 0) {
            free(e);
            continue;
        }
        (*envp)[k++] = e;
    }
    (*envp)[k] = NULL;
    if (!old) {
        const char *w = getenv("LD_PRELOAD");
        if (w && *w && !(old = strdup(w)))
            return -ENOMEM;
    }
    /* the rest of an inherited preload list, without any copy of the shim */
    cleanup_free char *rest = NULL;
    if (old) {
        rest = calloc(1, strlen(old) + 1);
        if (!rest)
            return -ENOMEM;
        char *save = NULL;
        for (char *tok = strtok_r(old, ": ", &save); tok; tok = strtok_r(NULL, ": ", &save)) {
            const char *bn = strrchr(tok, '/');
            bn = bn ? bn + 1 : tok;
            if (strcmp(tok, shim_path) == 0 || strcmp(bn, "libadmin-audit-shim.so") == 0)
                continue;
            if (*rest)
                strcat(rest, ":");
            strcat(rest, tok);
        }
    }
    int r;
    if ((r = env_put(envp, env_join("LD_PRELOAD", shim_path, ":", rest))) < 0 ||
        (r = env_put(envp, env_join(AA_ENV_SOCKET, ch->base, "", NULL))) < 0 ||
        (r = env_put(envp, env_join(AA_ENV_SHIM, shim_path, "", NULL))) < 0)
        return r;
    if (aa_session_fail_open(ch->s) &&
        (r = env_put(envp, env_join(AA_ENV_FLAGS, "fail-open", "", NULL))) < 0)
        return r;
    return 0;
}

size_t
aa_channel_pollfds(struct aa_channel *ch, struct pollfd *fds, size_t max)
{
    if (!ch || max == 0 || ch->epfd < 0)
        return 0;
    fds[0] = (struct pollfd){.fd = ch->epfd, .events = POLLIN};
    return 1;
}

int
aa_channel_dispatch(struct aa_channel *ch, const struct pollfd *fds, size_t n)
{
    if (!ch)
        return 0;
    /* bounded per call so the poll loop keeps serving signals and timers */
    return pump(ch, 64);
}

int
aa_channel_drain(struct aa_channel *ch)
{
    if (!ch)
        return 0;
    int r = parked_scan(ch, 0);
    if (r == 0)
        r = pump(ch, -1);
    else
        (void)pump(ch, -1);
    /* connects the backstop held back for a shim report that never came */
    (void)aa_backstop_drain(ch->bs);
    /* whatever is still open now will not complete: a report cut short */
    while (ch->conns) {
        if (ch->conns->len > 0)
            aa_session_counts(ch->s)->lost++;
        conn_free(ch, ch->conns);
    }
    return r;
}

void
aa_channel_close(struct aa_channel *ch)
{
    if (!ch)
        return;
    while (ch->conns)
        conn_free(ch, ch->conns);
    for (size_t i = 0; i < AA_DNS_MAP; i++)
        free(ch->dns[i].name);
    for (size_t i = 0; i < AA_MEMBER_CACHE; i++)
        if (ch->members[i].pid > 0)
            (void)close(ch->members[i].pidfd);
    if (ch->epfd >= 0)
        (void)close(ch->epfd);
    if (ch->lfd >= 0)
        (void)close(ch->lfd);
    if (ch->dfd >= 0)
        (void)close(ch->dfd);
    if (ch->tfd >= 0)
        (void)close(ch->tfd);
    free(ch);
}
