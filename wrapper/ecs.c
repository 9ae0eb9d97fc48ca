/* Native -> ECS mapping (reference/schema.md §1.3). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "util.h"

static struct json_object *
get_path(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, a, &v))
        return NULL;
    if (b && !json_object_object_get_ex(v, b, &v))
        return NULL;
    return v;
}

static struct json_object *
deep_copy(struct json_object *src)
{
    struct json_object *dst = NULL;

    if (json_object_deep_copy(src, &dst, NULL) < 0)
        return NULL;
    return dst;
}

static const char *
get_str(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v = get_path(o, a, b);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static struct json_object *
str_array(const char *a, const char *b)
{
    struct json_object *arr = json_object_new_array();

    if (!arr)
        return NULL;
    json_object_array_add(arr, json_object_new_string(a));
    if (b)
        json_object_array_add(arr, json_object_new_string(b));
    return arr;
}

/* Append s to arr unless empty or already present. */
static void
add_unique(struct json_object *arr, const char *s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return;
    json_object_array_add(arr, json_object_new_string(s));
}

static void
add_unique_json(struct json_object *arr, struct json_object *v)
{
    if (!v)
        return;
    if (json_object_is_type(v, json_type_string)) {
        add_unique(arr, json_object_get_string(v));
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *e = json_object_array_get_idx(v, i);
            if (json_object_is_type(e, json_type_string))
                add_unique(arr, json_object_get_string(e));
        }
    }
}

