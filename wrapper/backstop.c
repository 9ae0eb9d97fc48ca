/* PLACEHOLDER until the seccomp backstop lands: always off, said so. */
#include "backstop.h"

#include <errno.h>
#include <stdlib.h>

struct aa_backstop {
    bool enabled;
};

int
aa_backstop_prepare(struct aa_session *s, enum aa_seccomp_mode mode, struct aa_backstop **ret)
{
    (void)s;
    if (mode == AA_SECCOMP_ON)
        return -EPERM;
    *ret = calloc(1, sizeof **ret);
    return *ret ? 0 : -ENOMEM;
}

bool
aa_backstop_enabled(const struct aa_backstop *b)
{
    return b && b->enabled;
}

bool
aa_backstop_no_new_privs(const struct aa_backstop *b)
{
    (void)b;
    return false;
}

const char *
aa_backstop_detail(const struct aa_backstop *b)
{
    (void)b;
    return "backstop not available in this build";
}

int
aa_backstop_child(struct aa_backstop *b)
{
    (void)b;
    return 0;
}

int
aa_backstop_parent(struct aa_backstop *b)
{
    (void)b;
    return 0;
}

size_t
aa_backstop_pollfds(struct aa_backstop *b, struct pollfd *fds, size_t max)
{
    (void)b;
    (void)fds;
    (void)max;
    return 0;
}

int
aa_backstop_dispatch(struct aa_backstop *b, const struct pollfd *fds, size_t n)
{
    (void)b;
    (void)fds;
    (void)n;
    return 0;
}

void
aa_backstop_free(struct aa_backstop *b)
{
    free(b);
}
