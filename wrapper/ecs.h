/* Native admin-audit/1 record -> Elastic Common Schema, the mapping of
 * reference/schema.md §1.3, applied by the forwarder (--forward-format ecs).
 * The journal itself always stays native. */
#pragma once

#include <json-c/json.h>

#define AA_ECS_VERSION "8.11.0"

/* New ECS document for a native record (or a chain.checkpoint message).
 * The input is not modified.  Returns an owned object, NULL on ENOMEM or
 * when rec is not an object. */
struct json_object *aa_ecs_map(struct json_object *rec);

/* POSIX-shell-quoted command line from a JSON array of strings (owned). */
char *aa_ecs_command_line(struct json_object *args);
