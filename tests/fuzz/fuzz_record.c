/* libFuzzer: arbitrary bytes as argv (split at '\n') through redaction,
 * the UTF-8 rule and serialisation, then into the journal's hash-line check
 * and the verifier's parser.  Invariants: the serialised record is valid
 * UTF-8, parses back as one JSON object, and contains no raw newline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aa_bytes argv[64];
    size_t argc = 0, start = 0;
    for (size_t i = 0; i <= size && argc < 64; i++) {
        if (i == size || data[i] == '\n') {
            argv[argc].p = (const char *)data + start;
            argv[argc].n = i - start;
            argc++;
            start = i + 1;
        }
    }
    struct aa_envelope env = {"s", NULL, "u", "root", "h"};
    struct timespec ts = {0, 0};
    struct json_object *rec = aa_record_new(&env, "process.exec", "unknown", &ts, 1);
    if (!rec)
        return 0;
    struct aa_counts counts = {0};
    if (aa_rec_set_args(rec, "process.args", argv, argc, &counts) == 0 &&
        aa_rec_set_env(rec, "process.env_vars", argv, argc, NULL, &counts) == 0 &&
        aa_rec_set_bytes(rec, "process.title", data, size, true, &counts) == 0) {
        size_t n = 0;
        const char *s = aa_record_serialize(rec, &n);
        if (!s || !aa_utf8_valid(s, n) || memchr(s, '\n', n))
            abort();
        struct json_object *back = json_tokener_parse(s);
        if (!back || !json_object_is_type(back, json_type_object))
            abort();
        json_object_put(back);
    }
    json_object_put(rec);
    char a[65], b[65];
    (void)aa_chain_line_hash((const char *)data, size, a, b);
    return 0;
}
