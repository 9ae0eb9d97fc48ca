/* libadmin-audit-shim.so: preloaded into the command and every descendant.
 * Reports each exec attempt (and waits for the wrapper's ack: record before
 * effect), each inet connect/sendto/sendmsg and each name lookup to the
 * wrapper over the channel of include/admin-audit/protocol.h.
 *
 * Contract for every hook path (reference/style.md §2.8): no heap, no stdio,
 * no locks, no getenv; errno preserved; all per-call state on the stack or in
 * an mmap scratch; static storage written only by aa_init (the constructor,
 * or the first hook when another library's constructor runs before ours) and
 * by aa_real_get (one idempotent atomic store per real-function slot, on first
 * use: dlsym(RTLD_NEXT) is not paid by processes that never need it);
 * the only mutable state is the TLS depth guard, restored before any real
 * exec (vfork children share it with their parent).  The shim's own I/O goes
 * through syscall(2), never through an exported (hooked) name. */
#include <admin-audit/protocol.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define AA_EXPORT __attribute__((visibility("default")))
#define AA_UNINIT __attribute__((uninitialized))
#define AA_SHIM_BASENAME "libadmin-audit-shim.so"
#define AA_STACK_SCRATCH 16384
#define AA_MAX_DEPTH 4
#define AA_CTL_MAX 16
#define AA_CTL_BUF 4096

extern char **environ;

/* ---- static configuration (written by aa_init only) ---------------------- */

/* The next definition of each hooked name (RTLD_NEXT), resolved lazily on the
 * first call that needs it (aa_real_get): a process that never execs or
 * connects pays no dlsym at all.  Each slot is written with one atomic store
 * of an idempotent value (concurrent first calls store the same pointer), the
 * way glibc's own lazy PLT binding resolves a symbol on first use, including
 * in vfork children and signal handlers. */
static struct {
    void *execve, *execvpe, *fexecve, *execveat, *posix_spawn, *posix_spawnp, *system, *popen;
    void *connect, *sendto, *sendmsg;
    void *getaddrinfo, *gethostbyname, *gethostbyname2, *gethostbyname_r, *gethostbyname2_r;
    void *getnameinfo;
} aa_real;

#define AA_UNRESOLVED ((void *)1) /* dlsym found nothing usable: use the fallback */

enum { AA_STATE_NEW = 0, AA_STATE_INERT = 1, AA_STATE_ACTIVE = 2 };
static volatile int aa_state;
static bool aa_fail_open;
static const char *aa_shim_path; /* inside aa_ctl_buf: one page less to touch */
static size_t aa_shim_path_len;
static struct sockaddr_un aa_addr_x, aa_addr_d;
static socklen_t aa_addr_len; /* same length for both */
static char aa_ctl_buf[AA_CTL_BUF];
static const char *aa_ctl[AA_CTL_MAX]; /* "ADMIN_AUDIT_X=value" inside aa_ctl_buf */
static size_t aa_ctl_n;

static __thread int aa_depth __attribute__((tls_model("initial-exec")));

/* ---- tiny libc-free helpers ------------------------------------------------- */

static size_t
aa_strlen(const char *s)
{
    return s ? strlen(s) : 0;
}

static bool
aa_has_prefix(const char *s, const char *p, size_t n)
{
    return strncmp(s, p, n) == 0;
}

static void
aa_close(int fd)
{
    if (fd >= 0)
        (void)syscall(SYS_close, fd);
}

static int64_t
aa_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- initialisation ---------------------------------------------------------- */

static void *
aa_real_get(void **slot, const char *name, void *self)
{
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!p) {
        int e = errno;
        p = dlsym(RTLD_NEXT, name);
        if (!p || p == self) /* a loop back into ourselves: use the fallback */
            p = AA_UNRESOLVED;
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
        errno = e;
    }
    return p == AA_UNRESOLVED ? NULL : p;
}

/* The real NAME, typed like our hook of the same name, or NULL. */
#define AA_REAL(name) ((__typeof__(&name))aa_real_get(&aa_real.name, #name, (void *)(name)))

static void
aa_init(void)
{
    if (aa_state != AA_STATE_NEW)
        return;
    const char *sock = NULL, *shim = NULL, *flags = NULL;
    size_t used = 0;
    for (char **e = environ; e && *e; e++) {
        const char *v = *e;
        if (v[0] != 'A' || !aa_has_prefix(v, "ADMIN_AUDIT_", 12)) /* cheap first-byte test */
            continue;
        size_t n = strlen(v) + 1;
        if (aa_ctl_n == AA_CTL_MAX || used + n > sizeof aa_ctl_buf)
            continue;
        char *copy = aa_ctl_buf + used;
        memcpy(copy, v, n);
        aa_ctl[aa_ctl_n++] = copy;
        used += n;
        if (aa_has_prefix(copy, AA_ENV_SOCKET "=", sizeof AA_ENV_SOCKET))
            sock = copy + sizeof AA_ENV_SOCKET;
        else if (aa_has_prefix(copy, AA_ENV_SHIM "=", sizeof AA_ENV_SHIM))
            shim = copy + sizeof AA_ENV_SHIM;
        else if (aa_has_prefix(copy, AA_ENV_FLAGS "=", sizeof AA_ENV_FLAGS))
            flags = copy + sizeof AA_ENV_FLAGS;
    }


    size_t sl = aa_strlen(sock), pl = aa_strlen(shim);
    /* "\0" + base + "/x" must fit sun_path */
    if (!sl || !pl || sl + 3 > sizeof aa_addr_x.sun_path || pl >= PATH_MAX) {
        aa_state = AA_STATE_INERT;
        return;
    }
    aa_shim_path = shim;
    aa_shim_path_len = pl;
    aa_addr_x.sun_family = AF_UNIX;
    aa_addr_x.sun_path[0] = '\0';
    memcpy(aa_addr_x.sun_path + 1, sock, sl);
    aa_addr_x.sun_path[1 + sl] = '/';
    aa_addr_d = aa_addr_x;
    aa_addr_x.sun_path[2 + sl] = 'x';
    aa_addr_d.sun_path[2 + sl] = 'd';
    aa_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 3 + sl);
    aa_fail_open = flags && strstr(flags, "fail-open") != NULL;
    aa_state = AA_STATE_ACTIVE;
}

