/* The project's Admin Task Catalog (reference/task-format.md §a.4): the
 * table under "## Admin Task Catalog" in .aiwg/deployment/admin-processes.md
 * (default) or any .aiwg/ANY/admin-processes*.md (any depth).
 *
 *   | Task ID | Name | Category | Invoked by | Approval | Rollback | [Status|Last run] |
 *   |---------|------|----------|-----------|----------|----------| ...
 *   | ADM-001 | Database migration `add_user_table` | migration | ... |
 *
 * Cells are split on '|' outside code spans (`\|` is a literal bar), trimmed;
 * the Task ID and Category cells lose one pair of backticks.  The template's
 * placeholder row (Task ID "ADM-XXX") is skipped.  Problems the parser sees
 * (wrong header, wrong cell count) are kept as issues with their line so
 * lint can report them; they never make the parse fail. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define AA_CATALOG_MAX_BYTES (4 * 1024 * 1024) /* larger catalogs are refused */

struct aa_catalog_row {
    char *id;         /* owned, Task ID cell */
    char *name;       /* owned */
    char *category;   /* owned */
    char *invoked_by; /* owned */
    char *approval;   /* owned */
    char *rollback;   /* owned */
    char *status;     /* owned, may be NULL: optional 7th column (Status / Last run) */
    unsigned line;    /* 1-based line of the row */
};

struct aa_catalog_issue {
    unsigned line;
    char *msg; /* owned */
};

struct aa_catalog {
    char *path;              /* owned, may be NULL: the name given to parse/load */
    unsigned heading_line;   /* line of "## Admin Task Catalog", 0 = the file has none */
    unsigned header_line;    /* line of the header row, 0 = missing */
    bool has_status_column;  /* a 7th column named Status or Last run */
    bool last_run_column;    /* ... and it is the "Last run" one */
    struct aa_catalog_row *rows; /* owned array, placeholder row excluded */
    size_t n_rows;
    struct aa_catalog_issue *issues; /* owned array */
    size_t n_issues;
};

/* Parse a catalog document from memory (buf need not be NUL-terminated).
 * A document without the heading is not an error: heading_line stays 0.
 * Returns 0, -ENOMEM, or -EINVAL for NUL bytes / over 4 MiB (message in err).
 * On success release with aa_catalog_done(). */
int aa_catalog_parse(const char *buf, size_t len, const char *name, struct aa_catalog *c,
                     char *err, size_t errlen);

/* Read and parse a file; -ENOENT when it does not exist. */
int aa_catalog_load(const char *path, struct aa_catalog *c, char *err, size_t errlen);

void aa_catalog_done(struct aa_catalog *c);

/* Where cell idx (0-based) of the table row p[0..n) (no line ending) is,
 * split as the parser splits (code spans, \|), without its surrounding
 * blanks: bytes p[*off .. *off + *len) (a blank cell: *len 0 just after
 * its first blank).  0, or -EINVAL when the row has no such cell.  For
 * editing one cell and keeping every other byte. */
int aa_catalog_cell_span(const char *p, size_t n, size_t idx, size_t *off, size_t *len);

/* Catalog candidates of a project whose .aiwg directory is aiwg_dir: the
 * default aiwg_dir/deployment/admin-processes.md when it exists, then every
 * file named admin-processes*.md anywhere below aiwg_dir (symlinks not
 * followed), sorted, without duplicates.  Returns 0 and an owned
 * NULL-terminated array (aa_strv_free; possibly empty), or -errno. */
int aa_catalog_find(const char *aiwg_dir, char ***ret_paths);
