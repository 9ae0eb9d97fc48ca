/* The kernel backstop (contract §1 "backstop", §2 --seccomp, §7.5).
 *
 * A libseccomp filter, built in the wrapper and loaded in the forked child
 * before it waits for "go" (the wrapper is single-threaded, so fork + load is
 * safe), sends execve, execveat, connect (addrlen >= 16) and sendto (address
 * given, addrlen >= 16) to a user-notification descriptor the child passes
 * to the wrapper over an SCM_RIGHTS socketpair.  io_uring_setup/enter/register
 * fail with ENOSYS (a ring would carry connects past the filter) and any
 * syscall of a foreign architecture (i386 int 0x80, x32) kills the process,
 * as sudo's exec filter does.
 *
 * addrlen < 16 cannot reach an inet peer (the kernel rejects a sockaddr_in
 * shorter than 16 bytes and a sockaddr_in6 shorter than 24), so those calls
 * are not notified: that keeps the shim's own AF_UNIX connects to the
 * wrapper (an abstract name of at most 12 bytes) off the notification path.
 *
 * For each notification: copy what the call names out of the tracee
 * (process_vm_readv), then seccomp_notify_id_valid() (seccomp_notify_alloc(3)
 * NOTES: the copy is only trusted once the id is still valid), then record,
 * then answer SECCOMP_USER_NOTIF_FLAG_CONTINUE -- or EACCES when the record
 * could not be written and the session is fail-closed.  This path audits, it
 * does not enforce: a second thread of the tracee can change the memory
 * between our copy and the kernel's own read (documented limit).
 *
 * One event, one record:
 *   - exec: the shim writes its record and is acked before the real execve
 *     reaches the filter; while that exec is in flight the channel says so
 *     (aa_channel_exec_covered) and the backstop writes nothing.  The command's
 *     first exec is recorded by run.c (audit.source "wrapper"): notifications
 *     from the first child while it still runs the wrapper's image are that.
 *   - connect: the shim reports after the call, with the outcome and the
 *     looked-up name.  A connect from a process that has the shim mapped is
 *     held back (not recorded yet); the shim's report claims it
 *     (aa_backstop_claim_connect) and is then the only record, marked
 *     audit.seccomp = true.  Unclaimed after BS_DEFER_NS (a raw syscall, a
 *     bypassed hook) or at the end of the session it is written with
 *     audit.source "seccomp".  A process without the shim gets its record
 *     before the call proceeds. */
#include "backstop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backstop_proc.h"
#include "channel.h"
#include "record.h"
#include "session.h"
#include "util.h"

#define BS_SHIM_NAME "libadmin-audit-shim.so"
#define BS_DEFER_NS (1000LL * 1000 * 1000) /* wait for the shim's report of a connect */
#define BS_PENDING 256
#define BS_DONE 64
#define BS_DONE_KEEP_NS (30LL * 1000 * 1000 * 1000)
#define BS_CACHE 256
#define BS_ARGS_MAX 32768
#define BS_ARGS_BYTES (1u << 20)
#define BS_BATCH 64
#define BS_REF_LEN 96

struct bs_conn {
    pid_t tgid, tid;
    int sysno, family, port, type, proto;
    bool guessed; /* type from the syscall, not from the socket */
    unsigned char addr[16];
    struct timespec ts; /* when the call was made (the record's @timestamp) */
    long long mono;     /* monotonic ns of the notification */
    char ref[BS_REF_LEN];
};

struct bs_cache {
    pid_t tgid;
    bool loaded;
};

struct aa_backstop {
    struct aa_session *s;   /* borrowed */
    struct aa_channel *ch;  /* borrowed, may be NULL */
    bool enabled, nnp;
    char detail[320];
    scmp_filter_ctx ctx;
    int sp[2]; /* socketpair: [0] wrapper, [1] child */
    int nfd;   /* notify descriptor (wrapper) */
    int tfd;   /* timer for held-back connects */
    bool timer_armed;
    pid_t child;
    dev_t self_dev;
    ino_t self_ino;
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    struct bs_cache cache[BS_CACHE];
    size_t cache_next;
    struct bs_conn pend[BS_PENDING];
    size_t npend;
    struct bs_conn done[BS_DONE];
    size_t done_next;
};