__attribute__((constructor)) static void
aa_ctor(void)
{
    int e = errno;
    aa_init();
    errno = e;
}

/* Hook entry: true when this call is to be audited.  Lazily initialises
 * when a hook runs before our constructor (another library's constructor). */
static bool
aa_enter(void)
{
    if (aa_state == AA_STATE_NEW)
        aa_init();
    if (aa_state != AA_STATE_ACTIVE || aa_depth >= AA_MAX_DEPTH)
        return false;
    aa_depth++;
    return true;
}

static void
aa_leave(void)
{
    aa_depth--;
}

/* ---- the channel ------------------------------------------------------------- */

/* A fresh connected AF_UNIX socket to the wrapper; fd or -errno. */
static int
aa_chan_open(int type, const struct sockaddr_un *addr)
{
    long fd = syscall(SYS_socket, AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (syscall(SYS_connect, (int)fd, addr, aa_addr_len) == 0)
            return (int)fd;
        if (errno != EINTR)
            break;
    }
    int r = -errno;
    aa_close((int)fd);
    return r;
}

static int
aa_sendmsg_all(int fd, struct iovec *iov, size_t n)
{
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
    for (;;) {
        if (syscall(SYS_sendmsg, fd, &mh, MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

/* Streaming writer of one report over SEQPACKET: header + TLV payload cut in
 * messages of at most AA_PROTO_CHUNK bytes.  count mode only sums sizes. */
#define AA_W_IOV 64
#define AA_W_TLV 24
struct aa_writer {
    int fd;
    bool counting;
    int err;
    size_t total; /* counting: payload bytes */
    size_t bytes; /* bytes in the pending message */
    size_t niov, ntlv;
    struct iovec iov[AA_W_IOV];
    struct aa_proto_tlv tlv[AA_W_TLV];
    int64_t ival[AA_W_TLV];
};

static void
aa_w_flush(struct aa_writer *w)
{
    if (w->niov && !w->err) {
        int r = aa_sendmsg_all(w->fd, w->iov, w->niov);
        if (r < 0)
            w->err = r;
    }
    w->niov = w->ntlv = 0;
    w->bytes = 0;
}

static void
aa_w_raw(struct aa_writer *w, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        size_t room = AA_PROTO_CHUNK - w->bytes;
        if (room == 0 || w->niov == AA_W_IOV) {
            aa_w_flush(w);
            continue;
        }
        size_t k = n < room ? n : room;
        w->iov[w->niov].iov_base = (void *)c;
        w->iov[w->niov].iov_len = k;
        w->niov++;
        w->bytes += k;
        c += k;
        n -= k;
    }
}

static void
aa_w_bytes(struct aa_writer *w, uint16_t tag, const void *p, size_t n)
{
    if (w->counting) {
        w->total += sizeof(struct aa_proto_tlv) + n;
        return;
    }
    if (w->ntlv == AA_W_TLV || w->niov + 2 > AA_W_IOV ||
        AA_PROTO_CHUNK - w->bytes < sizeof(struct aa_proto_tlv))
        aa_w_flush(w);
    struct aa_proto_tlv *t = &w->tlv[w->ntlv++];
    t->tag = tag;
    t->reserved = 0;
    t->len = (uint32_t)n;
    aa_w_raw(w, t, sizeof *t);
    aa_w_raw(w, p, n);
}

static void
aa_w_str(struct aa_writer *w, uint16_t tag, const char *s)
{
    if (s)
        aa_w_bytes(w, tag, s, strlen(s));
}

static void
aa_w_int(struct aa_writer *w, uint16_t tag, int64_t v)
{
    if (w->counting) {
        w->total += sizeof(struct aa_proto_tlv) + sizeof v;
        return;
    }
    if (w->ntlv == AA_W_TLV || w->niov + 2 > AA_W_IOV ||
        AA_PROTO_CHUNK - w->bytes < sizeof(struct aa_proto_tlv) + sizeof v)
        aa_w_flush(w);
    size_t i = w->ntlv;
    w->ival[i] = v;
    aa_w_bytes(w, tag, &w->ival[i], sizeof v);
}

/* Datagram builder: fixed buffer; a field that does not fit is cut. */
struct aa_dgram {
    size_t len;
    char buf[AA_PROTO_DGRAM_MAX];
};

static void
aa_d_bytes(struct aa_dgram *d, uint16_t tag, const void *p, size_t n)
{
    struct aa_proto_tlv t = {.tag = tag};
    if (d->len + sizeof t > sizeof d->buf)
        return;
    size_t room = sizeof d->buf - d->len - sizeof t;
    if (n > room)
        n = room;
    t.len = (uint32_t)n;
    memcpy(d->buf + d->len, &t, sizeof t);
    memcpy(d->buf + d->len + sizeof t, p, n);
    d->len += sizeof t + n;
}

static void
aa_d_int(struct aa_dgram *d, uint16_t tag, int64_t v)
{
    aa_d_bytes(d, tag, &v, sizeof v);
}

static void
aa_d_str(struct aa_dgram *d, uint16_t tag, const char *s)
{
    if (s)
        aa_d_bytes(d, tag, s, strlen(s));
}

static void
aa_d_begin(struct aa_dgram *d, uint16_t type, const char *api)
{
    struct aa_proto_hdr h = {.magic = AA_PROTO_MAGIC, .version = AA_PROTO_VERSION, .type = type};
    memcpy(d->buf, &h, sizeof h);
    d->len = sizeof h;
    aa_d_str(d, AA_T_API, api);
    aa_d_int(d, AA_T_PID, (int64_t)syscall(SYS_getpid));
    aa_d_int(d, AA_T_TID, (int64_t)syscall(SYS_gettid));
}

static void
aa_d_send(int fd, struct aa_dgram *d)
{
    struct aa_proto_hdr h;
    memcpy(&h, d->buf, sizeof h);
    h.len = (uint32_t)(d->len - sizeof h);
    memcpy(d->buf, &h, sizeof h);
    struct iovec iov = {.iov_base = d->buf, .iov_len = d->len};
    (void)aa_sendmsg_all(fd, &iov, 1);
}

/* ---- scratch arena: stack first, mmap when larger -------------------------- */

struct aa_arena {
    char *base;
    size_t cap, used;
    bool mapped;
};

static int
aa_arena_init(struct aa_arena *a, char *stackbuf, size_t stackcap, size_t need)
{
    a->used = 0;
    if (need <= stackcap) {
        a->base = stackbuf;
        a->cap = stackcap;
        a->mapped = false;
        return 0;
    }
    void *p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    a->base = p;
    a->cap = need;
    a->mapped = true;
    return 0;
}

static void *
aa_arena_alloc(struct aa_arena *a, size_t n)
{
    size_t off = (a->used + 7) & ~(size_t)7;
    if (off > a->cap || n > a->cap - off)
        return NULL;
    a->used = off + n;
    return a->base + off;
}

static void
aa_arena_done(struct aa_arena *a)
{
    if (a->mapped)
        (void)munmap(a->base, a->cap);
    a->mapped = false;
}

static char *
aa_arena_strdup(struct aa_arena *a, const char *s, size_t n)
{
    char *d = aa_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- exec: environment repair, path resolution, report ---------------------- */

enum aa_exec_kind {
    AA_K_EXECVE,   /* real execve(path) */
    AA_K_EXECVPE,  /* real execvpe(file): PATH search */
    AA_K_FEXECVE,  /* real fexecve(fd) */
    AA_K_EXECVEAT, /* real execveat(dirfd, path, flags) */
    AA_K_SPAWN,    /* posix_spawn */
    AA_K_SPAWNP,   /* posix_spawnp */
    AA_K_SHELL,    /* system/popen: record only */
};

struct aa_exec_call {
    const char *api;
    enum aa_exec_kind kind;
    const char *path; /* path/file argument, NULL for fexecve */
    char *const *argv;
    char *const *envp;
    int fd, flags; /* fexecve/execveat */
    /* posix_spawn */
    pid_t *pidp;
    const posix_spawn_file_actions_t *fa;
    const posix_spawnattr_t *attr;
};

static bool
aa_is_ctl_name(const char *e)
{
    return aa_has_prefix(e, "ADMIN_AUDIT_", 12);
}

static bool
aa_is_our_preload(const char *tok, size_t n)
{
    static const size_t bl = sizeof AA_SHIM_BASENAME - 1;
    if (n == aa_shim_path_len && memcmp(tok, aa_shim_path, n) == 0)
        return true;
    return n >= bl && memcmp(tok + n - bl, AA_SHIM_BASENAME, bl) == 0 &&
           (n == bl || tok[n - bl - 1] == '/');
}

static size_t
aa_vec_count(char *const *v)
{
    size_t n = 0;
    if (v)
        while (v[n])
            n++;
    return n;
}

static size_t
aa_vec_bytes(char *const *v, size_t n)
{
    /* per element: the pointer (8), the copy with its NUL, and up to 7 bytes
     * of alignment padding before the next arena allocation */
    size_t b = 0;
    for (size_t i = 0; i < n; i++)
        b += 8 + strlen(v[i]) + 1 + 7;
    return b;
}

/* The caller's envp with LD_PRELOAD (shim first, other entries kept) and our
 * ADMIN_AUDIT_* control variables restored.  NULL on arena exhaustion. */
static char **
aa_build_envp(struct aa_arena *a, char *const *envp, size_t envc)
{
    char **out = aa_arena_alloc(a, (envc + aa_ctl_n + 2) * sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    const char *old = NULL;
    for (size_t i = 0; i < envc; i++) {
        const char *e = envp[i];
        if (aa_has_prefix(e, "LD_PRELOAD=", 11)) {
            if (!old)
                old = e + 11;
            continue;
        }
        if (aa_is_ctl_name(e))
            continue;
        if (!(out[k++] = aa_arena_strdup(a, e, strlen(e))))
            return NULL;
    }
    size_t ol = aa_strlen(old);
    char *lp = aa_arena_alloc(a, 11 + aa_shim_path_len + ol + 2);
    if (!lp)
        return NULL;
    memcpy(lp, "LD_PRELOAD=", 11);
    memcpy(lp + 11, aa_shim_path, aa_shim_path_len);
    size_t pos = 11 + aa_shim_path_len;
    for (size_t i = 0; i < ol;) {
        size_t j = i;
        while (j < ol && old[j] != ':' && old[j] != ' ')
            j++;
        if (j > i && !aa_is_our_preload(old + i, j - i)) {
            lp[pos++] = ':';
            memcpy(lp + pos, old + i, j - i);
            pos += j - i;
        }
        i = j + 1;
    }
    lp[pos] = '\0';
    out[k++] = lp;
    for (size_t i = 0; i < aa_ctl_n; i++)
        out[k++] = (char *)aa_ctl[i];
    out[k] = NULL;
    return out;
}

static const char *
aa_environ_get(const char *name, size_t n)
{
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static bool
aa_is_exec_file(const char *p)
{
    struct stat st;
    if (syscall(SYS_faccessat, AT_FDCWD, p, X_OK, 0) != 0)
        return false;
    if (syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0) != 0)
        return false;
    return S_ISREG(st.st_mode);
}

/* Join a + "/" + b into out (cap bytes); false when it does not fit. */
static bool
aa_join(char *out, size_t cap, const char *a, size_t al, const char *b, size_t bl)
{
    if (al + 1 + bl + 1 > cap)
        return false;
    memcpy(out, a, al);
    out[al] = '/';
    memcpy(out + al + 1, b, bl);
    out[al + 1 + bl] = '\0';
    return true;
}

static void
aa_absolutize(char *out, size_t cap, const char *cwd, size_t cwdl, const char *p)
{
    size_t pl = strlen(p);
    if (p[0] == '/' || cwdl == 0) {
        if (pl + 1 <= cap)
            memcpy(out, p, pl + 1);
        else
            out[0] = '\0';
        return;
    }
    while (pl >= 2 && p[0] == '.' && p[1] == '/') {
        p += 2;
        pl -= 2;
        while (pl && *p == '/')
            p++, pl--;
    }
    if (!aa_join(out, cap, cwd, cwdl, p, pl))
        out[0] = '\0';
}

/* PATH search as glibc's execvpe does it (PATH of the current environment,
 * default "/bin:/usr/bin", an empty element is the current directory). */
static void
aa_search_path(char *out, size_t cap, const char *cwd, size_t cwdl, const char *file)
{
    if (!*file) {
        out[0] = '\0';
        return;
    }
    if (strchr(file, '/')) {
        aa_absolutize(out, cap, cwd, cwdl, file);
        return;
    }
    const char *path = aa_environ_get("PATH", 4);
    if (!path)
        path = "/bin:/usr/bin";
    size_t fl = strlen(file);
    AA_UNINIT char cand[PATH_MAX];
    const char *p = path;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t dl = end ? (size_t)(end - p) : strlen(p);
        bool ok = dl ? aa_join(cand, sizeof cand, p, dl, file, fl)
                     : aa_join(cand, sizeof cand, cwd, cwdl, file, fl);
        if (ok && aa_is_exec_file(cand)) {
            size_t cl = strlen(cand);
            if (cl + 1 <= cap) {
                memcpy(out, cand, cl + 1);
                return;
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    /* not found: record the name as given; the exec will fail with ENOENT */
    if (fl + 1 <= cap)
        memcpy(out, file, fl + 1);
    else
        out[0] = '\0';
}

static void
aa_fmt_int(char *out, long v)
{
    char tmp[24];
    size_t n = 0;
    bool neg = v < 0;
    unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = '\0';
}

static void
aa_fd_path(char *out, size_t cap, int fd)
{
    char link[40] = "/proc/self/fd/";
    aa_fmt_int(link + 14, fd);
    long n = syscall(SYS_readlinkat, AT_FDCWD, link, out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
}

struct aa_ids {
    int64_t pid, ppid, uid, euid, egid;
};

static void
aa_exec_fields(struct aa_writer *w, const struct aa_exec_call *c, const struct aa_ids *id,
               const char *exe, const char *cwd, char *const *argv, size_t argc)
{
    aa_w_str(w, AA_T_API, c->api);
    aa_w_int(w, AA_T_PID, id->pid);
    aa_w_int(w, AA_T_PPID, id->ppid);
    aa_w_int(w, AA_T_UID, id->uid);
    aa_w_int(w, AA_T_EUID, id->euid);
    aa_w_int(w, AA_T_GID, id->egid);
    if (c->path)
        aa_w_str(w, AA_T_PATH_ARG, c->path);
    aa_w_str(w, AA_T_EXECUTABLE, exe);
    aa_w_str(w, AA_T_CWD, cwd);
    for (size_t i = 0; i < argc; i++)
        aa_w_str(w, AA_T_ARG, argv[i]);
}

/* Send the attempt and wait for the verdict.  Returns 1 allow (fd open for the
 * result), 0 proceed unrecorded (fail-open), -EACCES deny. */
static int
aa_exec_report(const struct aa_exec_call *c, const char *exe, const char *cwd, char *const *argv,
               size_t argc, int *fdp, struct aa_proto_ack *ack)
{
    *fdp = -1;
    /* everything is computed before the connect: the wrapper wakes up on the
     * connect and finds the report already queued */
    const struct aa_ids id = {
        .pid = (int64_t)syscall(SYS_getpid),
        .ppid = (int64_t)syscall(SYS_getppid),
        .uid = (int64_t)syscall(SYS_getuid),
        .euid = (int64_t)syscall(SYS_geteuid),
        .egid = (int64_t)syscall(SYS_getegid),
    };
    AA_UNINIT struct aa_writer w;
    w.counting = true;
    w.total = 0;
    aa_exec_fields(&w, c, &id, exe, cwd, argv, argc);
    struct aa_proto_hdr h = {.magic = AA_PROTO_MAGIC,
                             .version = AA_PROTO_VERSION,
                             .type = AA_MSG_EXEC,
                             .len = (uint32_t)w.total};
    int fd = aa_chan_open(SOCK_SEQPACKET, &aa_addr_x);
    if (fd < 0)
        return aa_fail_open ? 0 : -EACCES;
    w.counting = false;
    w.fd = fd;
    w.err = 0;
    w.bytes = w.niov = w.ntlv = 0;
    aa_w_raw(&w, &h, sizeof h);
    aa_exec_fields(&w, c, &id, exe, cwd, argv, argc);
    aa_w_flush(&w);
    long n = -1;
    if (!w.err) {
        do
            n = syscall(SYS_recvfrom, fd, ack, sizeof *ack, 0, NULL, NULL);
        while (n < 0 && errno == EINTR);
    }
    if (n == (long)sizeof *ack && ack->hdr.magic == AA_PROTO_MAGIC &&
        ack->hdr.type == AA_MSG_ACK && ack->verdict == AA_VERDICT_ALLOW) {
        if (ack->ref_len > sizeof ack->ref)
            ack->ref_len = 0;
        *fdp = fd;
        return 1;
    }
    aa_close(fd);
    if (n == (long)sizeof *ack && ack->verdict == AA_VERDICT_DENY)
        return -EACCES;
    /* the wrapper vanished mid-report */
    return aa_fail_open ? 0 : -EACCES;
}

static void
aa_exec_result(int fd, const struct aa_proto_ack *ack, int err, pid_t child)
{
    if (fd < 0)
        return;
    struct {
        struct aa_proto_hdr h;
        struct aa_proto_tlv t1;
        int64_t e;
        struct aa_proto_tlv t2;
        int64_t child;
        struct aa_proto_tlv t3;
        char ref[AA_PROTO_REF_MAX];
    } __attribute__((packed)) m;
    size_t rl = ack->ref_len;
    m.h = (struct aa_proto_hdr){.magic = AA_PROTO_MAGIC,
                                .version = AA_PROTO_VERSION,
                                .type = AA_MSG_EXEC_RESULT,
                                .len = (uint32_t)(3 * sizeof(struct aa_proto_tlv) + 16 + rl)};
    m.t1 = (struct aa_proto_tlv){.tag = AA_T_ERRNO, .len = 8};
    m.e = err;
    m.t2 = (struct aa_proto_tlv){.tag = AA_T_CHILD_PID, .len = 8};
    m.child = child;
    m.t3 = (struct aa_proto_tlv){.tag = AA_T_REF, .len = (uint32_t)rl};
    memcpy(m.ref, ack->ref, rl);
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m - sizeof m.ref + rl};
    (void)aa_sendmsg_all(fd, &iov, 1);
}

static int
aa_real_exec(const struct aa_exec_call *c, const char *path, char *const *argv, char *const *envp)
{
    switch (c->kind) {
    case AA_K_EXECVE:
        if (AA_REAL(execve))
            return AA_REAL(execve)(path, argv, envp);
        return (int)syscall(SYS_execve, path, argv, envp);
    case AA_K_EXECVPE:
        if (AA_REAL(execvpe))
            return AA_REAL(execvpe)(path, argv, envp);
        errno = ENOSYS;
        return -1;
    case AA_K_FEXECVE:
        if (AA_REAL(fexecve))
            return AA_REAL(fexecve)(c->fd, argv, envp);
        return (int)syscall(SYS_execveat, c->fd, "", argv, envp, AT_EMPTY_PATH);
    case AA_K_EXECVEAT:
        if (AA_REAL(execveat))
            return AA_REAL(execveat)(c->fd, path, argv, envp, c->flags);
        return (int)syscall(SYS_execveat, c->fd, path, argv, envp, c->flags);
    case AA_K_SPAWN:
        if (!AA_REAL(posix_spawn))
            return ENOSYS;
        return AA_REAL(posix_spawn)(c->pidp, path, c->fa, c->attr, argv, envp);
    case AA_K_SPAWNP:
        if (!AA_REAL(posix_spawnp))
            return ENOSYS;
        return AA_REAL(posix_spawnp)(c->pidp, path, c->fa, c->attr, argv, envp);
    case AA_K_SHELL:
        break;
    }
    return 0;
}

/* The whole exec path.  For the exec family returns -1 with errno (only when
 * the exec failed); for posix_spawn the error number. */
static int
aa_exec(const struct aa_exec_call *c)
{
    int saved = errno;
    size_t argc = aa_vec_count(c->argv), envc = aa_vec_count(c->envp);
    size_t pl = aa_strlen(c->path);
    size_t old_lp = 0;
    for (size_t i = 0; i < envc; i++)
        if (aa_has_prefix(c->envp[i], "LD_PRELOAD=", 11))
            old_lp += strlen(c->envp[i]);
    size_t need = aa_vec_bytes(c->argv, argc) + 8 + aa_vec_bytes(c->envp, envc) +
                  (aa_ctl_n + 3) * 8 + aa_shim_path_len + old_lp + 16 + pl + 1 + 2 * PATH_MAX +
                  256;
    AA_UNINIT char stackbuf[AA_STACK_SCRATCH];
    struct aa_arena a;
    if (aa_arena_init(&a, stackbuf, sizeof stackbuf, need) < 0) {
        aa_leave();
        errno = ENOMEM;
        return c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP ? ENOMEM : -1;
    }
    /* copies: exactly these are recorded and executed */
    char **argv = aa_arena_alloc(&a, (argc + 1) * sizeof *argv);
    char *path = c->path ? aa_arena_strdup(&a, c->path, pl) : NULL;
    char **envp = c->kind == AA_K_SHELL ? NULL : aa_build_envp(&a, c->envp, envc);
    char *cwd = aa_arena_alloc(&a, PATH_MAX);
    char *exe = aa_arena_alloc(&a, PATH_MAX);
    bool ok = argv && (path || !c->path) && (envp || c->kind == AA_K_SHELL) && cwd && exe;
    for (size_t i = 0; ok && i < argc; i++)
        ok = (argv[i] = aa_arena_strdup(&a, c->argv[i], strlen(c->argv[i]))) != NULL;
    if (!ok) {
        aa_arena_done(&a);
        aa_leave();
        errno = ENOMEM;
        return c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP ? ENOMEM : -1;
    }
    argv[argc] = NULL;

    long cl = syscall(SYS_getcwd, cwd, PATH_MAX);
    size_t cwdl = cl > 0 ? (size_t)cl - 1 : 0;
    if (cl <= 0 || cwd[0] != '/') {
        cwd[0] = '\0';
        cwdl = 0;
    }
    switch (c->kind) {
    case AA_K_EXECVPE:
    case AA_K_SPAWNP:
        aa_search_path(exe, PATH_MAX, cwd, cwdl, path);
        break;
    case AA_K_FEXECVE:
        aa_fd_path(exe, PATH_MAX, c->fd);
        break;
    case AA_K_EXECVEAT:
        if ((c->flags & AT_EMPTY_PATH) && !*path) {
            aa_fd_path(exe, PATH_MAX, c->fd);
        } else if (path[0] == '/' || c->fd == AT_FDCWD) {
            aa_absolutize(exe, PATH_MAX, cwd, cwdl, path);
        } else {
            AA_UNINIT char dir[PATH_MAX];
            aa_fd_path(dir, sizeof dir, c->fd);
            aa_absolutize(exe, PATH_MAX, dir, strlen(dir), path);
        }
        break;
    case AA_K_SHELL:
        memcpy(exe, "/bin/sh", 8);
        break;
    default:
        aa_absolutize(exe, PATH_MAX, cwd, cwdl, path);
        break;
    }

    int fd = -1;
    AA_UNINIT struct aa_proto_ack ack;
    int v = aa_exec_report(c, exe, cwd, argv, argc, &fd, &ack);
    if (v < 0) {
        aa_arena_done(&a);
        aa_leave();
        errno = EACCES;
        return c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP ? EACCES : -1;
    }
    if (c->kind == AA_K_SHELL) {
        aa_close(fd);
        aa_arena_done(&a);
        aa_leave();
        errno = saved;
        return 0;
    }
    if (a.mapped)
        (void)mprotect(a.base, a.cap, PROT_READ);
    /* vfork children share this TLS slot with their parent: restore it before
     * an exec that will not return */
    aa_leave();
    errno = saved;
    int rc = aa_real_exec(c, path, argv, envp);
    int err = (c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP) ? rc : errno;
    if (err) {
        aa_depth++;
        aa_exec_result(fd, &ack, err,
                       (c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP) ? 0 : -1);
        aa_depth--;
    }
    aa_close(fd);
    aa_arena_done(&a);
    if (c->kind == AA_K_SPAWN || c->kind == AA_K_SPAWNP) {
        errno = saved;
        return rc;
    }
    errno = err;
    return rc;
}

/* ---- exec family hooks ----------------------------------------------------- */

AA_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
    if (!aa_enter()) {
        if (AA_REAL(execve))
            return AA_REAL(execve)(path, argv, envp);
        return (int)syscall(SYS_execve, path, argv, envp);
    }
    struct aa_exec_call c = {.api = "execve", .kind = AA_K_EXECVE, .path = path,
                             .argv = argv, .envp = envp};
    return aa_exec(&c);
}

AA_EXPORT int
execv(const char *path, char *const argv[])
{
    if (!aa_enter())
        return AA_REAL(execve) ? AA_REAL(execve)(path, argv, environ)
                              : (int)syscall(SYS_execve, path, argv, environ);
    struct aa_exec_call c = {.api = "execv", .kind = AA_K_EXECVE, .path = path,
                             .argv = argv, .envp = environ};
    return aa_exec(&c);
}

AA_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
    if (!aa_enter()) {
        if (AA_REAL(execvpe))
            return AA_REAL(execvpe)(file, argv, envp);
        errno = ENOSYS;
        return -1;
    }
    struct aa_exec_call c = {.api = "execvpe", .kind = AA_K_EXECVPE, .path = file,
                             .argv = argv, .envp = envp};
    return aa_exec(&c);
}

AA_EXPORT int
execvp(const char *file, char *const argv[])
{
    if (!aa_enter()) {
        if (AA_REAL(execvpe))
            return AA_REAL(execvpe)(file, argv, environ);
        errno = ENOSYS;
        return -1;
    }
    struct aa_exec_call c = {.api = "execvp", .kind = AA_K_EXECVPE, .path = file,
                             .argv = argv, .envp = environ};
    return aa_exec(&c);
}

AA_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
    if (!aa_enter()) {
        if (AA_REAL(fexecve))
            return AA_REAL(fexecve)(fd, argv, envp);
        return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    }
    struct aa_exec_call c = {.api = "fexecve", .kind = AA_K_FEXECVE, .argv = argv,
                             .envp = envp, .fd = fd};
    return aa_exec(&c);
}

AA_EXPORT int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    if (!aa_enter()) {
        if (AA_REAL(execveat))
            return AA_REAL(execveat)(dirfd, path, argv, envp, flags);
        return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
    }
    struct aa_exec_call c = {.api = "execveat", .kind = AA_K_EXECVEAT, .path = path,
                             .argv = argv, .envp = envp, .fd = dirfd, .flags = flags};
    return aa_exec(&c);
}

/* execl family: argv from the variadic list (at most 4096 on the stack, more
 * in an mmap'ed vector). */
#define AA_EXECL_STACK 256

static int
aa_execl_common(const char *api, enum aa_exec_kind kind, const char *path, const char *arg0,
                va_list ap, bool with_envp)
{
    va_list cp;
    va_copy(cp, ap);
    size_t n = arg0 ? 1 : 0;
    if (arg0)
        while (va_arg(cp, char *))
            n++;
    va_end(cp);
    AA_UNINIT char *stackv[AA_EXECL_STACK];
    char **argv = stackv;
    size_t bytes = (n + 1) * sizeof(char *);
    if (n + 1 > AA_EXECL_STACK) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            errno = E2BIG;
            return -1;
        }
        argv = p;
    }
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *); /* the last one read is the NULL terminator */
    argv[n] = NULL;
    char *const *envp = environ;
    if (with_envp)
        envp = va_arg(ap, char *const *);
    int rc;
    if (!aa_enter()) {
        if (kind == AA_K_EXECVPE)
            rc = AA_REAL(execvpe) ? AA_REAL(execvpe)(path, argv, envp) : (errno = ENOSYS, -1);
        else
            rc = AA_REAL(execve) ? AA_REAL(execve)(path, argv, envp)
                                : (int)syscall(SYS_execve, path, argv, envp);
    } else {
        struct aa_exec_call c = {.api = api, .kind = kind, .path = path, .argv = argv,
                                 .envp = envp};
        rc = aa_exec(&c);
    }
    if (argv != stackv) {
        int e = errno;
        (void)munmap(argv, bytes);
        errno = e;
    }
    return rc;
}

