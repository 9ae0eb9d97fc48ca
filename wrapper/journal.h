/* The journal: JSON Lines, one write(2) per record, O_APPEND, mode 0600 for
 * a new file; the per-session SHA-256 chain of contract §6:
 * hash = SHA-256(line minus its ,"hash":"<64 hex>" suffix, '}' kept). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct aa_journal;

enum { AA_JOURNAL_SYNC = 1 << 0 /* fdatasync after each record */ };

/* Open (create 0600, O_APPEND) a journal for one session.  Parent
 * directories are created 0700 when missing.  Returns 0 or -errno. */
int aa_journal_open(const char *path, const char *session_id, unsigned flags,
                    struct aa_journal **ret);

/* Assign chain.seq/prev, set event.id = "<session>:<seq>" (in place, inside
 * the "event" object), append "chain":{"seq","prev"} and the hash, write the
 * line with one write(2) (fdatasync with AA_JOURNAL_SYNC).  A short or
 * failed write is truncated back to the last complete line and returns
 * -errno (-EIO for a short write); the seq is not consumed.  Does not take
 * ownership of rec. */
int aa_journal_append(struct aa_journal *j, struct json_object *rec);

uint64_t aa_journal_seq(const struct aa_journal *j);     /* last written seq, 0 before the first */
const char *aa_journal_head(const struct aa_journal *j); /* hash of the last record (64 zeros before) */
const char *aa_journal_path(const struct aa_journal *j);
int aa_journal_fd(const struct aa_journal *j);

void aa_journal_close(struct aa_journal *j); /* NULL-safe */

/* Verify chain lines (used by `verify`): hash of one line as the writer
 * computed it.  line excludes the trailing newline.  Returns 0 and the
 * recorded and computed hashes, or -EINVAL when the line does not end with
 * the 75-byte ,"hash":"<64 hex>"} suffix. */
int aa_chain_line_hash(const char *line, size_t len, char recorded[65], char computed[65]);
