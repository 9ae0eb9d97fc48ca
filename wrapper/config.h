/* The configuration file (contract §2 --config): JSON, parsed with json-c,
 * unknown keys rejected by name.  An absent file means defaults. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum aa_seccomp_mode { AA_SECCOMP_AUTO, AA_SECCOMP_ON, AA_SECCOMP_OFF };
enum aa_forward_format { AA_FORWARD_NATIVE, AA_FORWARD_ECS };

#define AA_DEFAULT_CONFIG "/etc/admin-audit/config.json"

struct aa_forward_target {
    char *url;          /* owned: syslog+unix:PATH, syslog+udp://H:P, ..., relp://, http(s):// */
    char *ca_file;      /* owned, may be NULL: TLS trust anchors (syslog+tls, https) */
    char *cert_file;    /* owned, may be NULL: client certificate */
    char *key_file;     /* owned, may be NULL: client key */
    bool tls_verify;    /* default true */
    char *http_mode;    /* owned, may be NULL: "bulk" (Elasticsearch _bulk) or "lines" (JSON lines POST) */
    char *http_index;   /* owned, may be NULL: Elasticsearch index for _bulk */
};

struct aa_config {
    char *path;               /* owned: the file read, or the default path */
    bool present;             /* the file existed and was parsed */
    bool trusted;             /* owned by root and not writable by group/others */
    char *environment;        /* owned, may be NULL: this machine's environment name */
    char *log;                /* owned, may be NULL: journal path */
    char *tasks_dir;          /* owned, may be NULL */
    char *image_ref_env;      /* owned: name of the env var holding the running image ref (IMAGE_REF) */
    struct aa_forward_target *forward; /* owned array */
    size_t n_forward;
    enum aa_forward_format forward_format;
    enum aa_seccomp_mode seccomp;
    bool fail_open;
    bool sync;
    long long timeout_ms;     /* 0 = none */
    long long grace_ms;       /* default 10000 */
    char **env_allowlist;     /* owned, NULL-terminated, may be NULL: extra env names logged with values */
    char *aggregator_url;     /* owned, may be NULL: template for the Execution log "Output summary";
                                 {session}, {task}, {trace_id}, {start}, {end} are substituted */
    char *incidents_dir;      /* owned, may be NULL: default <project>/.aiwg/incidents */
    long long checkpoint_every; /* chain.checkpoint every N records (default 1000) */
    long long breakglass_min_reason; /* minimum reason length (default 12) */
};

/* Parse a config file.  A missing file (ENOENT) yields defaults with present=false.
 * Any other problem returns -errno / -EINVAL with a one-line message in err
 * (e.g. "unknown key \"frobnicate\" in /etc/admin-audit/config.json").
 * On success *cfg is filled and must be released with aa_config_done(). */
int aa_config_load(const char *path, struct aa_config *cfg, char *err, size_t errlen);

/* Same, from a buffer (used by tests and the fuzzer); trusted is false. */
int aa_config_parse(const char *buf, size_t len, const char *name, struct aa_config *cfg, char *err,
                    size_t errlen);

/* Defaults only. */
void aa_config_defaults(struct aa_config *cfg);

void aa_config_done(struct aa_config *cfg);

/* Parse "90s", "15m", "2h", "500ms", "1h30m" or a plain number of seconds into
 * milliseconds.  Returns 0 or -EINVAL. */
int aa_parse_duration(const char *s, long long *ret_ms);