AA_EXPORT int
execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = aa_execl_common("execl", AA_K_EXECVE, path, arg, ap, false);
    va_end(ap);
    return rc;
}

AA_EXPORT int
execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = aa_execl_common("execlp", AA_K_EXECVPE, file, arg, ap, false);
    va_end(ap);
    return rc;
}

AA_EXPORT int
execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = aa_execl_common("execle", AA_K_EXECVE, path, arg, ap, true);
    va_end(ap);
    return rc;
}

AA_EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
            const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!aa_enter())
        return AA_REAL(posix_spawn) ? AA_REAL(posix_spawn)(pid, path, fa, attr, argv, envp) : ENOSYS;
    struct aa_exec_call c = {.api = "posix_spawn", .kind = AA_K_SPAWN, .path = path,
                             .argv = argv, .envp = envp, .pidp = pid, .fa = fa, .attr = attr};
    return aa_exec(&c);
}

AA_EXPORT int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!aa_enter())
        return AA_REAL(posix_spawnp) ? AA_REAL(posix_spawnp)(pid, file, fa, attr, argv, envp)
                                    : ENOSYS;
    struct aa_exec_call c = {.api = "posix_spawnp", .kind = AA_K_SPAWNP, .path = file,
                             .argv = argv, .envp = envp, .pidp = pid, .fa = fa, .attr = attr};
    return aa_exec(&c);
}