/* ---- helpers ----------------------------------------------------------------- */


static bool
have_cap_sys_admin(void)
{
    cleanup_free char *buf = NULL;
    if (aa_read_file("/proc/self/status", 1 << 16, &buf, NULL) < 0)
        return false;
    const char *p = strstr(buf, "\nCapEff:");
    if (!p)
        return false;
    unsigned long long caps = strtoull(p + 8, NULL, 16);
    return (caps >> 21) & 1; /* CAP_SYS_ADMIN */
}

static int
seccomp_mode_now(void)
{
    cleanup_free char *buf = NULL;
    if (aa_read_file("/proc/self/status", 1 << 16, &buf, NULL) < 0)
        return 0;
    const char *p = strstr(buf, "\nSeccomp:");
    return p ? atoi(p + 9) : 0;
}





/* ---- the filter ------------------------------------------------------------------ */

/* Build the filter context.  Returns NULL (errno set) on failure. */
static scmp_filter_ctx
build_filter(bool nnp)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        errno = ENOMEM;
        return NULL;
    }
    int r = 0;
    /* only the native architecture: anything else (i386, x32) is killed */
    r |= seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    r |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, nnp ? 1 : 0);
    r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
    r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
    r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 1, SCMP_A2(SCMP_CMP_GE, 16));
    r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 2, SCMP_A4(SCMP_CMP_NE, 0),
                          SCMP_A5(SCMP_CMP_GE, 16));
    r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0);
    r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_enter), 0);
    r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_register), 0);
    if (r) {
        seccomp_release(ctx);
        errno = EINVAL;
        return NULL;
    }
    return ctx;
}

/* Can a listener be installed here?  Only asked when this process already
 * runs under a filter (a nested session, a container runtime's profile):
 * the kernel refuses a second listener in one filter chain (EBUSY). */
static bool
probe_listener(bool nnp)
{
    pid_t p = fork();
    if (p < 0)
        return false;
    if (p == 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
            _exit(1);
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, nnp ? 1 : 0);
        if (seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0) < 0 ||
            seccomp_load(ctx) < 0)
            _exit(1);
        _exit(0);
    }
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int
aa_backstop_prepare(struct aa_session *s, enum aa_seccomp_mode mode, struct aa_backstop **ret)
{
    struct aa_backstop *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->s = s;
    b->sp[0] = b->sp[1] = b->nfd = b->tfd = -1;
    *ret = b;
    if (mode == AA_SECCOMP_OFF) {
        (void)snprintf(b->detail, sizeof b->detail, "off (--seccomp off): execs and connects of "
                                                    "processes the shim cannot enter are not seen");
        return 0;
    }
    const char *why = NULL;
    bool cap = have_cap_sys_admin();
    if (seccomp_api_get() < 5)
        why = "off: the kernel has no seccomp user notification";
    else if (!cap && mode == AA_SECCOMP_AUTO)
        why = "off: no CAP_SYS_ADMIN (the filter would need no_new_privs; --seccomp on accepts "
              "that)";
    else if (seccomp_mode_now() != 0 && !probe_listener(!cap))
        why = "off: this process already runs under a seccomp listener (nested session?)";
    if (!why) {
        b->ctx = build_filter(!cap);
        if (!b->ctx)
            why = "off: the filter cannot be built";
    }
    if (!why) {
        struct stat st;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, b->sp) < 0 ||
            (b->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0 ||
            seccomp_notify_alloc(&b->req, &b->resp) < 0 || stat("/proc/self/exe", &st) < 0) {
            int e = errno ? errno : ENOMEM;
            aa_backstop_free(b);
            *ret = NULL;
            return -e;
        }
        b->self_dev = st.st_dev;
        b->self_ino = st.st_ino;
    }
    if (why) {
        if (mode == AA_SECCOMP_ON) {
            aa_backstop_free(b);
            *ret = NULL;
            return -EPERM;
        }
        (void)snprintf(b->detail, sizeof b->detail, "%s", why);
        return 0;
    }
    b->enabled = true;
    b->nnp = !cap;
    (void)snprintf(b->detail, sizeof b->detail,
                   "on: execve, execveat, connect and sendto with an address reported by a "
                   "seccomp user-notification filter; io_uring denied (ENOSYS); foreign-"
                   "architecture syscalls kill the process%s",
                   b->nnp ? "; no_new_privs set (no CAP_SYS_ADMIN): setuid programs do not gain "
                            "privileges"
                          : "");
    return 0;
}

