/* Admin Task Catalog table parser (reference/task-format.md §a.4). */
#include "catalog.h"

#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "taskdoc.h"
#include "util.h"

#define AA_CATALOG_MAX_CELLS 16

static const char *const aa_catalog_columns[] = {
    "Task ID", "Name", "Category", "Invoked by", "Approval", "Rollback",
};

static int catalog_issue(struct aa_catalog *c, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
catalog_issue(struct aa_catalog *c, unsigned line, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    struct aa_catalog_issue *v = realloc(c->issues, (c->n_issues + 1) * sizeof(*v));
    if (!v) {
        free(msg);
        return -ENOMEM;
    }
    c->issues = v;
    c->issues[c->n_issues].line = line;
    c->issues[c->n_issues].msg = msg;
    c->n_issues++;
    return 0;
}

/* Trim white space; drop one pair of surrounding backticks when asked. */
static char *
cell_dup(const char *p, size_t n, bool strip_ticks)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (strip_ticks && n >= 2 && p[0] == '`' && p[n - 1] == '`') {
        p++;
        n -= 2;
    }
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    /* Unescape \| into | (the only escape that matters inside a table). */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == '|')
            i++;
        s[o++] = p[i];
    }
    s[o] = '\0';
    return s;
}

/* Split a table row into raw cell spans.  Leading and trailing pipes are
 * optional, as in GFM.  Returns the number of cells (capped). */
static size_t
row_split(const char *p, size_t n, const char *starts[], size_t lens[], size_t max)
{
    size_t i = 0, ncell = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < n && p[i] == '|')
        i++;
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    bool trailing_pipe = end > i && p[end - 1] == '|' && !(end >= 2 && p[end - 2] == '\\');
    if (trailing_pipe)
        end--;
    size_t cell = i;
    size_t ticks = 0; /* length of the open code span's backtick run, 0 = none */
    while (i < end) {
        if (p[i] == '\\' && i + 1 < end) {
            i += 2;
            continue;
        }
        if (p[i] == '`') {
            size_t run = 0;
            while (i < end && p[i] == '`') {
                run++;
                i++;
            }
            if (ticks == 0)
                ticks = run;
            else if (ticks == run)
                ticks = 0;
            continue;
        }
        if (p[i] == '|' && ticks == 0) {
            if (ncell < max) {
                starts[ncell] = p + cell;
                lens[ncell] = i - cell;
            }
            ncell++;
            cell = i + 1;
        }
        i++;
    }
    if (ncell < max) {
        starts[ncell] = p + cell;
        lens[ncell] = end - cell;
    }
    ncell++;
    return ncell < max ? ncell : max;
}

static bool
line_is_row(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    return n > 0 && *p == '|';
}

static bool
cells_are_separator(const char *starts[], const size_t lens[], size_t ncell)
{
    for (size_t k = 0; k < ncell; k++) {
        bool dash = false;
        for (size_t i = 0; i < lens[k]; i++) {
            char ch = starts[k][i];
            if (ch == '-')
                dash = true;
            else if (ch != ':' && ch != ' ' && ch != '\t')
                return false;
        }
        if (!dash)
            return false;
    }
    return ncell > 0;
}

static bool
cell_equals(const char *p, size_t n, const char *want)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return strlen(want) == n && strncasecmp(p, want, n) == 0;
}

/* "## Admin Task Catalog" (any trailing white space / closing #s). */
static bool
line_is_heading(const char *p, size_t n)
{
    static const char h[] = "## Admin Task Catalog";
    if (n < sizeof(h) - 1 || memcmp(p, h, sizeof(h) - 1) != 0)
        return false;
    for (size_t i = sizeof(h) - 1; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '#')
            return false;
    return true;
}

static void
row_free(struct aa_catalog_row *r)
{
    free(r->id);
    free(r->name);
    free(r->category);
    free(r->invoked_by);
    free(r->approval);
    free(r->rollback);
    free(r->status);
}

static int
catalog_add_row(struct aa_catalog *c, const char *starts[], const size_t lens[], size_t ncell,
                unsigned line)
{
    struct aa_catalog_row r = {.line = line};
    char **dst[] = {&r.id, &r.name, &r.category, &r.invoked_by, &r.approval, &r.rollback, &r.status};
    size_t want = c->has_status_column ? 7 : 6;
    for (size_t k = 0; k < want && k < ncell; k++) {
        *dst[k] = cell_dup(starts[k], lens[k], k == 0 || k == 2);
        if (!*dst[k]) {
            row_free(&r);
            return -ENOMEM;
        }
    }
    for (size_t k = ncell; k < 6; k++) {
        *dst[k] = strdup("");
        if (!*dst[k]) {
            row_free(&r);
            return -ENOMEM;
        }
    }
    if (strcmp(r.id, "ADM-XXX") == 0) { /* the template's placeholder row */
        row_free(&r);
        return 0;
    }
    struct aa_catalog_row *v = realloc(c->rows, (c->n_rows + 1) * sizeof(*v));
    if (!v) {
        row_free(&r);
        return -ENOMEM;
    }
    c->rows = v;
    c->rows[c->n_rows++] = r;
    return 0;
}

