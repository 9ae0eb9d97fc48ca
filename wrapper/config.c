/* Configuration file: JSON (json-c), strict: unknown keys are rejected by
 * name, wrong types are rejected with the key's name. */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define AA_CONFIG_MAX (1024 * 1024)

void
aa_config_defaults(struct aa_config *cfg)
{
    *cfg = (struct aa_config){
        .image_ref_env = strdup("IMAGE_REF"),
        .forward_format = AA_FORWARD_NATIVE,
        .seccomp = AA_SECCOMP_AUTO,
        .grace_ms = 10000,
        .checkpoint_every = 1000,
        .breakglass_min_reason = 12,
    };
}

void
aa_config_done(struct aa_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->environment);
    free(cfg->log);
    free(cfg->tasks_dir);
    free(cfg->image_ref_env);
    for (size_t i = 0; i < cfg->n_forward; i++) {
        struct aa_forward_target *t = &cfg->forward[i];
        free(t->url);
        free(t->ca_file);
        free(t->cert_file);
        free(t->key_file);
        free(t->http_mode);
        free(t->http_index);
    }
    free(cfg->forward);
    if (cfg->env_allowlist)
        for (char **p = cfg->env_allowlist; *p; p++)
            free(*p);
    free(cfg->env_allowlist);
    free(cfg->aggregator_url);
    free(cfg->incidents_dir);
    *cfg = (struct aa_config){0};
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int
get_string(struct json_object *v, const char *key, const char *name, char **dst, char *err,
           size_t errlen)
{
    if (!json_object_is_type(v, json_type_string))
        return fail(err, errlen, "%s: \"%s\" must be a string", name, key);
    char *s = strdup(json_object_get_string(v));
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static int
get_bool(struct json_object *v, const char *key, const char *name, bool *dst, char *err,
         size_t errlen)
{
    if (!json_object_is_type(v, json_type_boolean))
        return fail(err, errlen, "%s: \"%s\" must be true or false", name, key);
    *dst = json_object_get_boolean(v);
    return 0;
}

static int
get_count(struct json_object *v, const char *key, const char *name, long long *dst, char *err,
          size_t errlen)
{
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return fail(err, errlen, "%s: \"%s\" must be a non-negative integer", name, key);
    *dst = json_object_get_int64(v);
    return 0;
}

static int
get_duration(struct json_object *v, const char *key, const char *name, long long *dst, char *err,
             size_t errlen)
{
    if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
        *dst = json_object_get_int64(v) * 1000;
        return 0;
    }
    if (json_object_is_type(v, json_type_string) &&
        aa_parse_duration(json_object_get_string(v), dst) == 0)
        return 0;
    return fail(err, errlen, "%s: \"%s\" must be a duration such as \"90s\", \"15m\" or \"2h\"",
                name, key);
}

static int
parse_target(struct json_object *v, size_t idx, const char *name, struct aa_forward_target *t,
             char *err, size_t errlen)
{
    *t = (struct aa_forward_target){.tls_verify = true};
    if (json_object_is_type(v, json_type_string))
        return get_string(v, "forward", name, &t->url, err, errlen);
    if (!json_object_is_type(v, json_type_object))
        return fail(err, errlen, "%s: forward[%zu] must be a URL string or an object", name, idx);
    int r;
    json_object_object_foreach(v, key, val)
    {
        if (strcmp(key, "url") == 0)
            r = get_string(val, key, name, &t->url, err, errlen);
        else if (strcmp(key, "ca_file") == 0)
            r = get_string(val, key, name, &t->ca_file, err, errlen);
        else if (strcmp(key, "cert_file") == 0)
            r = get_string(val, key, name, &t->cert_file, err, errlen);
        else if (strcmp(key, "key_file") == 0)
            r = get_string(val, key, name, &t->key_file, err, errlen);
        else if (strcmp(key, "tls_verify") == 0)
            r = get_bool(val, key, name, &t->tls_verify, err, errlen);
        else if (strcmp(key, "http_mode") == 0)
            r = get_string(val, key, name, &t->http_mode, err, errlen);
        else if (strcmp(key, "http_index") == 0)
            r = get_string(val, key, name, &t->http_index, err, errlen);
        else
            r = fail(err, errlen, "%s: unknown key \"%s\" in forward[%zu]", name, key, idx);
        if (r < 0)
            return r;
    }
    if (!t->url)
        return fail(err, errlen, "%s: forward[%zu] has no \"url\"", name, idx);
    return 0;
}

