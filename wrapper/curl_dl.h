/* libcurl, loaded when the first http(s) target needs it.
 *
 * Linking libcurl pulled 28 more shared libraries (nghttp2, ldap, kerberos,
 * gnutls, ...) into every admin-audit process, a third of its start-up time,
 * for a sink most sessions never open.  The forwarder of an http(s) target
 * loads it instead (dlopen of the soname the headers were built for), the way
 * systemd loads its optional libraries; the wrapper only probes the load in a
 * short-lived child, to say on the operator's terminal when it fails. */
#pragma once

#include <curl/curl.h>
#include <stddef.h>

struct aa_curl {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};

/* The soname dlopen()ed (libcurl's ABI has been .so.4 since 7.16). */
#define AA_CURL_SONAME "libcurl.so.4"

/* The loaded library's functions, or NULL with why in err (dlerror text;
 * err may be NULL).  Loaded once per process, never unloaded. */
const struct aa_curl *aa_curl_get(char *err, size_t errlen);
