/* Small helpers shared by every wrapper module: cleanup attributes, fd
 * helpers, EINTR loops and the one logging entry point.  Modules return
 * -errno; only main.c and command entry points print. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define AA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void
aa_freep(void *p)
{
    free(*(void **)p);
}
static inline void
aa_closep(int *fd)
{
    if (*fd >= 0) {
        int e = errno;
        (void)close(*fd);
        errno = e;
    }
}
static inline void
aa_fclosep(FILE **f)
{
    if (*f)
        (void)fclose(*f);
}
#define cleanup_free __attribute__((cleanup(aa_freep)))
#define cleanup_fd __attribute__((cleanup(aa_closep)))
#define cleanup_file __attribute__((cleanup(aa_fclosep)))

/* Ownership transfer: returns the value and clears the variable. */
#define AA_TAKE_PTR(p)                                                                             \
    ({                                                                                             \
        __typeof__(p) _aa_tmp = (p);                                                               \
        (p) = NULL;                                                                                \
        _aa_tmp;                                                                                   \
    })
#define AA_TAKE_FD(fd)                                                                             \
    ({                                                                                             \
        int _aa_tmp = (fd);                                                                        \
        (fd) = -1;                                                                                 \
        _aa_tmp;                                                                                   \
    })

/* close(fd) if valid, errno preserved; returns -1 so callers write fd = aa_safe_close(fd). */
int aa_safe_close(int fd);

/* write(2) the whole buffer, retrying EINTR.  A short write that cannot make
 * progress is an error (-EIO); returns 0 or -errno. */
int aa_write_all(int fd, const void *buf, size_t len);

/* Replace path with buf[0..len) atomically: a temporary beside it
 * ("<path>.tmp.<pid>", mode exactly, not the umask's), fsync, rename(2),
 * fsync of the directory.  0 or -errno (-ENOENT: no such directory); on
 * failure path is untouched and no temporary is left. */
int aa_replace_file(const char *path, const void *buf, size_t len, mode_t mode);

/* Read a whole file (at most max bytes, -EFBIG beyond) into a NUL-terminated
 * malloc'ed buffer.  Returns 0 or -errno; *ret_buf owned by the caller. */
int aa_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Diagnostics to stderr prefixed "admin-audit: ".  aa_log_errno returns r
 * (negative errno) so callers can `return aa_log_errno(r, ...)`. */
void aa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int aa_log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Current time as RFC 3339 UTC with microseconds ("2026-03-02T14:03:11.482913Z").
 * buf must hold AA_TIMESTAMP_MAX bytes. */
#define AA_TIMESTAMP_MAX 32
void aa_format_timestamp(const struct timespec *ts, char buf[AA_TIMESTAMP_MAX]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void aa_hex(const unsigned char *in, size_t n, char *out);

/* SHA-256 (libcrypto) of a buffer, as 64 lowercase hex chars + NUL. */
int aa_sha256_hex(const void *buf, size_t len, char out[65]);

/* mkdir -p: create path and its missing parents with mode (existing ones are
 * left alone).  Returns 0 or -errno. */
int aa_mkdir_p(const char *path, mode_t mode);

/* The nearest of the cwd and its ancestors that holds the directory rel
 * (e.g. ".aiwg"): that ancestor, owned, or NULL when none does. */
char *aa_find_upward(const char *rel);

/* The parent pid of pid from /proc/<pid>/stat, -1 when it is gone. */
pid_t aa_proc_ppid(pid_t pid);

/* pid and parent pid of the process behind pidfd, by the PIDFD_GET_INFO
 * ioctl (Linux 6.13+): one syscall instead of a /proc read.  0, or -ESRCH
 * (that process has exited), or another -errno (ENOTTY: kernel too old). */
int aa_pidfd_ids(int pidfd, pid_t *pid, pid_t *ppid);

/* CLOCK_MONOTONIC in nanoseconds. */
long long aa_mono_ns(void);

/* Strip leading/trailing ASCII white space in place; returns s. */
char *aa_strstrip(char *s);

/* Exit codes of the contract (§3). */
enum {
    AA_EXIT_TIMEOUT = 124,
    AA_EXIT_REFUSED = 125,
    AA_EXIT_CANNOT_EXEC = 126,
    AA_EXIT_NOT_FOUND = 127,
    AA_EXIT_USAGE = 64,
};
