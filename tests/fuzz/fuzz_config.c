/* libFuzzer: the configuration file parser (json-c strict tokener plus our
 * key and type checks): any bytes give either a config or one error line. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aa_config cfg;
    char err[512] = "";
    int r = aa_config_parse((const char *)data, size, "fuzz.json", &cfg, err, sizeof err);
    if (r < 0 && r != -ENOMEM && err[0] == '\0')
        __builtin_trap(); /* every refusal says why */
    aa_config_done(&cfg);
    return 0;
}
