#include "curl_dl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static struct aa_curl curl_fns;
static const struct aa_curl *curl_loaded;

const struct aa_curl *
aa_curl_get(char *err, size_t errlen)
{
    if (curl_loaded)
        return curl_loaded;
    void *h = dlopen(AA_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        if (err && errlen)
            (void)snprintf(err, errlen, "%s", e ? e : "dlopen " AA_CURL_SONAME " failed");
        return NULL;
    }
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
        {"curl_global_init", offsetof(struct aa_curl, global_init)},
        {"curl_easy_init", offsetof(struct aa_curl, easy_init)},
        {"curl_easy_setopt", offsetof(struct aa_curl, easy_setopt)},
        {"curl_easy_perform", offsetof(struct aa_curl, easy_perform)},
        {"curl_easy_getinfo", offsetof(struct aa_curl, easy_getinfo)},
        {"curl_easy_cleanup", offsetof(struct aa_curl, easy_cleanup)},
        {"curl_slist_append", offsetof(struct aa_curl, slist_append)},
        {"curl_slist_free_all", offsetof(struct aa_curl, slist_free_all)},
    };
    for (size_t i = 0; i < AA_ARRAY_SIZE(syms); i++) {
        void *p = dlsym(h, syms[i].name);
        if (!p) {
            if (err && errlen)
                (void)snprintf(err, errlen, "%s: no symbol %s", AA_CURL_SONAME, syms[i].name);
            (void)dlclose(h);
            return NULL;
        }
        /* POSIX: a function pointer and void * have the same representation */
        memcpy((char *)&curl_fns + syms[i].off, &p, sizeof p);
    }
    curl_loaded = &curl_fns; /* never dlclose()d: the forwarder keeps using it */
    return curl_loaded;
}
