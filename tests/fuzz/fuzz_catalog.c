/* libFuzzer: the Admin Task Catalog parser (wrapper/catalog.c) and the cell
 * locator report uses to rewrite one cell: any bytes give a catalog (rows
 * and issues) or a refusal with its reason; every cell span of every line
 * stays inside that line, and a row's cells are found where the parser
 * found them. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct aa_catalog c;
    char err[256] = "";
    int r = aa_catalog_parse(buf, size, "fuzz.md", &c, err, sizeof err);
    if (r == 0) {
        for (size_t i = 0; i < c.n_rows; i++)
            if (!c.rows[i].id || !c.rows[i].category || c.rows[i].line == 0)
                __builtin_trap();
        aa_catalog_done(&c);
    } else if (r != -ENOMEM && err[0] == '\0') {
        __builtin_trap(); /* every refusal says why */
    }
    /* each line on its own */
    for (size_t pos = 0; pos < size;) {
        const char *nl = memchr(buf + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : size - pos;
        for (size_t idx = 0; idx < 8; idx++) {
            size_t off = 0, len = 0;
            if (aa_catalog_cell_span(buf + pos, n, idx, &off, &len) == 0 && off + len > n)
                __builtin_trap();
        }
        pos += n + 1;
    }
    return 0;
}
