#include "exectarget.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util.h"

#if __SIZEOF_POINTER__ == 8
#    define AA_ELFCLASS ELFCLASS64
#else
#    define AA_ELFCLASS ELFCLASS32
#endif

/* What the file itself says, independent of who runs it. */
struct target_info {
    dev_t dev;
    ino_t ino;
    struct timespec mtime, ctime;
    bool valid;
    const char *elf_gap; /* NULL: dynamic ELF of our class, or a script with such an interpreter */
    bool caps;           /* security.capability xattr */
};

#define CACHE_SIZE 64
static struct target_info cache[CACHE_SIZE];
static unsigned cache_next;

static bool
same_file(const struct target_info *t, const struct stat *st)
{
    return t->valid && t->dev == st->st_dev && t->ino == st->st_ino &&
           t->mtime.tv_sec == st->st_mtim.tv_sec && t->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           t->ctime.tv_sec == st->st_ctim.tv_sec && t->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* "static binary" / "foreign ELF class" / NULL (enterable) for an ELF file;
 * for "#!" scripts the interpreter is examined once (depth 1). */
static const char *
elf_gap(int fd, int depth)
{
    unsigned char buf[sizeof(Elf64_Ehdr)];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n >= 2 && buf[0] == '#' && buf[1] == '!' && depth == 0) {
        char line[256];
        ssize_t m = pread(fd, line, sizeof line - 1, 2);
        if (m <= 0)
            return NULL;
        line[m] = '\0';
        char *p = line + strspn(line, " \t");
        p[strcspn(p, " \t\n")] = '\0';
        cleanup_fd int ifd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return ifd < 0 ? NULL : elf_gap(ifd, 1);
    }
    if (n < (ssize_t)EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
        return NULL; /* not ELF: the kernel refuses it or binfmt_misc runs it; not flagged */
    if (buf[EI_CLASS] != AA_ELFCLASS)
        return "foreign ELF class";
    if (n < (ssize_t)sizeof(Elf64_Ehdr))
        return NULL;
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 512)
        return NULL;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            return NULL;
        if (ph.p_type == PT_INTERP)
            return NULL;
    }
    return "static binary";
}

int
aa_exec_target_enterable(const char *path, uid_t ruid, gid_t rgid, const char **ret_reason)
{
    struct stat st;
    if (!path || stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    const struct target_info *t = NULL;
    for (unsigned i = 0; i < CACHE_SIZE && !t; i++)
        if (same_file(&cache[i], &st))
            t = &cache[i];
    if (!t) {
        cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return -errno;
        struct target_info *slot = &cache[cache_next++ % CACHE_SIZE];
        *slot = (struct target_info){
            .dev = st.st_dev,
            .ino = st.st_ino,
            .mtime = st.st_mtim,
            .ctime = st.st_ctim,
            .valid = true,
            .elf_gap = elf_gap(fd, 0),
            .caps = fgetxattr(fd, "security.capability", NULL, 0) > 0,
        };
        t = slot;
    }
    const char *reason = t->elf_gap;
    if (!reason && (st.st_mode & S_ISUID) && st.st_uid != ruid)
        reason = "setuid";
    if (!reason && (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != rgid)
        reason = "setgid";
    if (!reason && t->caps && ruid != 0)
        reason = "file capabilities";
    *ret_reason = reason;
    return reason ? 0 : 1;
}
