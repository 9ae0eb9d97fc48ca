/* admin-audit: verb dispatch.  The run verb is implied when the first
 * argument is an option or `--`. */
#include <string.h>

#include "admin-audit/version.h"
#include "commands.h"
#include "util.h"

int
main(int argc, char **argv)
{
    if (argc >= 2) {
        const char *verb = argv[1];
        static const struct {
            const char *name;
            int (*fn)(int, char **);
        } verbs[] = {
            {"run", aa_cmd_run},       {"check", aa_cmd_run},     {"break-glass", aa_cmd_run},
            {"rollback", aa_cmd_run},  {"verify", aa_cmd_verify}, {"lint", aa_cmd_lint},
            {"pending", aa_cmd_pending}, {"flush", aa_cmd_flush}, {"report", aa_cmd_report},
        };
        for (size_t i = 0; i < AA_ARRAY_SIZE(verbs); i++)
            if (strcmp(verb, verbs[i].name) == 0)
                return verbs[i].fn(argc - 1, argv + 1);
    }
    /* No verb: `run` implied (also handles --help / --version). */
    argv[0] = (char *)"run";
    return aa_cmd_run(argc, argv);
}
