#include "identity.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

static char *
user_name(uid_t uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
        return strdup(res->pw_name);
    char num[32];
    (void)snprintf(num, sizeof num, "%u", (unsigned)uid);
    return strdup(num);
}

static char *
read_line(const char *path)
{
    char *buf = NULL;
    if (aa_read_file(path, 4096, &buf, NULL) < 0)
        return NULL;
    aa_strstrip(buf);
    return buf;
}

static char *
env_dup(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

/* The controlling terminal: /proc/self/stat tty_nr, resolved through the
 * standard descriptors when they are on it (no claim from the environment). */
static char *
controlling_tty(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        char buf[256];
        if (isatty(fd) && ttyname_r(fd, buf, sizeof buf) == 0)
            return strdup(buf);
    }
    cleanup_fd int fd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0)
        return strdup("/dev/tty");
    return NULL;
}

static const char *const ci_markers[] = {
    "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TF_BUILD",
    "TEAMCITY_VERSION", "DRONE", "WOODPECKER_CI", "BITBUCKET_BUILD_NUMBER", "CI",
};

int
aa_identity_get(const char *claimed, struct aa_identity *id)
{
    *id = (struct aa_identity){0};
    id->uid = getuid();
    id->euid = geteuid();
    id->gid = getgid();
    id->egid = getegid();
    id->uid_name = user_name(id->uid);
    id->euid_name = user_name(id->euid);
    if (!id->uid_name || !id->euid_name)
        return -ENOMEM;

    cleanup_free char *lu = read_line("/proc/self/loginuid");
    if (lu && *lu) {
        char *end;
        unsigned long v = strtoul(lu, &end, 10);
        if (*end == '\0' && v != 4294967295UL) {
            id->has_loginuid = true;
            id->loginuid = (uid_t)v;
            id->loginuid_name = user_name(id->loginuid);
            if (!id->loginuid_name)
                return -ENOMEM;
        }
    }
    id->sudo_user = env_dup("SUDO_USER");
    id->sudo_uid = env_dup("SUDO_UID");
    id->tty = controlling_tty();
    const char *ssh = getenv("SSH_CONNECTION");
    if (ssh && *ssh) {
        /* "client_ip client_port server_ip server_port" */
        char ip[128];
        long port = 0;
        if (sscanf(ssh, "%127s %ld", ip, &port) == 2) {
            id->ssh_client_ip = strdup(ip);
            id->ssh_client_port = port;
        }
    }
    for (size_t i = 0; i < AA_ARRAY_SIZE(ci_markers); i++) {
        const char *v = getenv(ci_markers[i]);
        if (v && *v && strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
            id->ci = strdup(ci_markers[i]);
            break;
        }
    }
    if (claimed && *claimed)
        id->claimed = strdup(claimed);

    if (id->has_loginuid) {
        id->name = strdup(id->loginuid_name);
        id->source = "loginuid";
    } else if (id->sudo_user) {
        id->name = strdup(id->sudo_user);
        id->source = "sudo";
    } else if (id->claimed) {
        id->name = strdup(id->claimed);
        id->source = "claimed";
    } else {
        id->name = strdup(id->uid_name);
        id->source = id->ci ? "ci" : "uid";
    }
    if (!id->name)
        return -ENOMEM;
    id->anonymous_root = id->uid == 0 && !id->has_loginuid && !id->sudo_user &&
                         !id->ssh_client_ip && !id->ci && !id->claimed;

    char host[256] = "";
    if (gethostname(host, sizeof host - 1) < 0)
        strcpy(host, "unknown");
    id->host_name = strdup(host);
    id->machine_id = read_line("/etc/machine-id");
    id->boot_id = read_line("/proc/sys/kernel/random/boot_id");
    struct utsname u;
    if (uname(&u) == 0)
        id->kernel = strdup(u.release);
    return id->host_name ? 0 : -ENOMEM;
}

int
aa_identity_to_record(const struct aa_identity *id, struct json_object *rec)
{
    int r = 0;
    r |= aa_rec_set_num_str(rec, "user.id", (unsigned)id->uid);
    r |= aa_rec_set_num_str(rec, "user.effective.id", (unsigned)id->euid);
    r |= aa_rec_set_str(rec, "user.real.name", id->uid_name);
    r |= aa_rec_set_str(rec, "session.identity_source", id->source);
    if (id->has_loginuid) {
        r |= aa_rec_set_int(rec, "session.audit_loginuid", id->loginuid);
        r |= aa_rec_set_str(rec, "session.audit_login_name", id->loginuid_name);
    } else
        r |= aa_rec_set(rec, "session.audit_loginuid", NULL);
    if (id->sudo_user)
        r |= aa_rec_set_bytes(rec, "session.sudo.user", id->sudo_user, strlen(id->sudo_user),
                              false, NULL);
    if (id->sudo_uid)
        r |= aa_rec_set_bytes(rec, "session.sudo.uid", id->sudo_uid, strlen(id->sudo_uid), false,
                              NULL);
    if (id->claimed)
        r |= aa_rec_set_bytes(rec, "session.claimed_operator", id->claimed, strlen(id->claimed),
                              false, NULL);
    r |= id->tty ? aa_rec_set_bytes(rec, "session.tty", id->tty, strlen(id->tty), false, NULL)
                 : aa_rec_set(rec, "session.tty", NULL);
    if (id->ci)
        r |= aa_rec_set_str(rec, "session.ci", id->ci);
    if (id->ssh_client_ip) {
        r |= aa_rec_set_bytes(rec, "client.ip", id->ssh_client_ip, strlen(id->ssh_client_ip),
                              false, NULL);
        r |= aa_rec_set_int(rec, "client.port", id->ssh_client_port);
    }
    if (id->machine_id)
        r |= aa_rec_set_str(rec, "host.id", id->machine_id);
    if (id->boot_id)
        r |= aa_rec_set_str(rec, "host.boot.id", id->boot_id);
    if (id->kernel)
        r |= aa_rec_set_str(rec, "host.os.kernel", id->kernel);
    return r ? -ENOMEM : 0;
}

void
aa_identity_done(struct aa_identity *id)
{
    free(id->uid_name);
    free(id->euid_name);
    free(id->loginuid_name);
    free(id->sudo_user);
    free(id->sudo_uid);
    free(id->tty);
    free(id->ssh_client_ip);
    free(id->ci);
    free(id->claimed);
    free(id->name);
    free(id->host_name);
    free(id->machine_id);
    free(id->boot_id);
    free(id->kernel);
    *id = (struct aa_identity){0};
}