/* system/popen: recorded as "/bin/sh -c CMD" with their api name; the shell
 * they start is preloaded too and records its own execs. */
static int
aa_shell_record(const char *api, const char *cmd)
{
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
    struct aa_exec_call c = {.api = api, .kind = AA_K_SHELL, .path = cmd, .argv = argv,
                             .envp = NULL};
    return aa_exec(&c);
}

AA_EXPORT int
system(const char *cmd)
{
    if (cmd && aa_enter()) {
        if (aa_shell_record("system", cmd) < 0)
            return -1; /* denied: errno EACCES */
    }
    if (!AA_REAL(system)) {
        errno = ENOSYS;
        return -1;
    }
    return AA_REAL(system)(cmd);
}

AA_EXPORT FILE *
popen(const char *cmd, const char *mode)
{
    if (cmd && aa_enter()) {
        if (aa_shell_record("popen", cmd) < 0)
            return NULL;
    }
    if (!AA_REAL(popen)) {
        errno = ENOSYS;
        return NULL;
    }
    return AA_REAL(popen)(cmd, mode);
}

/* ---- network ------------------------------------------------------------------ */

static bool
aa_inet(const struct sockaddr *sa, socklen_t len)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return len >= sizeof(struct sockaddr_in);
    if (sa->sa_family == AF_INET6)
        return len >= sizeof(struct sockaddr_in6);
    return false;
}

