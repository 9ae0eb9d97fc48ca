/* The journal: JSON Lines, one write(2) per record, per-session SHA-256 chain
 * (contract §6, reference/schema.md §4.2).
 *
 * Concurrency: several sessions (processes) may append to one journal.  Each
 * append holds flock(LOCK_EX) on the file around fstat + write (+ fdatasync)
 * + rollback, so a torn line can be cut back with ftruncate without cutting
 * another writer's line.  Within one process, one struct aa_journal is not
 * thread-safe (MT-unsafe): the caller serialises appends. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define HASH_SUFFIX_LEN 75 /* ,"hash":"<64 hex>"} */

struct aa_journal {
    int fd;
    unsigned flags;
    uint64_t seq;
    char head[65];
    char *path;       /* owned */
    char *session_id; /* owned */
    EVP_MD *md;       /* owned: SHA-256 fetched once (a fetch per record cost ~25%) */
    EVP_MD_CTX *ctx;  /* owned: reused for every record */
};

/* mkdir -p of the parent directories of path, mode 0700 for new ones. */
static int
make_parents(const char *path)
{
    cleanup_free char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
            *p = saved;
        }
        if (end)
            break;
    }
    return 0;
}

int
aa_journal_open(const char *path, const char *session_id, unsigned flags, struct aa_journal **ret)
{
    if (!path || !*path || !session_id || !ret)
        return -EINVAL;
    int r = make_parents(path);
    if (r < 0)
        return r;
    /* O_NONBLOCK for the open only: a FIFO nobody reads would block here
     * for ever (ENXIO instead); writes block again (backpressure). */
    cleanup_fd int fd =
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0)
        return -errno;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return -errno;
    struct aa_journal *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->path = strdup(path);
    j->session_id = strdup(session_id);
    if (!j->path || !j->session_id) {
        free(j->path);
        free(j->session_id);
        free(j);
        return -ENOMEM;
    }
    j->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    j->ctx = EVP_MD_CTX_new();
    if (!j->md || !j->ctx) {
        EVP_MD_free(j->md);
        EVP_MD_CTX_free(j->ctx);
        free(j->path);
        free(j->session_id);
        free(j);
        return -ENOMEM;
    }
    j->flags = flags;
    memcpy(j->head, ZERO_HASH, sizeof j->head);
    j->fd = AA_TAKE_FD(fd);
    *ret = j;
    return 0;
}

void
aa_journal_close(struct aa_journal *j)
{
    if (!j)
        return;
    (void)aa_safe_close(j->fd);
    EVP_MD_CTX_free(j->ctx);
    EVP_MD_free(j->md);
    free(j->path);
    free(j->session_id);
    free(j);
}

uint64_t
aa_journal_seq(const struct aa_journal *j)
{
    return j->seq;
}

const char *
aa_journal_head(const struct aa_journal *j)
{
    return j->head;
}

const char *
aa_journal_path(const struct aa_journal *j)
{
    return j->path;
}

int
aa_journal_fd(const struct aa_journal *j)
{
    return j->fd;
}

/* Write line in one write(2) under the file lock; on failure cut the file
 * back to its size before the write.  Returns 0 or -errno (-EIO short).
 * The size before is only needed on failure: under the lock it is the size
 * now minus what this write appended (O_APPEND), so the common path costs no
 * fstat. */
static int
write_line(struct aa_journal *j, const char *line, size_t len)
{
    bool locked = flock(j->fd, LOCK_EX) == 0; /* EINVAL/ENOLCK: go on unlocked */
    int r = 0;

    ssize_t n;
    do {
        n = write(j->fd, line, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        r = -errno;
    else if ((size_t)n != len)
        r = -EIO;
    if (r == 0 && (j->flags & AA_JOURNAL_SYNC) && fdatasync(j->fd) < 0)
        r = -errno;
    struct stat st;
    if (r < 0 && fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        int e = errno;
        off_t before = st.st_size - (n > 0 ? (off_t)n : 0);
        /* Nothing of a failed record may stay behind (torn line). */
        while (before >= 0 && ftruncate(j->fd, before) < 0 && errno == EINTR)
            ;
        errno = e;
    }
    if (locked)
        (void)flock(j->fd, LOCK_UN);
    return r;
}

int
aa_journal_append(struct aa_journal *j, struct json_object *rec)
{
    if (!j || !rec || !json_object_is_type(rec, json_type_object))
        return -EINVAL;
    uint64_t seq = j->seq + 1;
    char id[512];
    int r;

    if (snprintf(id, sizeof id, "%s:%llu", j->session_id, (unsigned long long)seq) >= (int)sizeof id)
        return -ENAMETOOLONG;
    r = aa_rec_set_str(rec, "event.id", id);
    if (r < 0)
        return r;

    /* chain and hash always close the record, in that order. */
    json_object_object_del(rec, "hash");
    json_object_object_del(rec, "chain");
    struct json_object *chain = json_object_new_object();
    if (!chain)
        return -ENOMEM;
    if (json_object_object_add(chain, "seq", json_object_new_int64((int64_t)seq)) < 0 ||
        json_object_object_add(chain, "prev", json_object_new_string(j->head)) < 0 ||
        json_object_object_add(rec, "chain", chain) < 0) { /* steals chain */
        json_object_put(chain);
        return -ENOMEM;
    }

    size_t blen = 0;
    const char *b = aa_record_serialize(rec, &blen);
    if (!b || blen < 2 || b[blen - 1] != '}')
        return -ENOMEM;
    char hash[65];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_DigestInit_ex2(j->ctx, j->md, NULL) != 1 || EVP_DigestUpdate(j->ctx, b, blen) != 1 ||
        EVP_DigestFinal_ex(j->ctx, md, &mdlen) != 1 || mdlen != 32)
        return -ENOMEM;
    aa_hex(md, 32, hash);

    size_t len = blen - 1 + HASH_SUFFIX_LEN + 1;
    cleanup_free char *line = malloc(len + 1);
    if (!line)
        return -ENOMEM;
    memcpy(line, b, blen - 1);
    (void)snprintf(line + blen - 1, HASH_SUFFIX_LEN + 2, ",\"hash\":\"%s\"}\n", hash);

    r = write_line(j, line, len);
    if (r < 0)
        return r;

    /* The object now mirrors the line (minus the newline). */
    struct json_object *h = json_object_new_string(hash);
    if (h && json_object_object_add(rec, "hash", h) < 0) /* steals h */
        json_object_put(h);
    j->seq = seq;
    memcpy(j->head, hash, sizeof j->head);
    return 0;
}

static bool
is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int
aa_chain_line_hash(const char *line, size_t len, char recorded[65], char computed[65])
{
    static const char pfx[] = ",\"hash\":\"";
    if (!line || len < HASH_SUFFIX_LEN + 1)
        return -EINVAL;
    const char *suf = line + len - HASH_SUFFIX_LEN;
    if (memcmp(suf, pfx, 9) != 0 || !is_lower_hex(suf + 9, 64) || suf[73] != '"' ||
        suf[74] != '}')
        return -EINVAL;
    memcpy(recorded, suf + 9, 64);
    recorded[64] = '\0';

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, line, len - HASH_SUFFIX_LEN) == 1 &&
             EVP_DigestUpdate(ctx, "}", 1) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
             mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -ENOMEM;
    aa_hex(md, 32, computed);
    return 0;
}