static int
parse_object(struct json_object *root, const char *name, struct aa_config *cfg, char *err,
             size_t errlen)
{
    int r = 0;
    json_object_object_foreach(root, key, val)
    {
        if (strcmp(key, "environment") == 0)
            r = get_string(val, key, name, &cfg->environment, err, errlen);
        else if (strcmp(key, "log") == 0)
            r = get_string(val, key, name, &cfg->log, err, errlen);
        else if (strcmp(key, "tasks_dir") == 0)
            r = get_string(val, key, name, &cfg->tasks_dir, err, errlen);
        else if (strcmp(key, "image_ref_env") == 0)
            r = get_string(val, key, name, &cfg->image_ref_env, err, errlen);
        else if (strcmp(key, "aggregator_url") == 0)
            r = get_string(val, key, name, &cfg->aggregator_url, err, errlen);
        else if (strcmp(key, "incidents_dir") == 0)
            r = get_string(val, key, name, &cfg->incidents_dir, err, errlen);
        else if (strcmp(key, "fail_open") == 0)
            r = get_bool(val, key, name, &cfg->fail_open, err, errlen);
        else if (strcmp(key, "sync") == 0)
            r = get_bool(val, key, name, &cfg->sync, err, errlen);
        else if (strcmp(key, "timeout") == 0)
            r = get_duration(val, key, name, &cfg->timeout_ms, err, errlen);
        else if (strcmp(key, "grace") == 0)
            r = get_duration(val, key, name, &cfg->grace_ms, err, errlen);
        else if (strcmp(key, "checkpoint_every") == 0)
            r = get_count(val, key, name, &cfg->checkpoint_every, err, errlen);
        else if (strcmp(key, "breakglass_min_reason") == 0)
            r = get_count(val, key, name, &cfg->breakglass_min_reason, err, errlen);
        else if (strcmp(key, "seccomp") == 0) {
            const char *s = json_object_get_string(val);
            if (!json_object_is_type(val, json_type_string))
                r = fail(err, errlen, "%s: \"seccomp\" must be \"auto\", \"on\" or \"off\"", name);
            else if (strcmp(s, "auto") == 0)
                cfg->seccomp = AA_SECCOMP_AUTO;
            else if (strcmp(s, "on") == 0)
                cfg->seccomp = AA_SECCOMP_ON;
            else if (strcmp(s, "off") == 0)
                cfg->seccomp = AA_SECCOMP_OFF;
            else
                r = fail(err, errlen, "%s: \"seccomp\" must be \"auto\", \"on\" or \"off\"", name);
        } else if (strcmp(key, "forward_format") == 0) {
            const char *s = json_object_get_string(val);
            if (json_object_is_type(val, json_type_string) && strcmp(s, "native") == 0)
                cfg->forward_format = AA_FORWARD_NATIVE;
            else if (json_object_is_type(val, json_type_string) && strcmp(s, "ecs") == 0)
                cfg->forward_format = AA_FORWARD_ECS;
            else
                r = fail(err, errlen, "%s: \"forward_format\" must be \"native\" or \"ecs\"", name);
        } else if (strcmp(key, "forward") == 0) {
            if (!json_object_is_type(val, json_type_array))
                return fail(err, errlen, "%s: \"forward\" must be an array", name);
            size_t n = json_object_array_length(val);
            struct aa_forward_target *v = calloc(n ? n : 1, sizeof *v);
            if (!v)
                return -ENOMEM;
            free(cfg->forward);
            cfg->forward = v;
            cfg->n_forward = 0;
            for (size_t i = 0; i < n; i++) {
                r = parse_target(json_object_array_get_idx(val, i), i, name, &v[i], err, errlen);
                cfg->n_forward = i + 1;
                if (r < 0)
                    return r;
            }
        } else if (strcmp(key, "env_allowlist") == 0) {
            if (!json_object_is_type(val, json_type_array))
                return fail(err, errlen, "%s: \"env_allowlist\" must be an array of names", name);
            size_t n = json_object_array_length(val);
            char **v = calloc(n + 1, sizeof *v);
            if (!v)
                return -ENOMEM;
            cfg->env_allowlist = v;
            for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(val, i);
                if (!json_object_is_type(e, json_type_string))
                    return fail(err, errlen, "%s: env_allowlist[%zu] must be a string", name, i);
                if (!(v[i] = strdup(json_object_get_string(e))))
                    return -ENOMEM;
            }
        } else
            r = fail(err, errlen, "%s: unknown key \"%s\"", name, key);
        if (r < 0)
            return r;
    }
    return 0;
}