enum aa_net_op { AA_OP_CONNECT, AA_OP_SENDTO, AA_OP_SENDMSG };

struct aa_net_call {
    enum aa_net_op op;
    int fd;
    const struct sockaddr *sa;
    socklen_t salen;
    const void *buf;
    size_t len;
    int flags;
    const struct msghdr *msg;
};

static long
aa_net_real(const struct aa_net_call *c)
{
    switch (c->op) {
    case AA_OP_CONNECT:
        if (AA_REAL(connect))
            return AA_REAL(connect)(c->fd, c->sa, c->salen);
        return syscall(SYS_connect, c->fd, c->sa, c->salen);
    case AA_OP_SENDTO:
        if (AA_REAL(sendto))
            return AA_REAL(sendto)(c->fd, c->buf, c->len, c->flags, c->sa, c->salen);
        return syscall(SYS_sendto, c->fd, c->buf, c->len, c->flags, c->sa, c->salen);
    case AA_OP_SENDMSG:
        if (AA_REAL(sendmsg))
            return AA_REAL(sendmsg)(c->fd, c->msg, c->flags);
        return syscall(SYS_sendmsg, c->fd, c->msg, c->flags);
    }
    return -1;
}

static long
aa_net(const struct aa_net_call *c)
{
    if (!aa_enter())
        return aa_net_real(c);
    int saved = errno;
    int cfd = aa_chan_open(SOCK_DGRAM, &aa_addr_d);
    if (cfd < 0) {
        aa_leave();
        if (!aa_fail_open) {
            errno = EACCES; /* fail-closed: nothing leaves unrecorded */
            return -1;
        }
        errno = saved;
        return aa_net_real(c);
    }
    int type = 0, proto = 0;
    socklen_t ol = sizeof proto;
    (void)syscall(SYS_getsockopt, c->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &ol);
    if (proto == IPPROTO_TCP) /* the common cases need no second syscall */
        type = SOCK_STREAM;
    else if (proto == IPPROTO_UDP)
        type = SOCK_DGRAM;
    else {
        ol = sizeof type;
        (void)syscall(SYS_getsockopt, c->fd, SOL_SOCKET, SO_TYPE, &type, &ol);
    }
    errno = saved;
    long rc = aa_net_real(c);
    int err = rc < 0 ? errno : 0;

    static const char *const api[] = {"connect", "sendto", "sendmsg"};
    AA_UNINIT struct aa_dgram d;
    aa_d_begin(&d, AA_MSG_CONNECT, api[c->op]);
    aa_d_int(&d, AA_T_FAMILY, c->sa->sa_family);
    if (c->sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)c->sa;
        aa_d_bytes(&d, AA_T_ADDR, &in->sin_addr, 4);
        aa_d_int(&d, AA_T_PORT, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)c->sa;
        aa_d_bytes(&d, AA_T_ADDR, &in6->sin6_addr, 16);
        aa_d_int(&d, AA_T_PORT, ntohs(in6->sin6_port));
    }
    aa_d_int(&d, AA_T_SOCKTYPE, type);
    aa_d_int(&d, AA_T_PROTOCOL, proto);
    aa_d_int(&d, AA_T_RC, rc < 0 ? -1 : 0);
    aa_d_int(&d, AA_T_ERRNO, err);
    aa_d_send(cfd, &d);
    aa_close(cfd);
    aa_leave();
    errno = rc < 0 ? err : saved;
    return rc;
}