char *
aa_ecs_command_line(struct json_object *args)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    if (!args || !json_object_is_type(args, json_type_array))
        return NULL;
    f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(args); i++) {
        const char *a = json_object_get_string(json_object_array_get_idx(args, i));
        bool plain = a && *a;
        for (const char *p = a; plain && *p; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "@%+=:,./_-",
                           *p) != NULL;
        if (i > 0)
            fputc(' ', f);
        if (plain) {
            fputs(a, f);
            continue;
        }
        fputc('\'', f);
        for (const char *p = a ? a : ""; *p; p++) {
            if (*p == '\'')
                fputs("'\\''", f);
            else
                fputc(*p, f);
        }
        fputc('\'', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void
categorise(const char *action, struct json_object *rec, struct json_object *ev)
{
    const char *cat = NULL, *t1 = NULL, *t2 = NULL;

    if (!action)
        return;
    if (strcmp(action, "session.start") == 0) {
        cat = "session";
        t1 = "start";
    } else if (strcmp(action, "session.end") == 0) {
        cat = "session";
        t1 = "end";
    } else if (strcmp(action, "chain.checkpoint") == 0) {
        cat = "session";
        t1 = "info";
    } else if (strcmp(action, "process.exec") == 0) {
        cat = "process";
        t1 = "start";
    } else if (strcmp(action, "network.connect") == 0) {
        struct json_object *denied = get_path(rec, "audit", "denied");
        cat = "network";
        t1 = "connection";
        t2 = denied && json_object_get_boolean(denied) ? "denied" : "start";
    } else if (strcmp(action, "dns.lookup") == 0) {
        cat = "network";
        t1 = "protocol";
        t2 = "info";
    }
    if (!cat)
        return;
    json_object_object_add(ev, "category", str_array(cat, NULL));
    json_object_object_add(ev, "type", str_array(t1, t2));
}

struct json_object *
aa_ecs_map(struct json_object *rec)
{
    struct json_object *out, *ev, *aa, *v, *related, *rel_user, *rel_ip, *rel_hosts;
    const char *action;

    if (!rec || !json_object_is_type(rec, json_type_object))
        return NULL;
    out = json_object_new_object();
    aa = json_object_new_object();
    ev = json_object_new_object();
    if (!out || !aa || !ev) {
        json_object_put(out);
        json_object_put(aa);
        json_object_put(ev);
        return NULL;
    }
    action = get_str(rec, "event", "action");

    if (json_object_object_get_ex(rec, "@timestamp", &v))
        json_object_object_add(out, "@timestamp", json_object_get(v));
    struct json_object *ecs = json_object_new_object();
    json_object_object_add(ecs, "version", json_object_new_string(AA_ECS_VERSION));
    json_object_object_add(out, "ecs", ecs);

    /* event: native members first, then the ECS categorisation. */
    if (json_object_object_get_ex(rec, "event", &v) && json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, val) json_object_object_add(ev, k, json_object_get(val));
    }
    json_object_object_add(ev, "kind", json_object_new_string("event"));
    json_object_object_add(ev, "module", json_object_new_string("admin_audit"));
    json_object_object_add(ev, "dataset", json_object_new_string("admin_audit.session"));
    json_object_object_add(ev, "provider", json_object_new_string("admin-audit"));
    categorise(action, rec, ev);
    if ((v = get_path(rec, "chain", "seq")))
        json_object_object_add(ev, "sequence", json_object_get(v));
    if (json_object_object_get_ex(rec, "hash", &v))
        json_object_object_add(ev, "hash", json_object_get(v));
    json_object_object_add(out, "event", ev);

    if (json_object_object_get_ex(rec, "schema", &v))
        json_object_object_add(aa, "schema", json_object_get(v));

    json_object_object_foreach(rec, key, val) {
        if (strcmp(key, "@timestamp") == 0 || strcmp(key, "schema") == 0 ||
            strcmp(key, "event") == 0 || strcmp(key, "hash") == 0)
            continue;
        if (strcmp(key, "session") == 0) {
            json_object_object_add(aa, "session", json_object_get(val));
            continue;
        }
        if (strcmp(key, "audit") == 0 && json_object_is_type(val, json_type_object)) {
            json_object_object_foreach(val, ak, av) json_object_object_add(aa, ak,
                                                                           json_object_get(av));
            continue;
        }
        if (strcmp(key, "chain") == 0 && json_object_is_type(val, json_type_object)) {
            struct json_object *ch = json_object_new_object();
            json_object_object_foreach(val, ck, cv) {
                if (strcmp(ck, "seq") != 0)
                    json_object_object_add(ch, ck, json_object_get(cv));
            }
            json_object_object_add(aa, "chain", ch);
            continue;
        }
        if (strcmp(key, "process") == 0 && json_object_is_type(val, json_type_object)) {
            struct json_object *proc = deep_copy(val);
            json_object_object_add(out, "process", proc);
            continue;
        }
        json_object_object_add(out, key, json_object_get(val));
    }

    /* process.args[0] := process.executable; argv0 kept; command_line. */
    struct json_object *proc = get_path(out, "process", NULL);
    struct json_object *args = get_path(proc, "args", NULL);
    const char *exe = get_str(proc, "executable", NULL);
    if (args && json_object_is_type(args, json_type_array) && json_object_array_length(args) > 0) {
        char *cl;
        if (exe) {
            json_object_object_add(aa, "argv0",
                                   json_object_get(json_object_array_get_idx(args, 0)));
            json_object_array_put_idx(args, 0, json_object_new_string(exe));
        }
        cl = aa_ecs_command_line(args);
        if (cl) {
            json_object_object_add(proc, "command_line", json_object_new_string(cl));
            free(cl);
        }
    }
    if (action && strcmp(action, "dns.lookup") == 0) {
        struct json_object *net = get_path(out, "network", NULL);
        if (!net) {
            net = json_object_new_object();
            json_object_object_add(out, "network", net);
        } else {
            /* shared with rec: copy before modifying */
            net = deep_copy(net);
            json_object_object_add(out, "network", net);
        }
        json_object_object_add(net, "protocol", json_object_new_string("dns"));
    }

    json_object_object_add(out, "admin_audit", aa);

    related = json_object_new_object();
    rel_user = json_object_new_array();
    rel_ip = json_object_new_array();
    rel_hosts = json_object_new_array();
    add_unique(rel_user, get_str(rec, "user", "name"));
    add_unique(rel_user, get_str(get_path(rec, "user", "effective"), "name", NULL));
    add_unique(rel_ip, get_str(rec, "destination", "ip"));
    add_unique(rel_ip, get_str(rec, "source", "ip"));
    add_unique(rel_ip, get_str(rec, "client", "ip"));
    add_unique_json(rel_ip, get_path(rec, "dns", "resolved_ip"));
    add_unique(rel_hosts, get_str(rec, "destination", "domain"));
    add_unique(rel_hosts, get_str(get_path(rec, "dns", "question"), "name", NULL));
    if (json_object_array_length(rel_user))
        json_object_object_add(related, "user", rel_user);
    else
        json_object_put(rel_user);
    if (json_object_array_length(rel_ip))
        json_object_object_add(related, "ip", rel_ip);
    else
        json_object_put(rel_ip);
    if (json_object_array_length(rel_hosts))
        json_object_object_add(related, "hosts", rel_hosts);
    else
        json_object_put(rel_hosts);
    if (json_object_object_length(related))
        json_object_object_add(out, "related", related);
    else
        json_object_put(related);
    return out;
}
