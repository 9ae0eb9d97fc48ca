/* The per-task document .aiwg/admin-tasks/ADM-NNN.md (contract §4,
 * reference/task-format.md §a).  Parsed line by line; every field keeps the
 * line number it came from (1-based, 0 = absent) so lint can point at it and
 * report --write can edit exactly that line.  A field that still holds a
 * template placeholder ({...}, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, ADM-XXX, N,
 * ...) is stored as value NULL with placeholder=true. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define AA_TASK_MAX_BYTES (1024 * 1024) /* larger documents are refused */

struct aa_task_field {
    char *value;      /* owned, NULL when absent or placeholder; trimmed, one pair of `backticks` stripped */
    unsigned line;    /* 1-based line of the field, 0 when absent */
    bool placeholder; /* present but unfilled */
};

struct aa_task_checkbox {
    bool checked;
    char *text;    /* owned */
    unsigned line;
};

struct aa_task_checklist {
    struct aa_task_checkbox *items; /* owned array */
    size_t n;
    unsigned line; /* line of the label / heading, 0 when absent */
};

struct aa_task_fence {
    char *lang;     /* owned, may be NULL: info string of the opening fence ("bash", "sh", ...) */
    char *body;     /* owned, may be NULL: the lines between the fences, joined with \n, no trailing \n */
    unsigned line;  /* line of the opening fence, 0 when absent */
    unsigned end_line; /* line of the closing fence */
    bool placeholder;  /* body is a template placeholder */
};

struct aa_task {
    char *path;                    /* owned, may be NULL */
    char *id;                      /* owned: from the H1, e.g. "ADM-002"; NULL when no/invalid H1 */
    struct aa_task_field name;     /* H1 text after ": " */
    unsigned h1_line;
    struct aa_task_field category, created, author, status;
    struct aa_task_field purpose;  /* first paragraph under ## Purpose */
    struct aa_task_field services, data, environments;              /* ## Scope items */
    struct aa_task_field reviewer, approved_at, authorization;      /* ## Approval items */
    struct aa_task_fence command;                                   /* ## Execution **Command**: fence */
    struct aa_task_field image, env_required, duration, resources;  /* **Runtime environment**: items */
    struct aa_task_checklist prechecks;                             /* **Pre-execution checks**: */
    struct aa_task_field invoked_at, invoked_by, exit_code, output_summary, rows_affected; /* **Execution log**: */
    struct aa_task_field breakglass;                                /* optional "- Break-glass: ..." log line */
    struct aa_task_fence rollback;                                  /* ## Rollback **Command**: fence */
    struct aa_task_field rollback_adr;  /* rollback given as an ADR reference instead of a fence (e.g. "ADR-012 ...") */
    struct aa_task_checklist rollback_verification;
    struct aa_task_checklist postaudit;                             /* ## Post-Execution Audit */
    unsigned line_count;
    /* Lines the parser could not place, and a repeated "- Break-glass:" line,
     * as warnings ("line 12: ..."); a duplicate field is an error instead
     * (aa_task_parse returns -EINVAL).  Owned, NULL-terminated. */
    char **warnings;
    size_t n_warnings;
};

/* Parse a document from memory.  buf need not be NUL-terminated.
 * Returns 0, or -EINVAL (not a task document: not UTF-8, NUL bytes, no H1,
 * duplicate header field, unterminated fence, over AA_TASK_MAX_BYTES ...) with
 * one line in err saying what and where ("ADM-002.md:14: unterminated ``` fence").
 * On success *t must be released with aa_task_done(). Never crashes on hostile
 * input (fuzzed: tests/fuzz/fuzz_taskdoc.c). */
int aa_task_parse(const char *buf, size_t len, const char *name, struct aa_task *t, char *err,
                  size_t errlen);

/* Read and parse a file. -ENOENT when it does not exist. */
int aa_task_load(const char *path, struct aa_task *t, char *err, size_t errlen);

void aa_task_done(struct aa_task *t);

/* "ADM-" followed by 3 or more digits, nothing else. */
bool aa_task_id_valid(const char *id);

/* One of migration, data-fix, maintenance, emergency, analytics, backup. */
bool aa_task_category_valid(const char *c);

/* Split the Environments value into canonical names: dev->development,
 * prod->production, others lowercased as is.  Returns a NULL-terminated
 * owned array (free with aa_strv_free) or NULL on ENOMEM. */
char **aa_task_environments(const struct aa_task *t);

/* Split "Environment variables required" into names (commas / spaces,
 * backticks stripped, "none" means empty).  Owned NULL-terminated array. */
char **aa_task_env_names(const struct aa_task *t);

/* YYYY-MM-DD that is a real calendar date -> days since epoch; -EINVAL otherwise. */
int aa_parse_date(const char *s, long *ret_days);

void aa_strv_free(char **v);
size_t aa_strv_len(char *const *v);