AA_EXPORT int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    if (!aa_inet(sa, len)) {
        if (AA_REAL(connect))
            return AA_REAL(connect)(fd, sa, len);
        return (int)syscall(SYS_connect, fd, sa, len);
    }
    struct aa_net_call c = {.op = AA_OP_CONNECT, .fd = fd, .sa = sa, .salen = len};
    return (int)aa_net(&c);
}

AA_EXPORT ssize_t
sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = addr.__sockaddr__;
    if (!aa_inet(sa, len)) {
        if (AA_REAL(sendto))
            return AA_REAL(sendto)(fd, buf, n, flags, sa, len);
        return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
    }
    struct aa_net_call c = {.op = AA_OP_SENDTO, .fd = fd, .sa = sa, .salen = len, .buf = buf,
                            .len = n, .flags = flags};
    return aa_net(&c);
}

AA_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!msg || !aa_inet(msg->msg_name, msg->msg_namelen)) {
        if (AA_REAL(sendmsg))
            return AA_REAL(sendmsg)(fd, msg, flags);
        return syscall(SYS_sendmsg, fd, msg, flags);
    }
    struct aa_net_call c = {.op = AA_OP_SENDMSG, .fd = fd, .sa = msg->msg_name,
                            .salen = msg->msg_namelen, .msg = msg, .flags = flags};
    return aa_net(&c);
}