bool
aa_backstop_enabled(const struct aa_backstop *b)
{
    return b && b->enabled;
}

bool
aa_backstop_no_new_privs(const struct aa_backstop *b)
{
    return b && b->enabled && b->nnp;
}

const char *
aa_backstop_detail(const struct aa_backstop *b)
{
    return b ? b->detail : "off";
}

int
aa_backstop_child(struct aa_backstop *b)
{
    if (!b || !b->enabled)
        return 0;
    (void)close(b->sp[0]);
    b->sp[0] = -1;
    int r = seccomp_load(b->ctx);
    if (r < 0)
        return r;
    int fd = seccomp_notify_fd(b->ctx);
    if (fd < 0)
        return fd;
    pid_t me = getpid();
    struct iovec iov = {.iov_base = &me, .iov_len = sizeof me};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cbuf;
    memset(&cbuf, 0, sizeof cbuf);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
                        .msg_controllen = sizeof cbuf.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(b->sp[1], &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    r = n < 0 ? -errno : 0;
    (void)close(fd);
    (void)close(b->sp[1]);
    b->sp[1] = -1;
    return r;
}

int
aa_backstop_parent(struct aa_backstop *b)
{
    if (!b || !b->enabled)
        return 0;
    b->sp[1] = aa_safe_close(b->sp[1]);
    struct pollfd pf = {.fd = b->sp[0], .events = POLLIN};
    int pr;
    do
        pr = poll(&pf, 1, 10000);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
        b->sp[0] = aa_safe_close(b->sp[0]);
        return pr == 0 ? -ETIMEDOUT : -errno;
    }
    pid_t child = 0;
    struct iovec iov = {.iov_base = &child, .iov_len = sizeof child};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cbuf;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
                        .msg_controllen = sizeof cbuf.b};
    ssize_t n;
    do
        n = recvmsg(b->sp[0], &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    int e = n < 0 ? -errno : n != (ssize_t)sizeof child ? -EPROTO : 0;
    b->sp[0] = aa_safe_close(b->sp[0]);
    if (e < 0)
        return e;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len >= CMSG_LEN(sizeof(int)))
            memcpy(&b->nfd, CMSG_DATA(cm), sizeof(int));
    if (b->nfd < 0)
        return -EPROTO;
    b->child = child;
    return 0;
}

void
aa_backstop_attach(struct aa_backstop *b, struct aa_channel *ch)
{
    if (!b || !b->enabled)
        return;
    b->ch = ch;
    if (ch)
        aa_channel_set_backstop(ch, b);
}

/* ---- shim presence (per process, until its next exec) ---------------------------------- */

static bool
shim_loaded(struct aa_backstop *b, pid_t tgid)
{
    for (size_t i = 0; i < BS_CACHE; i++)
        if (b->cache[i].tgid == tgid)
            return b->cache[i].loaded;
    int r = aa_bsproc_maps_has(tgid, BS_SHIM_NAME);
    struct bs_cache *c = &b->cache[b->cache_next++ % BS_CACHE];
    c->tgid = tgid;
    c->loaded = r > 0;
    return c->loaded;
}

/* Cached answer only: true when tgid is known to have the shim. */
static bool
shim_known_loaded(const struct aa_backstop *b, pid_t tgid)
{
    for (size_t i = 0; i < BS_CACHE; i++)
        if (b->cache[i].tgid == tgid)
            return b->cache[i].loaded;
    return false;
}

