/* Per-task single-flight lock (see tasklock.h). */
#include "tasklock.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct aa_tasklock {
    int fd;
    char *path;
};

static bool
tasklock_id_ok(const char *id)
{
    if (strncmp(id, "ADM-", 4) != 0)
        return false;
    size_t n = 0;
    for (const char *p = id + 4; *p; p++, n++)
        if (!isdigit((unsigned char)*p))
            return false;
    return n >= 3 && n <= 32;
}

static bool
tasklock_unwritable(int r)
{
    return r == -EACCES || r == -EPERM || r == -EROFS;
}

static int
tasklock_mkdir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (lstat(path, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return 0;
}

/* mkdir -p for the runtime fallback (at most a few levels). */
static int
tasklock_mkdirs(char *path, mode_t mode)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = tasklock_mkdir(path, mode);
        *p = '/';
        if (r < 0)
            return r;
    }
    return tasklock_mkdir(path, mode);
}

static int
tasklock_runtime_path(const char *tasks_dir, const char *task_id, char **ret)
{
    char real[PATH_MAX];
    if (!realpath(tasks_dir, real))
        return -errno;
    char digest[65];
    int r = aa_sha256_hex(real, strlen(real), digest);
    if (r < 0)
        return r;
    digest[16] = '\0';

    cleanup_free char *dir = NULL;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        r = asprintf(&dir, "/run/admin-audit/locks");
    else if (xdg && xdg[0] == '/')
        r = asprintf(&dir, "%s/admin-audit/locks", xdg);
    else
        r = asprintf(&dir, "/tmp/admin-audit-%u/locks", (unsigned)geteuid());
    if (r < 0)
        return -ENOMEM;
    r = tasklock_mkdirs(dir, 0700);
    if (r < 0)
        return r;
    /* Ours alone: in a shared /tmp another user could have made it first. */
    struct stat st;
    if (lstat(dir, &st) < 0)
        return -errno;
    if (st.st_uid != geteuid() || (st.st_mode & 022))
        return -EPERM;
    if (asprintf(ret, "%s/%s-%s.lock", dir, digest, task_id) < 0)
        return -ENOMEM;
    return 0;
}

/* Open (creating) the lock file; read-only is enough for flock when the
 * file belongs to someone else. */
static int
tasklock_open(const char *path, bool *writable)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
    if (fd >= 0) {
        *writable = true;
        return fd;
    }
    if (errno != EACCES && errno != EROFS && errno != EPERM)
        return -errno;
    int e = errno;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -(errno == ENOENT ? e : errno);
    *writable = false;
    return fd;
}

/* The holder writes its line right after taking the lock: give it a moment. */
static void
tasklock_read_holder(int fd, char *holder, size_t holderlen)
{
    if (!holder || holderlen == 0)
        return;
    char buf[256];
    ssize_t n = 0;
    for (int tries = 0; tries < 50; tries++) {
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0 && memchr(buf, '\n', (size_t)n))
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    if (n <= 0) {
        snprintf(holder, holderlen, "unknown");
        return;
    }
    buf[n] = '\0';
    size_t w = strcspn(buf, " \n");
    if (w == 0) {
        snprintf(holder, holderlen, "unknown");
        return;
    }
    buf[w] = '\0';
    snprintf(holder, holderlen, "%s", buf);
}

static int
tasklock_try(const char *path, const char *session_id, struct aa_tasklock **ret, char *holder,
             size_t holderlen)
{
    bool writable = false;
    cleanup_fd int fd = tasklock_open(path, &writable);
    if (fd < 0)
        return fd;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK) {
            tasklock_read_holder(fd, holder, holderlen);
            return -EBUSY;
        }
        return -errno;
    }
    if (writable) {
        char line[256];
        int n = snprintf(line, sizeof(line), "%s %ld\n", session_id, (long)getpid());
        if (n < 0 || (size_t)n >= sizeof(line))
            return -EINVAL;
        if (ftruncate(fd, 0) < 0)
            return -errno;
        int r = aa_write_all(fd, line, (size_t)n); /* fd offset is 0: freshly opened */
        if (r < 0)
            return r;
    }
    struct aa_tasklock *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->path = strdup(path);
    if (!l->path) {
        free(l);
        return -ENOMEM;
    }
    l->fd = AA_TAKE_FD(fd);
    *ret = l;
    return 0;
}

int
aa_tasklock_acquire(const char *tasks_dir, const char *task_id, const char *session_id,
                    struct aa_tasklock **ret, char *holder, size_t holderlen)
{
    if (holder && holderlen > 0)
        holder[0] = '\0';
    if (!tasks_dir || !task_id || !session_id || !ret || !tasklock_id_ok(task_id) ||
        strchr(session_id, '\n') || strchr(session_id, ' '))
        return -EINVAL;

    cleanup_free char *dir = NULL;
    cleanup_free char *path = NULL;
    if (asprintf(&dir, "%s/.locks", tasks_dir) < 0)
        return -ENOMEM;
    int r = tasklock_mkdir(dir, 0755);
    if (r == 0) {
        if (asprintf(&path, "%s/%s.lock", dir, task_id) < 0)
            return -ENOMEM;
        r = tasklock_try(path, session_id, ret, holder, holderlen);
        if (r == 0 || !tasklock_unwritable(r))
            return r;
    } else if (!tasklock_unwritable(r)) {
        return r;
    }

    /* Tasks dir not writable (read-only checkout, image layer): runtime dir. */
    free(path);
    path = NULL;
    r = tasklock_runtime_path(tasks_dir, task_id, &path);
    if (r < 0)
        return r;
    return tasklock_try(path, session_id, ret, holder, holderlen);
}

const char *
aa_tasklock_path(const struct aa_tasklock *l)
{
    return l ? l->path : NULL;
}

void
aa_tasklock_release(struct aa_tasklock *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        /* Clear the holder line first so a reader never names a finished session. */
        (void)!ftruncate(l->fd, 0);
        (void)flock(l->fd, LOCK_UN);
        l->fd = aa_safe_close(l->fd);
    }
    free(l->path);
    free(l);
}