/* The line at *pos (without its \n or \r\n); advances *pos past it. */
static const char *
next_line(const char *buf, size_t len, size_t *pos, size_t *ret_n)
{
    const char *p = buf + *pos;
    const char *nl = memchr(p, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - p) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *ret_n = n;
    return p;
}

/* Parse the table that follows the heading; lines [li..) */
static int
catalog_table(struct aa_catalog *c, const char *buf, size_t len, size_t pos, unsigned lineno)
{
    enum { WANT_HEADER, WANT_SEP, ROWS } state = WANT_HEADER;
    const char *starts[AA_CATALOG_MAX_CELLS];
    size_t lens[AA_CATALOG_MAX_CELLS];
    size_t ncols = 6;
    int r;

    while (pos < len) {
        size_t n;
        const char *p = next_line(buf, len, &pos, &n);
        lineno++;
        bool blank = true;
        for (size_t i = 0; i < n; i++)
            if (p[i] != ' ' && p[i] != '\t')
                blank = false;

        if (!line_is_row(p, n)) {
            if (blank && state == WANT_HEADER)
                continue;
            if (state == WANT_HEADER)
                return catalog_issue(c, lineno, "no table after \"## Admin Task Catalog\"");
            if (state == WANT_SEP)
                return catalog_issue(c, c->header_line, "catalog header row has no separator row");
            return 0; /* end of table */
        }
        size_t ncell = row_split(p, n, starts, lens, AA_CATALOG_MAX_CELLS);
        switch (state) {
        case WANT_HEADER: {
            c->header_line = lineno;
            bool okhdr = ncell == 6 || ncell == 7;
            for (size_t k = 0; okhdr && k < 6; k++)
                okhdr = cell_equals(starts[k], lens[k], aa_catalog_columns[k]);
            if (okhdr && ncell == 7) {
                if (cell_equals(starts[6], lens[6], "Status")) {
                    c->has_status_column = true;
                } else if (cell_equals(starts[6], lens[6], "Last run")) {
                    c->has_status_column = true;
                    c->last_run_column = true;
                } else
                    okhdr = false;
            }
            if (!okhdr) {
                r = catalog_issue(c, lineno,
                                  "catalog header must be | Task ID | Name | Category | Invoked by "
                                  "| Approval | Rollback | (optional 7th: Status or Last run)");
                if (r < 0)
                    return r;
            }
            ncols = c->has_status_column ? 7 : 6;
            state = WANT_SEP;
            break;
        }
        case WANT_SEP:
            if (!cells_are_separator(starts, lens, ncell))
                return catalog_issue(c, lineno, "catalog header row is not followed by a |---| separator row");
            state = ROWS;
            break;
        case ROWS:
            if (ncell != ncols) {
                r = catalog_issue(c, lineno, "catalog row has %zu cells, the header has %zu", ncell, ncols);
                if (r < 0)
                    return r;
            }
            r = catalog_add_row(c, starts, lens, ncell, lineno);
            if (r < 0)
                return r;
            break;
        }
    }
    if (state == WANT_HEADER)
        return catalog_issue(c, lineno, "no table after \"## Admin Task Catalog\"");
    if (state == WANT_SEP)
        return catalog_issue(c, c->header_line, "catalog header row has no separator row");
    return 0;
}