static void
shim_forget(struct aa_backstop *b, pid_t tgid)
{
    for (size_t i = 0; i < BS_CACHE; i++)
        if (b->cache[i].tgid == tgid)
            b->cache[i].tgid = 0;
}

/* ---- answers ------------------------------------------------------------------------------ */

static void
respond(struct aa_backstop *b, uint64_t id, int err)
{
    memset(b->resp, 0, sizeof *b->resp);
    b->resp->id = id;
    if (err) {
        b->resp->error = -err;
    } else {
        b->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    /* ENOENT: the task died or the call was interrupted (it is restarted and
     * notified again): nothing to answer */
    (void)seccomp_notify_respond(b->nfd, b->resp);
}

/* Emit rec.  Returns 0 (ref set), or -errno. */
static int
emit(struct aa_backstop *b, struct json_object *rec, char ref[BS_REF_LEN])
{
    int r = aa_session_emit(b->s, rec);
    if (r == 0 && ref)
        aa_record_event_id(rec, ref, BS_REF_LEN);
    return r;
}

/* ---- exec ----------------------------------------------------------------------------------- */

static bool
is_first_child_image(struct aa_backstop *b, pid_t tid)
{
    if (tid != b->child || b->child <= 0)
        return false;
    char path[64];
    struct stat st;
    (void)snprintf(path, sizeof path, "/proc/%d/exe", (int)tid);
    if (stat(path, &st) < 0)
        return false;
    if (st.st_dev == b->self_dev && st.st_ino == b->self_ino)
        return true;
    b->child = 0; /* it runs the command now: its next execs are the command's */
    return false;
}

/* The executable as the kernel will resolve it: absolute path, else relative
 * to the cwd (execve, execveat with AT_FDCWD) or to dirfd. */
static void
resolve_exe(pid_t tgid, const char *path, bool at, int dirfd, int flags, char *out, size_t cap)
{
    char base[PATH_MAX];
    out[0] = '\0';
    if (at && path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        char fdn[32];
        (void)snprintf(fdn, sizeof fdn, "fd/%d", dirfd);
        if (aa_bsproc_link(tgid, fdn, out, cap) < 0)
            out[0] = '\0';
        return;
    }
    if (path[0] == '/') {
        (void)snprintf(out, cap, "%s", path);
        return;
    }
    ssize_t n;
    if (at && dirfd != AT_FDCWD) {
        char fdn[32];
        (void)snprintf(fdn, sizeof fdn, "fd/%d", dirfd);
        n = aa_bsproc_link(tgid, fdn, base, sizeof base);
    } else {
        n = aa_bsproc_link(tgid, "cwd", base, sizeof base);
    }
    if (n <= 0) {
        (void)snprintf(out, cap, "%s", path);
        return;
    }
    size_t bl = (size_t)n, pl = strlen(path);
    if (bl == 1 && base[0] == '/')
        bl = 0;
    if (bl + 1 + pl + 1 > cap) { /* does not fit: keep what was passed */
        (void)snprintf(out, cap, "%s", path);
        return;
    }
    memcpy(out, base, bl);
    out[bl] = '/';
    memcpy(out + bl + 1, path, pl + 1);
}

static struct json_object *
exec_record(struct aa_backstop *b, const struct aa_bsproc_status *ps, pid_t tid, bool at,
            const char *path, const char *exe, const char *cwd, const struct aa_bytes *argv,
            size_t argc, bool cut, int read_err)
{
    struct aa_counts *counts = aa_session_counts(b->s);
    struct json_object *rec =
        aa_record_new(aa_session_envelope(b->s), "process.exec", "unknown", NULL, ps->tgid);
    if (!rec)
        return NULL;
    const char *name = strrchr(exe, '/');
    name = name ? name + 1 : exe;
    int rc = 0;
    rc |= aa_rec_set_bytes(rec, "process.executable", exe, strlen(exe), false, counts);
    rc |= aa_rec_set_bytes(rec, "process.name", name, strlen(name), false, counts);
    rc |= aa_rec_set_args(rec, "process.args", argv, argc, counts);
    rc |= aa_rec_set_bytes(rec, "process.working_directory", cwd, strlen(cwd), false, counts);
    rc |= aa_rec_set_int(rec, "process.parent.pid", ps->ppid);
    if (tid != ps->tgid)
        rc |= aa_rec_set_int(rec, "process.thread.id", tid);
    rc |= aa_rec_set_num_str(rec, "process.user.id", ps->euid);
    rc |= aa_rec_set_num_str(rec, "process.real_user.id", ps->uid);
    rc |= aa_rec_set_num_str(rec, "process.group.id", ps->egid);
    rc |= aa_rec_set_str(rec, "audit.exec.api", at ? "execveat" : "execve");
    rc |= aa_rec_set_str(rec, "audit.exec.phase", "attempt");
    rc |= aa_rec_set_bytes(rec, "audit.exec.path_arg", path, strlen(path), true, counts);
    if (cut)
        rc |= aa_rec_set_bool(rec, "audit.truncated", true);
    if (read_err) {
        char eb[16];
        rc |= aa_rec_set_str(rec, "audit.backstop_error", aa_errno_name(read_err, eb));
    }
    rc |= aa_rec_set_str(rec, "audit.source", "seccomp");
    if (rc) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

static void
on_exec(struct aa_backstop *b, const struct seccomp_notif *req)
{
    struct aa_counts *counts = aa_session_counts(b->s);
    bool at = req->data.nr == (int)SCMP_SYS(execveat);
    pid_t tid = (pid_t)req->pid;
    uint64_t path_p = at ? req->data.args[1] : req->data.args[0];
    uint64_t argv_p = at ? req->data.args[2] : req->data.args[1];
    int dirfd = at ? (int)req->data.args[0] : AT_FDCWD;
    int flags = at ? (int)req->data.args[4] : 0;
    char path[PATH_MAX];
    int read_err = 0;
    ssize_t pl = tid > 0 ? aa_bsproc_read_str(tid, path_p, path, sizeof path) : -ESRCH;
    bool cut = pl == -E2BIG;
    if (pl < 0 && !cut) {
        read_err = (int)-pl;
        path[0] = '\0';
    }
    size_t plen = strlen(path);

    /* recorded by the shim (fast path: a single-threaded process asks as itself) */
    if (!read_err && b->ch && aa_channel_exec_covered(b->ch, tid, 0, path, plen)) {
        shim_forget(b, tid);
        respond(b, req->id, 0);
        return;
    }
    if (is_first_child_image(b, tid)) {
        respond(b, req->id, 0); /* run.c recorded the command's exec */
        return;
    }
    struct aa_bsproc_status ps;
    int sr = tid > 0 ? aa_bsproc_status(tid, &ps) : -ESRCH;
    if (sr < 0) {
        ps = (struct aa_bsproc_status){.tgid = tid, .ppid = -1, .uid = -1, .euid = -1, .egid = -1};
        if (!read_err)
            read_err = -sr;
    }
    shim_forget(b, ps.tgid);
    if (!read_err && b->ch && aa_channel_exec_covered(b->ch, ps.tgid, ps.ppid, path, plen)) {
        respond(b, req->id, 0);
        return;
    }

    /* only the backstop sees this one: copy everything, then trust it */
    char exe[PATH_MAX], cwd[PATH_MAX];
    cwd[0] = '\0';
    if (aa_bsproc_link(tid, "cwd", cwd, sizeof cwd) < 0)
        cwd[0] = '\0';
    resolve_exe(ps.tgid, path, at, dirfd, flags, exe, sizeof exe);
    struct aa_bytes *argv = NULL;
    size_t argc = 0;
    bool acut = false;
    int ar = tid > 0 ? aa_bsproc_read_argv(tid, argv_p, BS_ARGS_MAX, BS_ARGS_BYTES, &argv, &argc,
                                           &acut)
                     : -ESRCH;
    if (ar < 0 && !read_err)
        read_err = -ar;
    if (seccomp_notify_id_valid(b->nfd, req->id) != 0) {
        free(argv); /* gone or interrupted: a restarted call is notified again */
        return;
    }
    if (aa_session_broken(b->s) && !aa_session_fail_open(b->s)) {
        free(argv);
        counts->denied++;
        respond(b, req->id, EACCES);
        return;
    }
    counts->execs++;
    counts->shim_unavailable++;
    struct json_object *rec =
        exec_record(b, &ps, tid, at, path, exe, cwd, argv, argc, cut || acut, read_err);
    free(argv);
    int er = rec ? emit(b, rec, NULL) : -ENOMEM;
    if (!rec)
        counts->lost++;
    json_object_put(rec);
    if (er < 0 && !aa_session_fail_open(b->s)) {
        counts->denied++;
        respond(b, req->id, EACCES);
        return;
    }
    respond(b, req->id, 0);
}

/* ---- connect / sendto ----------------------------------------------------------------------- */

static struct json_object *
connect_record(struct aa_backstop *b, const struct bs_conn *c)
{
    struct aa_counts *counts = aa_session_counts(b->s);
    struct json_object *rec =
        aa_record_new(aa_session_envelope(b->s), "network.connect", "unknown", &c->ts, c->tgid);
    if (!rec)
        return NULL;
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(c->family, c->addr, ip, sizeof ip))
        ip[0] = '\0';
    int rc = 0;
    rc |= aa_rec_set_str(rec, "destination.ip", ip);
    rc |= aa_rec_set_int(rec, "destination.port", c->port);
    rc |= aa_rec_set_str(rec, "destination.address", ip);
    rc |= aa_rec_set_str(rec, "network.transport", aa_net_transport_name(c->type, c->proto));
    if (c->guessed)
        rc |= aa_rec_set_bool(rec, "audit.transport_guessed", true);
    rc |= aa_rec_set_str(rec, "network.type", c->family == AF_INET ? "ipv4" : "ipv6");
    if (c->proto > 0)
        rc |= aa_rec_set_num_str(rec, "network.iana_number", c->proto);
    rc |= aa_rec_set_str(rec, "network.direction", "egress");
    if (c->tid != c->tgid)
        rc |= aa_rec_set_int(rec, "process.thread.id", c->tid);
    rc |= aa_rec_set_str(rec, "audit.syscall",
                         c->sysno == (int)SCMP_SYS(sendto) ? "sendto" : "connect");
    rc |= aa_rec_set_str(rec, "audit.source", "seccomp");
    (void)counts;
    if (rc) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

/* Write the record of c.  Returns 0 or -errno (counted). */
static int
write_connect(struct aa_backstop *b, struct bs_conn *c)
{
    struct aa_counts *counts = aa_session_counts(b->s);
    counts->connects++;
    struct json_object *rec = connect_record(b, c);
    if (!rec) {
        counts->lost++;
        return -ENOMEM;
    }
    int r = emit(b, rec, c->ref);
    json_object_put(rec);
    return r;
}

static void
arm(struct aa_backstop *b)
{
    if (b->npend == 0) {
        if (b->timer_armed) {
            struct itimerspec off = {{0, 0}, {0, 0}};
            (void)timerfd_settime(b->tfd, 0, &off, NULL);
            b->timer_armed = false;
        }
        return;
    }
    long long first = b->pend[0].mono;
    for (size_t i = 1; i < b->npend; i++)
        if (b->pend[i].mono < first)
            first = b->pend[i].mono;
    long long at = first + BS_DEFER_NS;
    struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    (void)timerfd_settime(b->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    b->timer_armed = true;
}

/* Write the held-back connect i (and remember it for a late shim report). */
static int
flush_one(struct aa_backstop *b, size_t i)
{
    struct bs_conn c = b->pend[i];
    memmove(&b->pend[i], &b->pend[i + 1], (b->npend - i - 1) * sizeof b->pend[0]);
    b->npend--;
    int r = write_connect(b, &c);
    if (r == 0)
        b->done[b->done_next++ % BS_DONE] = c;
    return r;
}

static void
flush_expired(struct aa_backstop *b, bool all)
{
    long long now = aa_mono_ns();
    for (size_t i = 0; i < b->npend;) {
        if (all || now - b->pend[i].mono >= BS_DEFER_NS)
            (void)flush_one(b, i);
        else
            i++;
    }
    arm(b);
}

static void
on_connect(struct aa_backstop *b, const struct seccomp_notif *req)
{
    struct aa_counts *counts = aa_session_counts(b->s);
    bool is_sendto = req->data.nr == (int)SCMP_SYS(sendto);
    pid_t tid = (pid_t)req->pid;
    int fd = (int)req->data.args[0];
    uint64_t addr_p = is_sendto ? req->data.args[4] : req->data.args[1];
    uint64_t alen = is_sendto ? req->data.args[5] : req->data.args[2];
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        unsigned char raw[128];
    } sa;
    memset(&sa, 0, sizeof sa);
    size_t want = alen < sizeof sa ? (size_t)alen : sizeof sa;
    ssize_t n = tid > 0 ? aa_bsproc_read(tid, addr_p, &sa, want) : -ESRCH;
    if (n < (ssize_t)sizeof(sa_family_t) ||
        (sa.sa.sa_family == AF_INET && (size_t)n < sizeof sa.in4) ||
        (sa.sa.sa_family == AF_INET6 && (size_t)n < sizeof sa.in6) ||
        (sa.sa.sa_family != AF_INET && sa.sa.sa_family != AF_INET6)) {
        /* not an inet peer (AF_UNIX, netlink, ...) or an address the kernel
         * will refuse (EFAULT, EINVAL) as well */
        respond(b, req->id, 0);
        return;
    }
    struct bs_conn c = {.tid = tid, .sysno = (int)req->data.nr, .family = sa.sa.sa_family};
    clock_gettime(CLOCK_REALTIME, &c.ts);
    c.mono = aa_mono_ns();
    if (c.family == AF_INET) {
        memcpy(c.addr, &sa.in4.sin_addr, 4);
        c.port = ntohs(sa.in4.sin_port);
    } else {
        memcpy(c.addr, &sa.in6.sin6_addr, 16);
        c.port = ntohs(sa.in6.sin6_port);
    }
    c.tgid = tid;
    /* a process with the shim reports the call itself, socket type included:
     * hold ours back and spare the descriptor lookup (and, for the main
     * thread of a process already known to have it, the pidfd) */
    cleanup_fd int pfd = -1;
    bool defer = b->ch && shim_known_loaded(b, tid);
    if (!defer) {
        pfd = aa_bsproc_pidfd(tid, &c.tgid);
        defer = b->ch && shim_loaded(b, c.tgid);
    }
    c.type = is_sendto ? SOCK_DGRAM : SOCK_STREAM;
    c.guessed = true;
    if (!defer && pfd >= 0 && aa_bsproc_socktype(pfd, fd, &c.type, &c.proto) == 0)
        c.guessed = false;
    if (seccomp_notify_id_valid(b->nfd, req->id) != 0)
        return;
    if (aa_session_broken(b->s) && !aa_session_fail_open(b->s)) {
        counts->denied++;
        respond(b, req->id, EACCES);
        return;
    }
    if (defer) {
        /* the shim will report it after the call, with the outcome */
        if (b->npend == BS_PENDING)
            (void)flush_one(b, 0);
        b->pend[b->npend++] = c;
        if (!b->timer_armed)
            arm(b);
        respond(b, req->id, 0);
        return;
    }
    int r = write_connect(b, &c);
    if (r < 0 && !aa_session_fail_open(b->s)) {
        counts->denied++;
        respond(b, req->id, EACCES);
        return;
    }
    respond(b, req->id, 0);
}

int
aa_backstop_claim_connect(struct aa_backstop *b, pid_t pid, const char *api, int family,
                          const void *addr, int port, char *ref, size_t reflen)
{
    if (!b || !b->enabled || !api)
        return 0;
    int sysno = strcmp(api, "connect") == 0  ? (int)SCMP_SYS(connect)
                : strcmp(api, "sendto") == 0 ? (int)SCMP_SYS(sendto)
                                             : -1;
    if (sysno < 0)
        return 0;
    size_t alen = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < b->npend; i++) {
        const struct bs_conn *c = &b->pend[i];
        if (c->tgid == pid && c->sysno == sysno && c->family == family && c->port == port &&
            memcmp(c->addr, addr, alen) == 0) {
            memmove(&b->pend[i], &b->pend[i + 1], (b->npend - i - 1) * sizeof b->pend[0]);
            b->npend--;
            return 1;
        }
    }
    long long now = aa_mono_ns();
    for (size_t k = 0; k < BS_DONE; k++) {
        struct bs_conn *c = &b->done[(b->done_next - 1 - k) % BS_DONE];
        if (c->tgid == pid && c->tgid > 0 && c->sysno == sysno && c->family == family &&
            c->port == port && memcmp(c->addr, addr, alen) == 0 &&
            now - c->mono < BS_DONE_KEEP_NS) {
            if (ref && reflen)
                (void)snprintf(ref, reflen, "%s", c->ref);
            c->tgid = 0;
            return 2;
        }
    }
    return 0;
}

int
aa_backstop_drain(struct aa_backstop *b)
{
    if (!b || !b->enabled)
        return 0;
    int first = 0;
    while (b->npend) {
        int r = flush_one(b, 0);
        if (r < 0 && !first)
            first = r;
    }
    arm(b);
    return first;
}

/* ---- the poll loop ---------------------------------------------------------------------------- */

size_t
aa_backstop_pollfds(struct aa_backstop *b, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    if (!b || !b->enabled)
        return 0;
    if (b->nfd >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = b->nfd, .events = POLLIN};
    if (b->tfd >= 0 && b->timer_armed && n < max)
        fds[n++] = (struct pollfd){.fd = b->tfd, .events = POLLIN};
    return n;
}

static int
serve(struct aa_backstop *b)
{
    for (int i = 0; i < BS_BATCH && b->nfd >= 0; i++) {
        if (i > 0) {
            struct pollfd pf = {.fd = b->nfd, .events = POLLIN};
            if (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN))
                return 0;
        }
        memset(b->req, 0, sizeof *b->req);
        if (seccomp_notify_receive(b->nfd, b->req) < 0)
            continue; /* ENOENT: the task went away between poll and receive */
        int nr = b->req->data.nr;
        if (nr == (int)SCMP_SYS(execve) || nr == (int)SCMP_SYS(execveat))
            on_exec(b, b->req);
        else if (nr == (int)SCMP_SYS(connect) || nr == (int)SCMP_SYS(sendto))
            on_connect(b, b->req);
        else
            respond(b, b->req->id, 0);
    }
    return 0;
}

int
aa_backstop_dispatch(struct aa_backstop *b, const struct pollfd *fds, size_t n)
{
    if (!b || !b->enabled)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (fds[i].fd < 0)
            continue;
        if (fds[i].fd == b->nfd) {
            if (fds[i].revents & POLLIN)
                (void)serve(b);
            else if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
                b->nfd = aa_safe_close(b->nfd); /* no task uses the filter any more */
        } else if (fds[i].fd == b->tfd && (fds[i].revents & POLLIN)) {
            uint64_t ticks;
            (void)!read(b->tfd, &ticks, sizeof ticks);
            flush_expired(b, false);
        }
    }
    return 0;
}

void
aa_backstop_free(struct aa_backstop *b)
{
    if (!b)
        return;
    if (b->ctx)
        seccomp_release(b->ctx);
    if (b->req || b->resp)
        seccomp_notify_free(b->req, b->resp);
    (void)aa_safe_close(b->sp[0]);
    (void)aa_safe_close(b->sp[1]);
    (void)aa_safe_close(b->nfd);
    (void)aa_safe_close(b->tfd);
    free(b);
}
