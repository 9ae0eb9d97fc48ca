/* Can the shim enter the program an exec is about to run?  Contract §7.5:
 * with the backstop off, each exec of a program the shim cannot enter is
 * flagged in its record.  The loader drops or cannot honour LD_PRELOAD for a
 * static binary (no PT_INTERP), an ELF of another class than the shim, and a
 * program run in secure-execution mode (setuid/setgid to another id, file
 * capabilities). */
#pragma once

#include <sys/types.h>

/* Returns 1 when the shim can enter path, 0 when it cannot (*ret_reason a
 * static string: "static binary", "setuid", "setgid", "file capabilities",
 * "foreign ELF class", or the same for a script's interpreter), -errno when
 * it cannot tell (unreadable: then nothing is flagged).  ruid/rgid: the
 * caller's real ids.  A small cache keyed by (dev, ino, mtime, ctime) keeps
 * this to one stat(2) per exec of a known program. */
int aa_exec_target_enterable(const char *path, uid_t ruid, gid_t rgid, const char **ret_reason);
