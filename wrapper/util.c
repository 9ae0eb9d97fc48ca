#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
aa_safe_close(int fd)
{
    if (fd >= 0) {
        int e = errno;
        (void)close(fd);
        errno = e;
    }
    return -1;
}

int
aa_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
aa_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    size_t cap = 4096, len = 0;
    cleanup_free char *buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap > max)
                return -EFBIG;
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max)
            return -EFBIG;
    }
    buf[len] = '\0';
    *ret_buf = AA_TAKE_PTR(buf);
    if (ret_len)
        *ret_len = len;
    return 0;
}

void
aa_log(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "admin-audit: %s\n", msg);
}

int
aa_log_errno(int r, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    errno = r < 0 ? -r : r;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "admin-audit: %s\n", msg);
    return r;
}

void
aa_format_timestamp(const struct timespec *ts, char buf[AA_TIMESTAMP_MAX])
{
    struct tm tm;
    time_t t = ts->tv_sec;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, AA_TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(buf + n, AA_TIMESTAMP_MAX - n, ".%06ldZ", ts->tv_nsec / 1000);
}

void
aa_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

int
aa_sha256_hex(const void *buf, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -EIO;
    aa_hex(md, 32, out);
    return 0;
}

char *
aa_strstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n\v\f", s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && strchr(" \t\r\n\v\f", s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
    return s;
}

int
aa_mkdir_p(const char *path, mode_t mode)
{
    cleanup_free char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

pid_t
aa_proc_ppid(pid_t pid)
{
    char path[64], buf[512];
    (void)snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* comm may contain spaces and parentheses: the fields follow the last ')'. */
    char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

int
aa_replace_file(const char *path, const void *buf, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -errno;
    int r = fchmod(fd, mode) < 0 ? -errno : 0;
    if (r == 0)
        r = aa_write_all(fd, buf, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    (void)close(fd);
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        (void)unlink(tmp);
        return r;
    }
    char dir[PATH_MAX];
    (void)snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(!slash ? "." : *dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        (void)close(dfd);
    }
    return 0;
}

/* linux/pidfd.h of Linux 6.13, not in older headers (Debian 12 ships 6.1):
 * the kernel fills what it knows and the ioctl number carries the size. */
struct aa_pidfd_info {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    uint32_t spare0[1];
};
#define AA_PIDFD_INFO_PID 1ULL
#define AA_PIDFD_GET_INFO _IOWR(0xFF, 11, struct aa_pidfd_info)

int
aa_pidfd_ids(int pidfd, pid_t *pid, pid_t *ppid)
{
    struct aa_pidfd_info info = {.mask = AA_PIDFD_INFO_PID};
    if (ioctl(pidfd, AA_PIDFD_GET_INFO, &info) < 0)
        return -errno;
    if (!(info.mask & AA_PIDFD_INFO_PID) || info.pid == 0)
        return -ENOTTY;
    *pid = (pid_t)info.pid;
    *ppid = (pid_t)info.ppid;
    return 0;
}

char *
aa_find_upward(const char *rel)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    for (;;) {
        char cand[PATH_MAX * 2];
        (void)snprintf(cand, sizeof cand, "%s/%s", strcmp(cwd, "/") ? cwd : "", rel);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode))
            return strdup(cwd);
        if (strcmp(cwd, "/") == 0)
            return NULL;
        char *slash = strrchr(cwd, '/');
        if (!slash)
            return NULL;
        if (slash == cwd)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

long long
aa_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}
