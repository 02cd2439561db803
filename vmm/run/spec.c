/* spec.c: the monitors of a run, as the command line spells them. */
#include "run_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const monitor_names[] = {[RUN_MONITOR_C] = "c", [RUN_MONITOR_ASM] = "asm"};

const char *run_monitor_name(enum run_monitor k)
{
    return (unsigned)k < sizeof monitor_names / sizeof monitor_names[0] ? monitor_names[k] : "?";
}

bool run_spec_parse(const char *text, struct run_spec *out, char err[RUN_ERROR_SIZE])
{
    *out = (struct run_spec){.mode = VMM_TE};
    if (*text == '\0' || strcasecmp(text, "bare") == 0) return true;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        bool known = false;
        enum run_monitor k = RUN_MONITOR_C;
        for (unsigned i = 0; i < sizeof monitor_names / sizeof monitor_names[0]; i++)
            if (strlen(monitor_names[i]) == len && strncasecmp(p, monitor_names[i], len) == 0)
                k = (enum run_monitor)i, known = true;
        if (!known) {
            snprintf(err, RUN_ERROR_SIZE,
                     "bad stack '%.100s': expected a list of 'c' and 'asm' like c,asm,asm, "
                     "found '%.*s'", text, (int)(len > 40 ? 40 : len), p);
            return false;
        }
        if (k == RUN_MONITOR_C && out->n > 0) {
            snprintf(err, RUN_ERROR_SIZE,
                     "bad stack '%.100s': 'c' (the C VMM) can only be the bottom level", text);
            return false;
        }
        if (out->n == RUN_MAX_MONITORS) {
            snprintf(err, RUN_ERROR_SIZE, "bad stack '%.100s': at most %d monitors", text,
                     RUN_MAX_MONITORS);
            return false;
        }
        out->kind[out->n++] = k;
        if (p[len] == '\0') return true;
        p += len + 1;
    }
}

bool run_spec_depth(unsigned depth, struct run_spec *out, char err[RUN_ERROR_SIZE])
{
    *out = (struct run_spec){.mode = VMM_TE};
    if (depth > RUN_MAX_MONITORS) {
        snprintf(err, RUN_ERROR_SIZE, "bad depth %u: at most %d", depth, RUN_MAX_MONITORS);
        return false;
    }
    out->n = depth;
    for (unsigned i = 0; i < depth; i++) out->kind[i] = i == 0 ? RUN_MONITOR_C : RUN_MONITOR_ASM;
    return true;
}

void run_spec_format(const struct run_spec *spec, char *buf, size_t size)
{
    if (size == 0) return;
    buf[0] = '\0';
    if (spec->n == 0) {
        snprintf(buf, size, "bare");
        return;
    }
    size_t used = 0;
    for (unsigned i = 0; i < spec->n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", run_monitor_name(spec->kind[i]));
        if (w < 0) return;
        used += (size_t)w;
    }
}