int
aa_catalog_parse(const char *buf, size_t len, const char *name, struct aa_catalog *c, char *err,
                 size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (errlen > 0)
        err[0] = '\0';
    if (len > AA_CATALOG_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", name ? name : "catalog", AA_CATALOG_MAX_BYTES);
        return -EINVAL;
    }
    if (memchr(buf, '\0', len)) {
        snprintf(err, errlen, "%s: contains NUL bytes", name ? name : "catalog");
        return -EINVAL;
    }
    if (name) {
        c->path = strdup(name);
        if (!c->path)
            return -ENOMEM;
    }

    size_t pos = 0;
    unsigned lineno = 0;
    bool in_fence = false;
    int r = 0;
    while (pos < len) {
        size_t n;
        const char *p = next_line(buf, len, &pos, &n);
        lineno++;
        if (n >= 3 && memcmp(p, "```", 3) == 0) {
            in_fence = !in_fence;
            continue;
        }
        if (in_fence || !line_is_heading(p, n))
            continue;
        if (c->heading_line) {
            r = catalog_issue(c, lineno, "second \"## Admin Task Catalog\" heading (first on line %u)",
                              c->heading_line);
            break;
        }
        c->heading_line = lineno;
        r = catalog_table(c, buf, len, pos, lineno);
        if (r < 0)
            break;
        /* Keep scanning for a duplicate heading, skipping nothing else. */
    }
    if (r < 0) {
        aa_catalog_done(c);
        if (r == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", name ? name : "catalog");
        return r;
    }
    return 0;
}

int
aa_catalog_cell_span(const char *p, size_t n, size_t idx, size_t *off, size_t *len)
{
    const char *starts[AA_CATALOG_MAX_CELLS];
    size_t lens[AA_CATALOG_MAX_CELLS];
    if (idx >= AA_CATALOG_MAX_CELLS)
        return -EINVAL;
    size_t ncell = row_split(p, n, starts, lens, AA_CATALOG_MAX_CELLS);
    if (idx >= ncell)
        return -EINVAL;
    const char *c = starts[idx];
    size_t l = lens[idx];
    while (l > 0 && (c[l - 1] == ' ' || c[l - 1] == '\t'))
        l--;
    if (l == 0 && lens[idx] > 0) { /* a blank cell: text goes after its first blank */
        *off = (size_t)(c - p) + 1;
        *len = 0;
        return 0;
    }
    while (l > 0 && (*c == ' ' || *c == '\t')) {
        c++;
        l--;
    }
    *off = (size_t)(c - p);
    *len = l;
    return 0;
}

int
aa_catalog_load(const char *path, struct aa_catalog *c, char *err, size_t errlen)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int r = aa_read_file(path, AA_CATALOG_MAX_BYTES + 1, &buf, &len);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    return aa_catalog_parse(buf, len, path, c, err, errlen);
}

void
aa_catalog_done(struct aa_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_rows; i++)
        row_free(&c->rows[i]);
    free(c->rows);
    for (size_t i = 0; i < c->n_issues; i++)
        free(c->issues[i].msg);
    free(c->issues);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

/* nftw has no user pointer: the walk is single-threaded, so a file-scope
 * accumulator is enough. */
static struct {
    char **v;
    size_t n;
    int err;
} catalog_walk;

static int
catalog_walk_cb(const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
    (void)sb;
    if (typeflag != FTW_F)
        return 0;
    if (fnmatch("admin-processes*.md", fpath + ftwbuf->base, 0) != 0)
        return 0;
    char **v = realloc(catalog_walk.v, (catalog_walk.n + 2) * sizeof(*v));
    if (!v) {
        catalog_walk.err = -ENOMEM;
        return 1;
    }
    catalog_walk.v = v;
    v[catalog_walk.n] = strdup(fpath);
    if (!v[catalog_walk.n]) {
        catalog_walk.err = -ENOMEM;
        return 1;
    }
    v[++catalog_walk.n] = NULL;
    return 0;
}

static int
catalog_path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
aa_catalog_find(const char *aiwg_dir, char ***ret_paths)
{
    cleanup_free char *deflt = NULL;
    if (asprintf(&deflt, "%s/deployment/admin-processes.md", aiwg_dir) < 0)
        return -ENOMEM;

    catalog_walk.v = calloc(2, sizeof(char *));
    catalog_walk.n = 0;
    catalog_walk.err = 0;
    if (!catalog_walk.v)
        return -ENOMEM;
    int r = nftw(aiwg_dir, catalog_walk_cb, 16, FTW_PHYS);
    if (r < 0 && errno != ENOENT) {
        r = -errno;
        aa_strv_free(catalog_walk.v);
        return r;
    }
    if (catalog_walk.err < 0) {
        aa_strv_free(catalog_walk.v);
        return catalog_walk.err;
    }
    char **v = catalog_walk.v;
    size_t n = catalog_walk.n;
    catalog_walk.v = NULL;
    qsort(v, n, sizeof(*v), catalog_path_cmp);
    /* The default file first, then the rest in order. */
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], deflt) == 0 && i > 0) {
            char *d = v[i];
            memmove(v + 1, v, i * sizeof(*v));
            v[0] = d;
            break;
        }
    *ret_paths = v;
    return 0;
}
