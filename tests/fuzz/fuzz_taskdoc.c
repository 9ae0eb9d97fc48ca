/* libFuzzer target: the task document parser and shell-word splitting must
 * never crash, leak or read out of bounds on any input. */
#include "gate.h"
#include "taskdoc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aa_task t;
    char err[256];
    /* exact-size copy so ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (aa_task_parse(buf, size, "fuzz.md", &t, err, sizeof err) == 0) {
        aa_strv_free(aa_task_environments(&t));
        aa_strv_free(aa_task_env_names(&t));
        char **v = NULL;
        if (t.command.body && aa_shell_split(t.command.body, &v) == 0)
            aa_strv_free(v);
        if (t.rollback.body && aa_shell_split(t.rollback.body, &v) == 0)
            aa_strv_free(v);
        long days;
        (void)aa_parse_date(t.approved_at.value, &days);
        (void)aa_task_id_valid(t.id);
        (void)aa_task_category_valid(t.category.value);
    }
    aa_task_done(&t);
    free(buf);

    /* the same bytes as a command line */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char **v = NULL;
    if (aa_shell_split(s, &v) == 0)
        aa_strv_free(v);
    free(s);
    return 0;
}
