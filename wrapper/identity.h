/* Operator identity (contract §5), established from the kernel first:
 * real/effective ids, the audit login uid (survives su and sudo), sudo's
 * variables, the controlling tty, SSH_CONNECTION, CI markers, host ids. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

struct aa_identity {
    uid_t uid, euid;
    gid_t gid, egid;
    char *uid_name, *euid_name;   /* owned; numeric string when no passwd entry */
    bool has_loginuid;
    uid_t loginuid;
    char *loginuid_name;          /* owned, NULL without login uid */
    char *sudo_user, *sudo_uid;   /* owned, NULL when unset */
    char *tty;                    /* owned, NULL when no controlling tty */
    char *ssh_client_ip;          /* owned, NULL without SSH_CONNECTION */
    long ssh_client_port;
    char *ci;                     /* owned, NULL when not in CI: the marker seen ("GITHUB_ACTIONS", "CI", ...) */
    char *claimed;                /* owned, NULL without --operator */
    char *name;                   /* owned: user.name, the human */
    const char *source;           /* "loginuid" | "sudo" | "claimed" | "ci" | "uid" */
    bool anonymous_root;          /* uid 0 and nothing above names a human */
    char *host_name, *machine_id, *boot_id, *kernel; /* owned */
};

/* Establish the identity of this process.  claimed: --operator value or NULL.
 * Returns 0 or -ENOMEM. */
int aa_identity_get(const char *claimed, struct aa_identity *id);

/* Add the full identity to a session.start record: user.id, user.effective.id,
 * session.identity_source, session.audit_loginuid, session.tty, session.sudo,
 * session.ci, client.ip/port, host.id, host.boot.id, host.os.kernel. */
int aa_identity_to_record(const struct aa_identity *id, struct json_object *rec);

void aa_identity_done(struct aa_identity *id);
