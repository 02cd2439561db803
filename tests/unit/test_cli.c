/* Units for the command-line layer: the JSON writer, number parsing, reports. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../machine/machine.h"
#include "../../tui/json.h"
#include "../../tui/options.h"
#include "../../tui/report.h"
#include "../../tui/cli.h"

/* Runs fn with a JSON writer on a memory stream; returns the text (free it). */
static char *json_text(void (*fn)(struct json *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    struct json j;
    json_init(&j, f);
    fn(&j);
    fclose(f);
    return buf;
}

static void write_nested(struct json *j)
{
    json_object_begin(j, NULL);
    json_uint(j, "a", 1);
    json_array_begin(j, "b");
    json_int(j, NULL, -2);
    json_bool(j, NULL, true);
    json_null(j, NULL);
    json_object_begin(j, NULL);
    json_object_end(j);
    json_array_end(j);
    json_double(j, "c", 0.5);
    json_object_end(j);
}

Test(json, commas_and_nesting)
{
    char *s = json_text(write_nested);
    cr_assert_str_eq(s, "{\"a\":1,\"b\":[-2,true,null,{}],\"c\":0.5}");
    free(s);
}

static void write_strings(struct json *j)
{
    static const uint8_t bytes[] = {'q', '"', '\\', '\n', 0x01, 0xff, 0x7f};
    json_array_begin(j, NULL);
    json_string(j, NULL, "tab\there");
    json_bytes(j, NULL, bytes, sizeof bytes);
    json_array_end(j);
}

Test(json, escapes_every_byte_as_valid_json)
{
    char *s = json_text(write_strings);
    cr_assert_str_eq(s, "[\"tab\\there\",\"q\\\"\\\\\\n\\u0001\\u00ff\\u007f\"]");
    free(s);
}

Test(options, numbers_are_decimal_or_hex_only)
{
    uint64_t v;
    cr_assert(options_parse_u64("0", &v) && v == 0);
    cr_assert(options_parse_u64("1048576", &v) && v == 1048576);
    cr_assert(options_parse_u64("0x10", &v) && v == 16);
    cr_assert(options_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    const char *bad[] = {"", "-1", "+1", " 1", "1x", "abc", "010", "0x", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(options_parse_u64(bad[i], &v), "'%s' must be refused", bad[i]);
}

Test(options, defaults_and_values)
{
    char *argv[] = {"run", "--mem", "4096", "--max-steps=99", "--isa", "x86like", "--json", "p.s", NULL};
    struct run_options o;
    cr_assert_eq(run_options_parse(&o, 8, argv, "s", "PROGRAM", OPTS_RUN), 0);
    cr_assert_eq(o.mem, 4096);
    cr_assert_eq(o.max_steps, 99);
    cr_assert_str_eq(o.variant.name, "x86like");
    cr_assert(o.json);
    cr_assert_eq(o.nprograms, 1);
    cr_assert_str_eq(o.programs[0], "p.s");
    run_options_free(&o);

    char *plain[] = {"run", "p.s", NULL};
    cr_assert_eq(run_options_parse(&o, 2, plain, "s", "PROGRAM", OPTS_RUN), 0);
    cr_assert_eq(o.mem, ISA_DEFAULT_MEMSIZE);
    cr_assert_eq(o.max_steps, RUN_DEFAULT_MAX_STEPS);
    cr_assert_str_eq(o.variant.name, "pg");
    run_options_free(&o);
}

/* A program halting with r1 = r, on a bare run. */
static struct run *halting_with(uint32_t r1, struct asm_image *img, const struct isa_variant *v)
{
    char src[128], err[RUN_ERROR_SIZE];
    snprintf(src, sizeof src, "_start: li r1, %u\n        halt\n", r1);
    cr_assert_eq(asm_assemble_string(src, "t.s", img, NULL), 0);
    const struct asm_image *programs[1] = {img};
    struct run_config cfg = {.spec = {.n = 0}, .variant = v, .memsize = 1024, .nguests = 1};
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_not_null(r, "%s", err);
    run_go(r, 100);
    return r;
}

Test(report, exit_status_and_outcome)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", &v, err));
    /* A status a halting guest gives is its own; every other value is
     * clamped, so that none can pass for one of the tool's outcomes. */
    const struct {
        uint32_t r1;
        int status;
    } cases[] = {{0, 0}, {2, 2}, {119, 119}, {120, CLI_EXIT_HALT_OTHER}, {124, CLI_EXIT_HALT_OTHER},
                 {256, CLI_EXIT_HALT_OTHER}, {0xffffffffu, CLI_EXIT_HALT_OTHER}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct asm_image img;
        struct run *r = halting_with(cases[i].r1, &img, &v);
        struct run_outcome o = report_outcome_of_run(r, 0);
        cr_assert_eq(o.stop, MACHINE_HALT);
        cr_assert_eq(o.regs[1], cases[i].r1, "the full r1 is kept");
        cr_assert_eq(report_exit_status(&o), cases[i].status, "r1 = %u", cases[i].r1);
        if (i == 0) {
            cr_assert_eq(o.instructions, 2);
            cr_assert_eq(o.steps, 2);
            cr_assert_eq(o.psw.pc, 18);
            o.stop = MACHINE_BUDGET;
            cr_assert_eq(report_exit_status(&o), CLI_EXIT_BUDGET);
            o.stop = MACHINE_CHECK;
            cr_assert_eq(report_exit_status(&o), CLI_EXIT_STOPPED);
            o.stop = MACHINE_UNHANDLED_TRAP;
            cr_assert_eq(report_exit_status(&o), CLI_EXIT_STOPPED);
        }
        run_destroy(r);
        asm_image_free(&img);
    }
    /* The tool's own codes are distinct and above every clamped status. */
    const int own[] = {CLI_EXIT_DIFFERENT, CLI_EXIT_BUDGET, CLI_EXIT_USAGE, CLI_EXIT_STOPPED};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_gt(own[i], CLI_EXIT_HALT_OTHER);
        for (size_t j = i + 1; j < 4; j++) cr_assert_neq(own[i], own[j]);
    }
}
