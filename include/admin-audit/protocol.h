/* Wire format between libadmin-audit-shim.so and the admin-audit wrapper.
 *
 * Two AF_UNIX sockets in the abstract namespace, named from the control
 * variable ADMIN_AUDIT_SOCKET=<base> (no leading NUL):
 *
 *   "\0<base>/x"  SOCK_SEQPACKET, listening.  One connection per exec
 *                 attempt.  The shim sends the report (a header message and
 *                 as many chunk messages as the payload needs, each at most
 *                 AA_PROTO_CHUNK bytes), then blocks on the verdict
 *                 (struct aa_proto_ack).  When the call returns (exec failed,
 *                 posix_spawn returned an error), the shim sends an
 *                 AA_MSG_EXEC_RESULT on the same connection.  A successful
 *                 exec closes the connection (SOCK_CLOEXEC).
 *   "\0<base>/d"  SOCK_DGRAM with SO_PASSCRED: fire-and-forget reports
 *                 (connect, sendto, sendmsg, name lookups), one datagram each,
 *                 at most AA_PROTO_DGRAM_MAX bytes.  Blocking send:
 *                 backpressure, never drops.
 *
 * Authentication is the kernel's: SO_PEERCRED for the stream, SCM_CREDENTIALS
 * for datagrams; the pid must be a member of the session.
 *
 * A message is a header followed by a payload of TLV fields
 * (struct aa_proto_tlv + len bytes, no padding, read with memcpy).  Integer
 * fields are int64_t in host byte order (both ends run on the same host).
 * Repeated fields (AA_T_ARG, AA_T_DNS_IP) keep their order. */
#ifndef AA_PROTOCOL_H
#define AA_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AA_PROTO_MAGIC 0x31534141u /* "AAS1" */
#define AA_PROTO_VERSION 1
#define AA_PROTO_CHUNK 32768u           /* max bytes of one SEQPACKET message */
#define AA_PROTO_DGRAM_MAX 4096u        /* max bytes of one datagram */
#define AA_PROTO_MAX_PAYLOAD (16u << 20) /* receiver limit for one report */
#define AA_PROTO_MAX_IPS 32u            /* addresses carried per lookup */
#define AA_PROTO_REF_MAX 128u

/* Environment (control variables, set by the wrapper, restored by the shim on
 * every exec). */
#define AA_ENV_SOCKET "ADMIN_AUDIT_SOCKET" /* abstract socket base name */
#define AA_ENV_SHIM "ADMIN_AUDIT_SHIM"     /* absolute path of the shim */
#define AA_ENV_FLAGS "ADMIN_AUDIT_FLAGS"   /* comma list: "fail-open" */

enum aa_msg_type {
    AA_MSG_EXEC = 1,        /* exec attempt, needs an ack */
    AA_MSG_EXEC_RESULT = 2, /* the exec call returned: AA_T_ERRNO */
    AA_MSG_CONNECT = 3,     /* datagram */
    AA_MSG_DNS = 4,         /* datagram */
    AA_MSG_ACK = 5,         /* wrapper -> shim */
};

struct aa_proto_hdr {
    uint32_t magic;   /* AA_PROTO_MAGIC */
    uint16_t version; /* AA_PROTO_VERSION */
    uint16_t type;    /* enum aa_msg_type */
    uint32_t len;     /* payload bytes following the header (all chunks) */
    uint32_t reserved;
};

struct aa_proto_tlv {
    uint16_t tag; /* enum aa_tag */
    uint16_t reserved;
    uint32_t len; /* value bytes following */
};

enum aa_verdict {
    AA_VERDICT_ALLOW = 1,
    AA_VERDICT_DENY = 2,
};

/* The wrapper's answer to AA_MSG_EXEC: sent after the record is in the
 * journal.  ref = event.id of the attempt record (not NUL-terminated). */
struct aa_proto_ack {
    struct aa_proto_hdr hdr; /* type AA_MSG_ACK, len = sizeof(ack) - sizeof(hdr) */
    uint32_t verdict;        /* enum aa_verdict */
    uint32_t ref_len;
    char ref[AA_PROTO_REF_MAX];
};

enum aa_tag {
    /* common */
    AA_T_PID = 1,  /* int64: getpid() as the process sees it */
    AA_T_PPID = 2, /* int64 */
    AA_T_UID = 3,  /* int64: real uid */
    AA_T_EUID = 4, /* int64 */
    AA_T_TID = 5,  /* int64 */
    AA_T_API = 6,  /* bytes: "execve", "posix_spawn", "connect", "getaddrinfo", ... */
    AA_T_ERRNO = 7, /* int64: errno after the call (0 = success) */
    AA_T_RC = 8,    /* int64: return value */
    AA_T_DURATION = 9, /* int64: ns spent in the call */
    AA_T_GID = 10,  /* int64: egid */
    /* exec */
    AA_T_PATH_ARG = 20,   /* bytes: the path/file argument as passed */
    AA_T_EXECUTABLE = 21, /* bytes: resolved path */
    AA_T_CWD = 22,        /* bytes */
    AA_T_ARG = 23,        /* bytes, repeated: argv[i] */
    AA_T_REF = 24,        /* bytes: event.id of the attempt (results) */
    AA_T_CHILD_PID = 25,  /* int64: pid created by posix_spawn */
    /* connect */
    AA_T_FAMILY = 40,   /* int64: AF_INET / AF_INET6 */
    AA_T_ADDR = 41,     /* bytes: 4 or 16 raw address bytes */
    AA_T_PORT = 42,     /* int64: host byte order */
    AA_T_SOCKTYPE = 43, /* int64: SO_TYPE */
    AA_T_PROTOCOL = 44, /* int64: SO_PROTOCOL */
    /* dns */
    AA_T_DNS_NAME = 60,    /* bytes: question */
    AA_T_DNS_QFAMILY = 61, /* int64: AF_UNSPEC / AF_INET / AF_INET6 (-1 = PTR) */
    AA_T_DNS_IP = 62,      /* bytes, repeated: 1 byte family (4/6) + 4/16 raw bytes */
    AA_T_DNS_EAI = 63,     /* int64: getaddrinfo-style EAI_* code (0 = ok) */
    AA_T_DNS_HERR = 64,    /* int64: h_errno for gethostbyname* (0 = ok) */
    AA_T_DNS_SERVICE = 65, /* bytes */
    AA_T_DNS_ANSWER = 66,  /* bytes: host name answered (getnameinfo) */
};

#ifdef __cplusplus
}
#endif

#endif /* AA_PROTOCOL_H */