/* ---- name lookups (reported, never blocking the call) ---------------------- */

static void
aa_d_ip(struct aa_dgram *d, int family, const void *addr)
{
    unsigned char b[17];
    size_t n = family == AF_INET ? 4 : 16;
    b[0] = family == AF_INET ? 4 : 6;
    memcpy(b + 1, addr, n);
    aa_d_bytes(d, AA_T_DNS_IP, b, n + 1);
}

static void
aa_dns_send(struct aa_dgram *d)
{
    int fd = aa_chan_open(SOCK_DGRAM, &aa_addr_d);
    if (fd >= 0) {
        aa_d_send(fd, d);
        aa_close(fd);
    }
}

static void
aa_dns_hostent(const char *api, const char *name, int qfamily, const struct hostent *h, int herr,
               int64_t t0)
{
    AA_UNINIT struct aa_dgram d;
    aa_d_begin(&d, AA_MSG_DNS, api);
    aa_d_str(&d, AA_T_DNS_NAME, name);
    aa_d_int(&d, AA_T_DNS_QFAMILY, qfamily);
    aa_d_int(&d, AA_T_DNS_HERR, h ? 0 : (herr ? herr : HOST_NOT_FOUND));
    aa_d_int(&d, AA_T_DURATION, aa_now_ns() - t0);
    if (h && h->h_addr_list && (h->h_addrtype == AF_INET || h->h_addrtype == AF_INET6)) {
        for (size_t i = 0; h->h_addr_list[i] && i < AA_PROTO_MAX_IPS; i++)
            aa_d_ip(&d, h->h_addrtype, h->h_addr_list[i]);
    }
    aa_dns_send(&d);
}

