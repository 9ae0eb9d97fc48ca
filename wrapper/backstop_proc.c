/* Tracee inspection for the backstop (see backstop_proc.h).  The rule of
 * seccomp_notify_alloc(3) NOTES applies to every caller: copy first, then
 * check the notification id, then use the copy. */
#include "backstop_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

#define BS_PAGE 4096u

int
aa_bsproc_status(pid_t tid, struct aa_bsproc_status *ret)
{
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    char buf[4096];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n < 0 ? -errno : -ESRCH;
    buf[n] = '\0';
    *ret = (struct aa_bsproc_status){.tgid = -1, .ppid = -1, .uid = -1, .euid = -1, .egid = -1};
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        long long a, b;
        if (sscanf(line, "Tgid: %lld", &a) == 1)
            ret->tgid = (pid_t)a;
        else if (sscanf(line, "PPid: %lld", &a) == 1)
            ret->ppid = (pid_t)a;
        else if (sscanf(line, "Uid: %lld %lld", &a, &b) == 2) {
            ret->uid = a;
            ret->euid = b;
        } else if (sscanf(line, "Gid: %*d %lld", &b) == 1)
            ret->egid = b;
        line = nl ? nl + 1 : NULL;
    }
    return ret->tgid > 0 ? 0 : -EIO;
}

static ssize_t
read_mem_file(pid_t tid, uint64_t addr, void *buf, size_t n)
{
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%d/mem", (int)tid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(addr + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got ? (ssize_t)got : -EFAULT;
}

ssize_t
aa_bsproc_read(pid_t tid, uint64_t addr, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (addr == 0)
        return -EFAULT;
    struct iovec local = {.iov_base = buf, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    ssize_t k = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (k >= 0)
        return k ? k : -EFAULT;
    if (errno == ENOSYS || errno == EPERM)
        return read_mem_file(tid, addr, buf, n);
    return -errno;
}

ssize_t
aa_bsproc_read_str(pid_t tid, uint64_t addr, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < cap) {
        /* never cross a page boundary in one read: the next page may be unmapped */
        size_t room = BS_PAGE - (size_t)((addr + len) % BS_PAGE);
        if (room > cap - 1 - len)
            room = cap - 1 - len;
        ssize_t k = aa_bsproc_read(tid, addr + len, buf + len, room);
        if (k < 0) {
            buf[len] = '\0';
            return k;
        }
        char *z = memchr(buf + len, '\0', (size_t)k);
        if (z)
            return (ssize_t)(z - buf);
        len += (size_t)k;
    }
    buf[len] = '\0';
    return -E2BIG;
}

int
aa_bsproc_read_argv(pid_t tid, uint64_t addr, size_t max_args, size_t max_bytes,
                    struct aa_bytes **ret_v, size_t *ret_n, bool *ret_cut)
{
    *ret_v = NULL;
    *ret_n = 0;
    *ret_cut = false;
    if (addr == 0)
        return 0; /* argv NULL: Linux treats it as an empty vector */
    /* pointers, a page at a time */
    size_t cap = 64, n = 0;
    cleanup_free uint64_t *ptrs = malloc(cap * sizeof *ptrs);
    if (!ptrs)
        return -ENOMEM;
    bool end = false;
    while (!end && n < max_args) {
        uint64_t chunk[BS_PAGE / sizeof(uint64_t)];
        uint64_t at = addr + n * sizeof(uint64_t);
        size_t want = BS_PAGE - (size_t)(at % BS_PAGE);
        want -= want % sizeof(uint64_t);
        if (want == 0)
            want = sizeof(uint64_t);
        ssize_t k = aa_bsproc_read(tid, at, chunk, want);
        if (k < (ssize_t)sizeof(uint64_t)) {
            if (n == 0)
                return k < 0 ? (int)k : -EFAULT;
            *ret_cut = true;
            break;
        }
        for (size_t i = 0; i < (size_t)k / sizeof(uint64_t) && n < max_args; i++) {
            if (chunk[i] == 0) {
                end = true;
                break;
            }
            if (n == cap) {
                uint64_t *np = realloc(ptrs, cap * 2 * sizeof *np);
                if (!np)
                    return -ENOMEM;
                ptrs = np;
                cap *= 2;
            }
            ptrs[n++] = chunk[i];
        }
    }
    if (!end)
        *ret_cut = true;
    /* strings into one block: [aa_bytes x n][bytes...] */
    size_t block = n * sizeof(struct aa_bytes) + max_bytes + 1;
    char *mem = malloc(block);
    if (!mem)
        return -ENOMEM;
    struct aa_bytes *v = (struct aa_bytes *)mem;
    char *data = mem + n * sizeof(struct aa_bytes);
    size_t used = 0, got = 0;
    for (size_t i = 0; i < n; i++) {
        size_t room = max_bytes - used + 1;
        if (room < 2) {
            *ret_cut = true;
            break;
        }
        ssize_t k = aa_bsproc_read_str(tid, ptrs[i], data + used, room);
        if (k == -E2BIG) {
            *ret_cut = true;
            k = (ssize_t)strlen(data + used);
        } else if (k < 0) {
            *ret_cut = true;
            break;
        }
        v[got++] = (struct aa_bytes){data + used, (size_t)k};
        used += (size_t)k + 1;
        if (*ret_cut && used >= max_bytes)
            break;
    }
    *ret_v = v;
    *ret_n = got;
    return 0;
}

ssize_t
aa_bsproc_link(pid_t pid, const char *what, char *buf, size_t cap)
{
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    ssize_t n = readlink(path, buf, cap - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return n;
}

int
aa_bsproc_pidfd(pid_t tid, pid_t *ret_tgid)
{
    int pfd = (int)syscall(SYS_pidfd_open, tid, 0);
    if (pfd >= 0) {
        *ret_tgid = tid;
        return pfd;
    }
    if (errno != EINVAL)
        return -errno;
    /* not a thread-group leader: ask procfs whose thread it is */
    struct aa_bsproc_status ps;
    int r = aa_bsproc_status(tid, &ps);
    if (r < 0)
        return r;
    pfd = (int)syscall(SYS_pidfd_open, ps.tgid, 0);
    if (pfd < 0)
        return -errno;
    *ret_tgid = ps.tgid;
    return pfd;
}

int
aa_bsproc_socktype(int pidfd, int fd, int *ret_type, int *ret_proto)
{
    cleanup_fd int sfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (sfd < 0)
        return -errno;
    socklen_t l = sizeof *ret_type;
    if (getsockopt(sfd, SOL_SOCKET, SO_TYPE, ret_type, &l) < 0)
        return -errno;
    l = sizeof *ret_proto;
    if (getsockopt(sfd, SOL_SOCKET, SO_PROTOCOL, ret_proto, &l) < 0)
        *ret_proto = 0;
    return 0;
}

int
aa_bsproc_maps_has(pid_t tgid, const char *name)
{
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%d/maps", (int)tgid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t nl = strlen(name);
    /* stream with an overlap so a name across two reads is still found */
    char buf[16384 + 256];
    size_t keep = 0;
    for (;;) {
        ssize_t k = read(fd, buf + keep, sizeof buf - keep - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return 0;
        size_t len = keep + (size_t)k;
        buf[len] = '\0';
        for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), name, nl)); p++)
            if (p > buf && p[-1] == '/' && (p[nl] == '\n' || p[nl] == '\0' || p[nl] == ' '))
                return 1;
        keep = len < nl + 1 ? len : nl + 1;
        memmove(buf, buf + len - keep, keep);
    }
}
