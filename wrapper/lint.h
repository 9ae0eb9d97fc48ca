/* `admin-audit lint [DIR]` as a library: validate the Admin Task Catalog
 * and every task document of a project (reference/task-format.md §a.3, §a.4,
 * §d behaviour 1).  aa_cmd_lint (commands.h) prints the result. */
#pragma once

#include <stddef.h>

struct aa_lint_finding {
    char *file;           /* owned: path as reached from DIR */
    unsigned line;        /* 1-based, 0 = the file as a whole */
    const char *severity; /* static: "error" or "warning" (both are findings: exit 1) */
    const char *rule;     /* static: "task.category", "catalog.missing-doc", ... */
    char *message;        /* owned, one line */
    size_t seq;           /* discovery order (findings are sorted by file, line, seq) */
};

struct aa_lint {
    struct aa_lint_finding *findings; /* owned array, in discovery order */
    size_t n_findings;
    size_t n_tasks;      /* task documents read */
    size_t n_catalogs;   /* catalog files with a "## Admin Task Catalog" table */
    size_t n_rows;       /* catalog rows (placeholder row excluded) */
    char *tasks_dir;     /* owned: the tasks directory linted */
    char *aiwg_dir;      /* owned, may be NULL: the .aiwg directory */
    char *env_example;   /* owned, may be NULL: the .env.example used */
};

/* Lint DIR: a project root (containing .aiwg), its .aiwg directory, or a
 * tasks directory (.aiwg/admin-tasks or any directory of ADM-NNN.md).  NULL:
 * the nearest directory with a .aiwg from the cwd upward.  today_days: the
 * "today" for date checks in days since the epoch (UTC), < 0 = now.
 * Returns 0 (findings in *L, release with aa_lint_done), -ENOENT/-ENOTDIR
 * when DIR (or a .aiwg) is not there, -ENOMEM. */
int aa_lint_dir(const char *dir, long today_days, struct aa_lint *L);

void aa_lint_done(struct aa_lint *L);