int
aa_config_parse(const char *buf, size_t len, const char *name, struct aa_config *cfg, char *err,
                size_t errlen)
{
    aa_config_defaults(cfg);
    if (!cfg->image_ref_env)
        return -ENOMEM;
    cfg->path = strdup(name);
    if (!cfg->path)
        return -ENOMEM;
    struct json_tokener *tok = json_tokener_new_ex(32);
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = tok->char_offset;
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success || off != len) {
        /* Trailing white space after the object is fine. */
        bool only_ws = root && jerr == json_tokener_success;
        for (size_t i = off; only_ws && i < len; i++)
            if (!strchr(" \t\r\n", buf[i]))
                only_ws = false;
        if (!only_ws) {
            json_object_put(root);
            return fail(err, errlen, "%s: not valid JSON (%s at byte %zu)", name,
                        jerr == json_tokener_success ? "trailing data"
                                                     : json_tokener_error_desc(jerr),
                        off);
        }
    }
    int r;
    if (!json_object_is_type(root, json_type_object))
        r = fail(err, errlen, "%s: the configuration must be a JSON object", name);
    else
        r = parse_object(root, name, cfg, err, errlen);
    json_object_put(root);
    if (r == -ENOMEM)
        (void)snprintf(err, errlen, "%s: out of memory", name);
    return r;
}

int
aa_config_load(const char *path, struct aa_config *cfg, char *err, size_t errlen)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    int r = aa_read_file(path, AA_CONFIG_MAX, &buf, &len);
    if (r == -ENOENT) {
        aa_config_defaults(cfg);
        cfg->path = strdup(path);
        return cfg->path && cfg->image_ref_env ? 0 : -ENOMEM;
    }
    if (r < 0) {
        (void)snprintf(err, errlen, "cannot read config %s: %s", path, strerror(-r));
        return r;
    }
    r = aa_config_parse(buf, len, path, cfg, err, errlen);
    if (r < 0)
        return r;
    cfg->present = true;
    /* Trusted only when root owns it and nobody else can write it (contract §4). */
    struct stat st;
    cfg->trusted = stat(path, &st) == 0 && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
    return 0;
}

int
aa_parse_duration(const char *s, long long *ret_ms)
{
    if (!s || !*s)
        return -EINVAL;
    long long total = 0;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        long long n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > 1000000000LL)
                return -EINVAL;
            n = n * 10 + (*p++ - '0');
        }
        long long mult;
        if (strncmp(p, "ms", 2) == 0) {
            mult = 1;
            p += 2;
        } else if (*p == 's') {
            mult = 1000;
            p++;
        } else if (*p == 'm') {
            mult = 60 * 1000;
            p++;
        } else if (*p == 'h') {
            mult = 3600 * 1000;
            p++;
        } else if (*p == 'd') {
            mult = 86400 * 1000;
            p++;
        } else if (*p == '\0' && p != s && total == 0) {
            mult = 1000; /* bare number: seconds */
        } else
            return -EINVAL;
        total += n * mult;
    }
    *ret_ms = total;
    return 0;
}
