/* POSIX shell-word splitting (XCU 2.2 Quoting, 2.3 Token Recognition) for
 * command.match (contract §4 rule 7): quotes and backslashes are removed,
 * nothing is expanded, operators are ordinary words, # starts a comment at
 * the beginning of a word, backslash-newline is a line continuation. */
#include "gate.h"
#include "util.h"

#include <string.h>

/* True when a vector sized by powers of two must grow to hold n elements. */
static bool
aa_grow_due(size_t n)
{
    return (n & (n - 1)) == 0;
}

struct word {
    char *p;
    size_t len, cap;
};

static int
word_putc(struct word *w, char c)
{
    if (w->len + 2 > w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 32;
        char *np = realloc(w->p, ncap);
        if (!np)
            return -ENOMEM;
        w->p = np;
        w->cap = ncap;
    }
    w->p[w->len++] = c;
    w->p[w->len] = '\0';
    return 0;
}

static int
argv_push(char ***v, size_t *n, struct word *w)
{
    char **nv = *v;
    if (aa_grow_due(*n + 1)) { /* capacity doubles: room for n + 1 words and the NULL */
        nv = realloc(*v, 2 * (*n + 1) * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        *v = nv;
    }
    nv[*n] = w->p ? w->p : strdup("");
    if (!nv[*n])
        return -ENOMEM;
    (*n)++;
    nv[*n] = NULL;
    w->p = NULL;
    w->len = w->cap = 0;
    return 0;
}

static int
split(const char *s, char ***v, size_t *n, struct word *w)
{
    bool in_word = false;
    for (size_t i = 0; s[i];) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                int r = argv_push(v, n, w);
                if (r < 0)
                    return r;
                in_word = false;
            }
            i++;
        } else if (c == '#' && !in_word) {
            while (s[i] && s[i] != '\n')
                i++;
        } else if (c == '\\') {
            if (s[i + 1] == '\n') {
                i += 2; /* line continuation */
                continue;
            }
            in_word = true;
            if (!s[i + 1]) { /* a trailing backslash stays literal */
                if (word_putc(w, '\\') < 0)
                    return -ENOMEM;
                i++;
                continue;
            }
            if (word_putc(w, s[i + 1]) < 0)
                return -ENOMEM;
            i += 2;
        } else if (c == '\'') {
            in_word = true;
            const char *close = strchr(s + i + 1, '\'');
            if (!close)
                return -EINVAL;
            if (!w->p && word_putc(w, 'x') == 0)
                w->p[--w->len] = '\0'; /* an empty '' is still a word */
            if (!w->p)
                return -ENOMEM;
            for (const char *q = s + i + 1; q < close; q++)
                if (word_putc(w, *q) < 0)
                    return -ENOMEM;
            i = (size_t)(close - s) + 1;
        } else if (c == '"') {
            in_word = true;
            if (!w->p && word_putc(w, 'x') == 0)
                w->p[--w->len] = '\0';
            if (!w->p)
                return -ENOMEM;
            i++;
            for (;;) {
                char d = s[i];
                if (!d)
                    return -EINVAL;
                if (d == '"') {
                    i++;
                    break;
                }
                if (d == '\\' && s[i + 1] &&
                    (s[i + 1] == '$' || s[i + 1] == '`' || s[i + 1] == '"' || s[i + 1] == '\\')) {
                    if (word_putc(w, s[i + 1]) < 0)
                        return -ENOMEM;
                    i += 2;
                    continue;
                }
                if (d == '\\' && s[i + 1] == '\n') {
                    i += 2;
                    continue;
                }
                if (word_putc(w, d) < 0)
                    return -ENOMEM;
                i++;
            }
        } else {
            in_word = true;
            if (word_putc(w, c) < 0)
                return -ENOMEM;
            i++;
        }
    }
    if (in_word)
        return argv_push(v, n, w);
    return 0;
}

int
aa_shell_split(const char *s, char ***ret_argv)
{
    *ret_argv = NULL;
    if (!s)
        return -EINVAL;
    char **v = calloc(1, sizeof *v);
    size_t n = 0;
    struct word w = { 0 };
    if (!v)
        return -ENOMEM;
    int r = split(s, &v, &n, &w);
    free(w.p);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret_argv = v;
    return 0;
}
