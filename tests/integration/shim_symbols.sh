#!/bin/bash
# The shim links libc only, exports exactly the hooked names, and imports
# nothing that is unsafe on a hook path (reference/style.md §2.8).
. "$(dirname "$0")/lib.sh"
aa_init
command -v readelf >/dev/null && command -v nm >/dev/null || { echo "binutils missing"; exit 77; }

needed=$(readelf -d "$AA_SHIM" | awk '/NEEDED/ {print $NF}' | tr -d '[]' | tr '\n' ' ')
[ "$needed" = "libc.so.6 " ] && ok "NEEDED libc.so.6 only" || fail "NEEDED" "$needed"

want="connect execl execle execlp execv execve execveat execvp execvpe fexecve getaddrinfo gethostbyname gethostbyname2 gethostbyname2_r gethostbyname_r getnameinfo popen posix_spawn posix_spawnp sendmsg sendto system"
got=$(nm -D --defined-only "$AA_SHIM" | awk '{print $3}' | sed 's/@.*//' | sort | tr '\n' ' ')
[ "$got" = "$want " ] && ok "exports exactly the hooked names" || fail "exports" "$got"

bad=$(nm -D --undefined-only "$AA_SHIM" | awk '{print $2}' | sed 's/@.*//' |
      grep -E '^(malloc|calloc|realloc|free|printf|snprintf|sprintf|fprintf|vfprintf|dprintf|syslog|getenv|secure_getenv|setenv|inet_ntop|strerror|pthread_mutex_.*|json_.*|fopen|fwrite|fputs|puts)$' | tr '\n' ' ')
[ -z "$bad" ] && ok "no unsafe imports" || fail "unsafe imports" "$bad"

# initial-exec TLS only (no __tls_get_addr: TLS access never allocates)
nm -D --undefined-only "$AA_SHIM" | grep -q __tls_get_addr && fail "TLS model" "__tls_get_addr imported" || ok "TLS initial-exec"
readelf -d "$AA_SHIM" | grep -q STATIC_TLS && ok "STATIC_TLS flag" || fail "STATIC_TLS" "$(readelf -d "$AA_SHIM" | grep FLAGS)"
aa_done
