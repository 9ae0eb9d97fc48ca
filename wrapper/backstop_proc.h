/* What the backstop learns about a notifying task from the kernel: its
 * memory (process_vm_readv, falling back to /proc/<pid>/mem), its status
 * (tgid, parent, ids), its descriptors (pidfd_getfd) and procfs links.
 * Every read is bounded; nothing here blocks on the tracee. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

struct aa_bsproc_status {
    pid_t tgid, ppid;
    long long uid, euid, egid;
};

/* Tgid, PPid, Uid, Gid of task tid from /proc/<tid>/status.
 * Returns 0, -ESRCH (gone) or -EIO (unparsable). */
int aa_bsproc_status(pid_t tid, struct aa_bsproc_status *ret);

/* Copy up to n bytes at addr of task tid into buf.  Returns the number of
 * bytes read (a short count stops at an unmapped page) or -errno. */
ssize_t aa_bsproc_read(pid_t tid, uint64_t addr, void *buf, size_t n);

/* A NUL-terminated string at addr, at most cap - 1 bytes, into buf (always
 * NUL-terminated).  Returns its length, -E2BIG when no NUL was found within
 * cap - 1 bytes (buf holds the cut string), or -errno. */
ssize_t aa_bsproc_read_str(pid_t tid, uint64_t addr, char *buf, size_t cap);

/* An argv-style vector at addr: at most max_args strings, max_bytes in all.
 * *ret_v (owned, one malloc'ed block holding the aa_bytes array and the
 * strings) and *ret_n are set on success; *ret_cut says a limit was hit.
 * Returns 0 or -errno (-EFAULT: the vector itself is unreadable). */
int aa_bsproc_read_argv(pid_t tid, uint64_t addr, size_t max_args, size_t max_bytes,
                        struct aa_bytes **ret_v, size_t *ret_n, bool *ret_cut);

/* readlink of /proc/<pid>/<what> ("cwd", "exe", "fd/3") into buf.
 * Returns its length or -errno. */
ssize_t aa_bsproc_link(pid_t pid, const char *what, char *buf, size_t cap);

/* A pidfd for the process of task tid, and that process's id: tid itself
 * when it leads its thread group (the common case: no procfs read), else
 * the Tgid from /proc/<tid>/status.  Returns the pidfd or -errno. */
int aa_bsproc_pidfd(pid_t tid, pid_t *ret_tgid);

/* SO_TYPE and SO_PROTOCOL of descriptor fd of the process behind pidfd
 * (pidfd_getfd).  Returns 0 or -errno. */
int aa_bsproc_socktype(int pidfd, int fd, int *ret_type, int *ret_proto);

/* true when /proc/<tgid>/maps maps a file whose name is `name`
 * (e.g. "libadmin-audit-shim.so").  Returns 1, 0 or -errno. */
int aa_bsproc_maps_has(pid_t tgid, const char *name);
