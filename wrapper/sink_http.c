/* HTTP sink (libcurl): Elasticsearch _bulk with "create" and _id = event.id
 * (per-item acknowledgement: 200/201, or 409 = already stored), or a generic
 * JSON-lines POST whose 2xx acknowledges the whole batch
 * (reference/schema.md §2.5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink.h"
#include "util.h"

#ifdef AA_HAVE_CURL
#include <json-c/json.h>

#include "curl_dl.h"

struct http_priv {
    const struct aa_curl *C; /* libcurl, loaded on first use (curl_dl.h) */
    CURL *curl;
    bool bulk;
    char *url; /* effective POST URL */
    char *resp;
    size_t resp_len;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct http_priv *p = userdata;
    size_t n = size * nmemb;
    char *nb;

    if (p->resp_len + n > (8u << 20))
        return 0; /* absurd response: abort the transfer */
    nb = realloc(p->resp, p->resp_len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + p->resp_len, data, n);
    p->resp = nb;
    p->resp_len += n;
    p->resp[p->resp_len] = '\0';
    return n;
}

static bool
path_is_bulk(const char *url)
{
    const char *q = url + strcspn(url, "?#");
    size_t n = (size_t)(q - url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    return n >= 6 && memcmp(url + n - 6, "/_bulk", 6) == 0;
}

static int
http_setup(struct aa_sink *s, struct http_priv *p)
{
    const struct aa_forward_target *t = s->target;
    bool bulk_path = path_is_bulk(t->url);

    p->bulk = bulk_path || (t->http_mode && strcmp(t->http_mode, "bulk") == 0);
    if (t->http_mode && strcmp(t->http_mode, "bulk") != 0 && strcmp(t->http_mode, "lines") != 0)
        return -EINVAL;
    if (p->bulk && !bulk_path) {
        /* http://es:9200 + index -> http://es:9200/<index>/_bulk */
        size_t n = strcspn(t->url, "?#");
        while (n > 0 && t->url[n - 1] == '/')
            n--;
        if (asprintf(&p->url, "%.*s%s%s/_bulk%s", (int)n, t->url, t->http_index ? "/" : "",
                     t->http_index ? t->http_index : "", t->url + strcspn(t->url, "?#")) < 0)
            return -ENOMEM;
    } else {
        p->url = strdup(t->url);
        if (!p->url)
            return -ENOMEM;
    }
    return 0;
}

static int
ensure_handle(struct aa_sink *s, struct http_priv *p)
{
    const struct aa_forward_target *t = s->target;

    if (p->curl)
        return 0;
    if (!p->C && !(p->C = aa_curl_get(NULL, 0)))
        return -ELIBACC; /* said by aa_sink_http_init; retried with back-off */
    const struct aa_curl *C = p->C;
    if (C->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    p->curl = C->easy_init();
    if (!p->curl)
        return -ENOMEM;
    C->easy_setopt(p->curl, CURLOPT_URL, p->url);
    C->easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_body);
    C->easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
    C->easy_setopt(p->curl, CURLOPT_USERAGENT, "admin-audit");
    C->easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    C->easy_setopt(p->curl, CURLOPT_SSL_VERIFYPEER, t->tls_verify ? 1L : 0L);
    C->easy_setopt(p->curl, CURLOPT_SSL_VERIFYHOST, t->tls_verify ? 2L : 0L);
    if (t->ca_file)
        C->easy_setopt(p->curl, CURLOPT_CAINFO, t->ca_file);
    if (t->cert_file)
        C->easy_setopt(p->curl, CURLOPT_SSLCERT, t->cert_file);
    if (t->key_file)
        C->easy_setopt(p->curl, CURLOPT_SSLKEY, t->key_file);
    return 0;
}

static bool
item_status_ok(struct json_object *item)
{
    struct json_object *op, *st;

    if (!json_object_object_get_ex(item, "create", &op) &&
        !json_object_object_get_ex(item, "index", &op))
        return false;
    if (!json_object_object_get_ex(op, "status", &st))
        return false;
    int code = json_object_get_int(st);
    return code == 200 || code == 201 || code == 409;
}

/* _bulk response: leading run of items that are stored. */
static int
bulk_acked(struct http_priv *p, size_t n, size_t *ret_done)
{
    struct json_object *root, *items, *errors;
    size_t done = 0;

    root = p->resp ? json_tokener_parse(p->resp) : NULL;
    if (!root)
        return -EPROTO;
    if (json_object_object_get_ex(root, "errors", &errors) && !json_object_get_boolean(errors) &&
        (!json_object_object_get_ex(root, "items", &items) ||
         json_object_array_length(items) == n)) {
        json_object_put(root);
        *ret_done = n;
        return 0;
    }
    if (!json_object_object_get_ex(root, "items", &items) ||
        !json_object_is_type(items, json_type_array)) {
        json_object_put(root);
        return -EPROTO;
    }
    while (done < n && done < json_object_array_length(items) &&
           item_status_ok(json_object_array_get_idx(items, done)))
        done++;
    json_object_put(root);
    *ret_done = done;
    return done == n ? 0 : -EAGAIN;
}

static int
http_send(struct aa_sink *s, const struct aa_fwd_item *items, size_t n, size_t *ret_done,
          int timeout_ms)
{
    struct http_priv *p = s->priv;
    cleanup_free char *body = NULL;
    size_t body_len = 0;
    struct curl_slist *hdrs = NULL;
    FILE *f;
    CURLcode cc;
    long code = 0;
    int r;

    r = ensure_handle(s, p);
    if (r < 0)
        return r;
    const struct aa_curl *C = p->C;
    f = open_memstream(&body, &body_len);
    if (!f)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (p->bulk) {
            struct json_object *act = json_object_new_object(), *op = json_object_new_object();
            if (!act || !op) {
                json_object_put(act);
                json_object_put(op);
                fclose(f);
                return -ENOMEM;
            }
            json_object_object_add(op, "_id", json_object_new_string(items[i].event_id));
            json_object_object_add(act, "create", op);
            fputs(json_object_to_json_string_ext(act, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE),
                  f);
            fputc('\n', f);
            json_object_put(act);
        }
        fwrite(items[i].payload, 1, items[i].len, f);
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return -ENOMEM;

    hdrs = C->slist_append(hdrs, "Content-Type: application/x-ndjson");
    hdrs = C->slist_append(hdrs, "Expect:");
    if (!hdrs)
        return -ENOMEM;
    free(p->resp);
    p->resp = NULL;
    p->resp_len = 0;
    C->easy_setopt(p->curl, CURLOPT_HTTPHEADER, hdrs);
    C->easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
    C->easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    C->easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    C->easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    cc = C->easy_perform(p->curl);
    C->easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
    C->slist_free_all(hdrs);
    if (cc != CURLE_OK)
        return cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
    C->easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299)
        return code == 429 || code >= 500 ? -EAGAIN : -EREMOTEIO;
    if (!p->bulk) {
        *ret_done = n;
        return 0;
    }
    return bulk_acked(p, n, ret_done);
}

