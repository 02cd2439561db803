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
    cr_assert_eq(run_options_parse(&o, 8, argv, "s", "PROGRAM"), 0);
    cr_assert_eq(o.mem, 4096);
    cr_assert_eq(o.max_steps, 99);
    cr_assert_str_eq(o.variant.name, "x86like");
    cr_assert(o.json);
    cr_assert_eq(o.nprograms, 1);
    cr_assert_str_eq(o.programs[0], "p.s");
    run_options_free(&o);

    char *plain[] = {"run", "p.s", NULL};
    cr_assert_eq(run_options_parse(&o, 2, plain, "s", "PROGRAM"), 0);
    cr_assert_eq(o.mem, ISA_DEFAULT_MEMSIZE);
    cr_assert_eq(o.max_steps, RUN_DEFAULT_MAX_STEPS);
    cr_assert_str_eq(o.variant.name, "pg");
    run_options_free(&o);
}

Test(report, exit_status_and_outcome)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", &v, err));
    struct machine *m = machine_create(1024, &v);
    uint32_t *mem = machine_memory(m);
    mem[16] = isa_make_i(ISA_ADDI, 1, 0, 300); /* r1 = 300: exit status 300 & 255 */
    mem[17] = isa_make_j(ISA_HALT, 0);
    enum machine_stop stop = machine_run(m, 100);
    struct run_outcome o = report_outcome_of(m, stop);
    cr_assert_eq(o.stop, MACHINE_HALT);
    cr_assert_eq(o.instructions, 2);
    cr_assert_eq(o.steps, 2);
    cr_assert_eq(o.psw.pc, 18);
    cr_assert_eq(report_exit_status(&o), 300 & 255);
    o.stop = MACHINE_BUDGET;
    cr_assert_eq(report_exit_status(&o), CLI_EXIT_STOPPED);
    machine_destroy(m);
}
