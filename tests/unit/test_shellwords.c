/* Unit tests of POSIX shell-word splitting (wrapper/shellwords.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gate.h"
#include "taskdoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXW 8

static const struct {
    const char *in;
    int r;
    const char *words[MAXW]; /* NULL-terminated */
} cases[] = {
    { "", 0, { NULL } },
    { "   \t\n  ", 0, { NULL } },
    { "ls", 0, { "ls" } },
    { "  ls   -l\t/tmp  ", 0, { "ls", "-l", "/tmp" } },
    { "echo 'a b' \"c d\"", 0, { "echo", "a b", "c d" } },
    { "echo 'it''s'", 0, { "echo", "its" } },
    { "echo a'b'\"c\"d", 0, { "echo", "abcd" } },
    { "echo '' \"\"", 0, { "echo", "", "" } },
    { "echo ''x", 0, { "echo", "x" } },
    { "echo '$HOME \\n \"x\"'", 0, { "echo", "$HOME \\n \"x\"" } },
    { "echo \"\\$HOME \\` \\\" \\\\ \\n\"", 0, { "echo", "$HOME ` \" \\ \\n" } },
    { "echo \"$HOME\"", 0, { "echo", "$HOME" } },
    { "echo \\$HOME a\\ b \\'", 0, { "echo", "$HOME", "a b", "'" } },
    { "echo \\\\", 0, { "echo", "\\" } },
    { "echo x\\", 0, { "echo", "x\\" } },
    { "cmd --a \\\n  --b", 0, { "cmd", "--a", "--b" } },
    { "cmd --a\\\n--b", 0, { "cmd", "--a--b" } },
    { "echo \"a\\\nb\"", 0, { "echo", "ab" } },
    { "echo 'a\\\nb'", 0, { "echo", "a\\\nb" } },
    { "echo \"line1\nline2\"", 0, { "echo", "line1\nline2" } },
    { "a # comment here\nb", 0, { "a", "b" } },
    { "# only a comment", 0, { NULL } },
    { "a#b #c", 0, { "a#b" } },
    { "a '#b' \\#c", 0, { "a", "#b", "#c" } },
    { "a | b && c; d > e", 0, { "a", "|", "b", "&&", "c;", "d", ">" } }, /* 8th word checked below */
    { "psql \"host=db user=app\" -c 'select 1;'", 0, { "psql", "host=db user=app", "-c", "select 1;" } },
    { "echo 'unterminated", -EINVAL, { NULL } },
    { "echo \"unterminated", -EINVAL, { NULL } },
    { "echo \"a\\\"", -EINVAL, { NULL } },
    { "echo 'a'\"b", -EINVAL, { NULL } },
    { "caf\xc3\xa9 \xe2\x80\x94", 0, { "caf\xc3\xa9", "\xe2\x80\x94" } },
};

static void
test_split_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char **v = (char **)0x1;
        int r = aa_shell_split(cases[i].in, &v);
        if (r != cases[i].r)
            fail_msg("case %zu \"%s\": r=%d want %d", i, cases[i].in, r, cases[i].r);
        if (r < 0) {
            assert_null(v);
            continue;
        }
        assert_non_null(v);
        size_t n = 0;
        while (n < MAXW && cases[i].words[n])
            n++;
        for (size_t k = 0; k < n; k++) {
            if (!v[k] || strcmp(v[k], cases[i].words[k]) != 0)
                fail_msg("case %zu \"%s\": word %zu = \"%s\", want \"%s\"", i, cases[i].in, k,
                         v[k] ? v[k] : "(end)", cases[i].words[k]);
        }
        if (n < MAXW - 1 && v[n] != NULL)
            fail_msg("case %zu \"%s\": extra word \"%s\"", i, cases[i].in, v[n]);
        aa_strv_free(v);
    }
}

static void
test_operators_are_words(void **state)
{
    (void)state;
    char **v;
    assert_int_equal(aa_shell_split("a | b && c; d > e", &v), 0);
    assert_int_equal(aa_strv_len(v), 8);
    assert_string_equal(v[6], ">");
    assert_string_equal(v[7], "e");
    aa_strv_free(v);
}

static void
test_documented_block_matches_argv(void **state)
{
    (void)state;
    /* what command.match compares: the fence body vs the COMMAND argv */
    const char *body = "python3 manage.py backfill_locale \\\n    --batch-size 500 --since '2020-01-01'";
    const char *argv[] = { "python3", "manage.py", "backfill_locale", "--batch-size", "500",
                           "--since", "2020-01-01", NULL };
    char **v;
    assert_int_equal(aa_shell_split(body, &v), 0);
    assert_int_equal(aa_strv_len(v), 7);
    for (size_t i = 0; argv[i]; i++)
        assert_string_equal(v[i], argv[i]);
    aa_strv_free(v);
    assert_int_equal(aa_shell_split(NULL, &v), -EINVAL);
    assert_null(v);
}

static void
test_long_input(void **state)
{
    (void)state;
    size_t n = 200000;
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 10 == 9) ? ' ' : 'a';
    s[n] = '\0';
    char **v;
    assert_int_equal(aa_shell_split(s, &v), 0);
    assert_int_equal(aa_strv_len(v), n / 10);
    assert_int_equal(strlen(v[0]), 9);
    aa_strv_free(v);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_table),
        cmocka_unit_test(test_operators_are_words),
        cmocka_unit_test(test_documented_block_matches_argv),
        cmocka_unit_test(test_long_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