static void
http_disconnect(struct aa_sink *s)
{
    struct http_priv *p = s->priv;

    if (p->curl) {
        p->C->easy_cleanup(p->curl);
        p->curl = NULL;
    }
}

static void
http_free(struct aa_sink *s)
{
    struct http_priv *p = s->priv;

    free(p->url);
    free(p->resp);
    free(p);
    s->priv = NULL;
}

static const struct aa_sink_impl http_impl = {
    .send = http_send,
    .disconnect = http_disconnect,
    .free_priv = http_free,
    .max_batch = 256,
};

int
aa_sink_http_init(struct aa_sink *s)
{
    struct http_priv *p = calloc(1, sizeof *p);
    int r;

    if (!p)
        return -ENOMEM;
    s->priv = p;
    r = http_setup(s, p);
    if (r < 0) {
        free(p->url);
        free(p);
        s->priv = NULL;
        return r;
    }
    s->impl = &http_impl;
    /* This runs in the wrapper, which still has the operator's stderr (the
     * forwarder's own goes to /dev/null) but must not map libcurl and its
     * dependencies itself: a short-lived child tries the load and says why
     * it failed.  Forwarding never stops the command; the records stay
     * spooled.  The forwarder loads libcurl on first use (ensure_handle). */
    cleanup_free char *red = aa_sink_redact_url(s->target->url);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        char why[256];
        if (aa_curl_get(why, sizeof why))
            _exit(0);
        aa_log("forward %s: cannot load libcurl (%s); its records stay spooled until it can be "
               "loaded (apt-get install libcurl4)",
               red ? red : "http target", why);
        _exit(1);
    }
    int st;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

#else /* !AA_HAVE_CURL */

int
aa_sink_http_init(struct aa_sink *s)
{
    (void)s;
    return -EPROTONOSUPPORT;
}

#endif
