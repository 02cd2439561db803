/*
 * fuzz_debugger.c: the debugger's command engine (tui/commands.c over
 * tui/engine.c), given any script.
 *
 * Input: byte 0 picks a program of the tree (run from the root, as make
 * does), byte 1 a stack of monitors and a variant, the rest is the script,
 * one command per line.  The session runs under a budget of the program's
 * steps, so every motion ends.  Properties: every command ends (the
 * fuzzer's -timeout), a command either succeeds or writes one "error:"
 * line, and the same script on a fresh session writes the same bytes
 * (the debugger is deterministic, reverse motions included).  `trace
 * save` writes files and starts graphviz, so lines naming it are left out.
 */
#include "programs.h"

#include "../../tui/commands.h"

#define FUZZ_DEBUGGER_STEPS 3000u
#define FUZZ_DEBUGGER_LINES 48
#define FUZZ_DEBUGGER_LINE 160

static const char *const programs[] = {
    "programs/traps.s",    "programs/timer.s",  "programs/usermode.s", "programs/paging.s",
    "programs/critical.s", "programs/echo.s",   "programs/hello.s",    "programs/toyos/toyos.s",
    "programs/toyos/toyos_paged.s",
};
/* The last is the hybrid build (programs/vmm/vmm_hybrid.s), whose
 * interpreter the debugger looks into (interp_next). */
static const char *const stacks[] = {"bare", "c", "c,asm", "asm", "asm"};
#define HYBRID_STACK 4
static const char *const variants[] = {"pg", "hybrid", "x86like", "pg"};

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

/* The programs assembled and the built-in asm VMM loaded once for the whole
 * campaign (assembling them for each of an input's two sessions was a
 * third of the harness's time): main's state, read only after this. */
static struct asm_image images[COUNT(programs)];
static struct asm_vmm *built_in_vmm, *hybrid_vmm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_load_programs(programs, COUNT(programs), images);
    built_in_vmm = fuzz_load_asm_vmm(NULL);
    hybrid_vmm = fuzz_load_asm_vmm("programs/vmm/vmm_hybrid.s");
    return 0;
}

/* Runs script (NUL-separated lines, n of them) on a fresh session; returns
 * what the commands wrote (free it), or NULL when the program does not
 * load (it always does: they are the tree's). */
static char *session(const uint8_t *choice, char lines[][FUZZ_DEBUGGER_LINE], unsigned n, size_t *len)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    FUZZ_CHECK(isa_variant_load(variants[(choice[1] >> 2) % COUNT(variants)], &v, err), "%s", err);
    struct engine_config cfg = {0};
    char rerr[RUN_ERROR_SIZE];
    FUZZ_CHECK(run_spec_parse(stacks[choice[1] % COUNT(stacks)], &cfg.spec, rerr), "%s", rerr);
    cfg.program = programs[choice[0] % COUNT(programs)];
    cfg.image = &images[choice[0] % COUNT(programs)];
    cfg.asm_vmm = choice[1] % COUNT(stacks) == HYBRID_STACK ? hybrid_vmm : built_in_vmm;
    cfg.variant = &v;
    cfg.mem = 32768; /* what toyos_paged needs under c,asm, with room */
    cfg.max_steps = FUZZ_DEBUGGER_STEPS;
    cfg.input = (const uint8_t *)"typed\n";
    cfg.input_len = 6;
    FILE *quiet = fopen("/dev/null", "w");
    FUZZ_CHECK(quiet != NULL, "cannot open /dev/null");
    struct engine *e = engine_open(&cfg, quiet);
    fclose(quiet);
    FUZZ_CHECK(e != NULL, "%s does not load", cfg.program);

    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    FUZZ_CHECK(out != NULL, "open_memstream");
    struct cmd_ctx c;
    commands_init(&c, e, out);
    c.echo_console = false;
    for (unsigned i = 0; i < n && !c.quit; i++) {
        long before = ftell(out);
        int rc = commands_execute(&c, lines[i]);
        fflush(out);
        FUZZ_CHECK(rc == 0 || (size_t)before < *len, "'%s' failed without a word", lines[i]);
        if (rc != 0)
            FUZZ_CHECK(strstr(text + before, "error") != NULL, "'%s' failed without an error: %s", lines[i],
                       text + before);
    }
    fclose(out);
    engine_close(e);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    char (*lines)[FUZZ_DEBUGGER_LINE] = malloc(FUZZ_DEBUGGER_LINES * sizeof *lines);
    FUZZ_CHECK(lines != NULL, "out of memory");
    unsigned n = 0;
    size_t at = 2;
    while (at < size && n < FUZZ_DEBUGGER_LINES) {
        size_t end = at;
        while (end < size && data[end] != '\n') end++;
        size_t len = end - at < FUZZ_DEBUGGER_LINE - 1 ? end - at : FUZZ_DEBUGGER_LINE - 1;
        memcpy(lines[n], data + at, len);
        lines[n][len] = '\0';
        if (strlen(lines[n]) == len && !strstr(lines[n], "trac")) n++;
        at = end + 1;
    }
    size_t len1, len2;
    char *first = session(data, lines, n, &len1);
    char *second = session(data, lines, n, &len2);
    FUZZ_CHECK(len1 == len2 && memcmp(first, second, len1) == 0,
               "the same script wrote different bytes on a fresh session:\n%s\n---\n%s", first, second);
    free(first);
    free(second);
    free(lines);
    return 0;
}
