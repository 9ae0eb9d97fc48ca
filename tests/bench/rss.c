/* rss.c - print this process's memory, for tests/bench/run.sh: one line
 * "VmRSS RssAnon RssFile ShimRss" in KiB appended to the file named by
 * argv[1].  VmRSS/RssAnon/RssFile come from /proc/self/status; ShimRss is the
 * resident size of the mappings of libadmin-audit-shim.so (/proc/self/smaps).
 * Run bare and under admin-audit (shim preloaded) to get the shim's added RSS
 * per process. */
#include <stdio.h>
#include <string.h>

static long
field(const char *buf, const char *name)
{
    const char *p = strstr(buf, name);
    long v = -1;
    if (p && sscanf(p + strlen(name), " %ld", &v) != 1)
        v = -1;
    return v;
}

static long
shim_rss(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    long total = 0, v;
    int in_shim = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' '))
            in_shim = strstr(line, "libadmin-audit-shim.so") != NULL;
        else if (in_shim && sscanf(line, "Rss: %ld", &v) == 1)
            total += v;
    }
    fclose(f);
    return total;
}

int
main(int argc, char **argv)
{
    char buf[8192];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f || argc != 2)
        return 2;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    long shim = shim_rss();
    FILE *o = fopen(argv[1], "a");
    if (!o)
        return 2;
    fprintf(o, "%ld %ld %ld %ld\n", field(buf, "VmRSS:"), field(buf, "RssAnon:"),
            field(buf, "RssFile:"), shim);
    return fclose(o) == 0 ? 0 : 1;
}