AA_EXPORT int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
            struct addrinfo **res)
{
    if (!AA_REAL(getaddrinfo)) {
        aa_init();
        if (!AA_REAL(getaddrinfo))
            return EAI_SYSTEM;
    }
    int64_t t0 = node ? aa_now_ns() : 0;
    int rc = AA_REAL(getaddrinfo)(node, service, hints, res);
    if (!node || !aa_enter())
        return rc;
    int saved = errno;
    AA_UNINIT struct aa_dgram d;
    aa_d_begin(&d, AA_MSG_DNS, "getaddrinfo");
    aa_d_str(&d, AA_T_DNS_NAME, node);
    aa_d_str(&d, AA_T_DNS_SERVICE, service);
    aa_d_int(&d, AA_T_DNS_QFAMILY, hints ? hints->ai_family : AF_UNSPEC);
    aa_d_int(&d, AA_T_DNS_EAI, rc);
    if (rc == EAI_SYSTEM)
        aa_d_int(&d, AA_T_ERRNO, saved);
    aa_d_int(&d, AA_T_DURATION, aa_now_ns() - t0);
    if (rc == 0 && res) {
        /* de-duplicated: getaddrinfo returns one entry per socket type */
        const struct addrinfo *seen[AA_PROTO_MAX_IPS];
        size_t ns = 0;
        for (const struct addrinfo *ai = *res; ai && ns < AA_PROTO_MAX_IPS; ai = ai->ai_next) {
            if (!aa_inet(ai->ai_addr, ai->ai_addrlen))
                continue;
            const void *ip = ai->ai_family == AF_INET
                                 ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                 : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
            size_t il = ai->ai_family == AF_INET ? 4 : 16;
            bool dup = false;
            for (size_t k = 0; k < ns && !dup; k++) {
                const struct addrinfo *o = seen[k];
                const void *oip =
                    o->ai_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)o->ai_addr)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)o->ai_addr)->sin6_addr;
                dup = o->ai_family == ai->ai_family && memcmp(oip, ip, il) == 0;
            }
            if (dup)
                continue;
            seen[ns++] = ai;
            aa_d_ip(&d, ai->ai_family, ip);
        }
    }
    aa_dns_send(&d);
    aa_leave();
    errno = saved;
    return rc;
}

AA_EXPORT struct hostent *
gethostbyname(const char *name)
{
    aa_init();
    if (!AA_REAL(gethostbyname))
        return NULL;
    int64_t t0 = aa_now_ns();
    struct hostent *h = AA_REAL(gethostbyname)(name);
    if (name && aa_enter()) {
        int saved = errno, herr = h_errno;
        aa_dns_hostent("gethostbyname", name, AF_INET, h, herr, t0);
        aa_leave();
        errno = saved;
        h_errno = herr;
    }
    return h;
}

AA_EXPORT struct hostent *
gethostbyname2(const char *name, int af)
{
    aa_init();
    if (!AA_REAL(gethostbyname2))
        return NULL;
    int64_t t0 = aa_now_ns();
    struct hostent *h = AA_REAL(gethostbyname2)(name, af);
    if (name && aa_enter()) {
        int saved = errno, herr = h_errno;
        aa_dns_hostent("gethostbyname2", name, af, h, herr, t0);
        aa_leave();
        errno = saved;
        h_errno = herr;
    }
    return h;
}

AA_EXPORT int
gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                struct hostent **result, int *h_errnop)
{
    aa_init();
    if (!AA_REAL(gethostbyname_r))
        return ENOSYS;
    int64_t t0 = aa_now_ns();
    int rc = AA_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
    if (name && rc != ERANGE && aa_enter()) {
        int saved = errno;
        aa_dns_hostent("gethostbyname_r", name, AF_INET, result ? *result : NULL,
                       h_errnop ? *h_errnop : 0, t0);
        aa_leave();
        errno = saved;
    }
    return rc;
}

AA_EXPORT int
gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                 struct hostent **result, int *h_errnop)
{
    aa_init();
    if (!AA_REAL(gethostbyname2_r))
        return ENOSYS;
    int64_t t0 = aa_now_ns();
    int rc = AA_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
    if (name && rc != ERANGE && aa_enter()) {
        int saved = errno;
        aa_dns_hostent("gethostbyname2_r", name, af, result ? *result : NULL,
                       h_errnop ? *h_errnop : 0, t0);
        aa_leave();
        errno = saved;
    }
    return rc;
}

AA_EXPORT int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
            char *serv, socklen_t servlen, int flags)
{
    aa_init();
    if (!AA_REAL(getnameinfo))
        return EAI_SYSTEM;
    int64_t t0 = aa_now_ns();
    int rc = AA_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
    if (!host || !hostlen || (flags & NI_NUMERICHOST) || !aa_inet(sa, salen) || !aa_enter())
        return rc;
    int saved = errno;
    AA_UNINIT struct aa_dgram d;
    aa_d_begin(&d, AA_MSG_DNS, "getnameinfo");
    aa_d_int(&d, AA_T_DNS_QFAMILY, -1);
    if (sa->sa_family == AF_INET)
        aa_d_ip(&d, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
    else
        aa_d_ip(&d, AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
    aa_d_int(&d, AA_T_DNS_EAI, rc);
    aa_d_int(&d, AA_T_DURATION, aa_now_ns() - t0);
    if (rc == 0)
        aa_d_bytes(&d, AA_T_DNS_ANSWER, host, strnlen(host, hostlen));
    aa_dns_send(&d);
    aa_leave();
    errno = saved;
    return rc;
}
