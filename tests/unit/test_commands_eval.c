/*
 * Units for the debugger's expressions (commands_eval, tui/commands.h) and
 * for the engine's batch reverse-step and interrupt flag (tui/engine.h).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "../../tui/commands.h"
#include "../../tui/engine.h"

static struct engine *open_hello(struct isa_variant *v)
{
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", v, err), "%s", err);
    struct engine_config cfg = {0};
    cfg.program = "programs/hello.s";
    cfg.variant = v;
    cfg.mem = 65536;
    struct engine *e = engine_open(&cfg, stderr);
    cr_assert_not_null(e);
    return e;
}

/* hello.s at time 0, with a command context over it. */
static struct engine *open_with_commands(struct isa_variant *v, struct cmd_ctx *c)
{
    struct engine *e = open_hello(v);
    commands_init(c, e, stdout);
    return e;
}

static uint32_t eval_ok(const struct cmd_ctx *c, const char *text)
{
    uint32_t v = 0;
    char err[160] = "";
    cr_assert(commands_eval(c, text, &v, err, sizeof err), "%s: %s", text, err);
    return v;
}

static void eval_fails(const struct cmd_ctx *c, const char *text, const char *want)
{
    uint32_t v;
    char err[160] = "";
    cr_assert_not(commands_eval(c, text, &v, err, sizeof err), "%s should fail", text);
    cr_assert(strstr(err, want), "%s: '%s' does not say '%s'", text, err, want);
}

Test(eval, numbers_and_operators)
{
    struct isa_variant v;
    struct cmd_ctx c;
    struct engine *e = open_with_commands(&v, &c);
    cr_assert_eq(eval_ok(&c, "42"), 42);
    cr_assert_eq(eval_ok(&c, "0x10 + 2 * 3"), 22, "* binds tighter than +");
    cr_assert_eq(eval_ok(&c, "(0x10 + 2) * 3"), 54);
    cr_assert_eq(eval_ok(&c, "1 << 4 | 3"), 19, "<< binds tighter than |");
    cr_assert_eq(eval_ok(&c, "7 & 3 ^ 1"), 2, "& binds tighter than ^");
    cr_assert_eq(eval_ok(&c, "10 - 3 - 2"), 5, "left to right");
    cr_assert_eq(eval_ok(&c, "-1"), 0xffffffffu, "32-bit arithmetic");
    cr_assert_eq(eval_ok(&c, "~0 >> 28"), 0xf);
    cr_assert_eq(eval_ok(&c, "17 % 5"), 2);
    cr_assert_eq(eval_ok(&c, "1 << 40"), 0, "a shift past the word gives 0");
    cr_assert_eq(eval_ok(&c, "3 < 4"), 1);
    cr_assert_eq(eval_ok(&c, "1 << 2 <= 4"), 1, "<< binds tighter than <=");
    cr_assert_eq(eval_ok(&c, "-1 > 0"), 1, "comparisons are unsigned");
    cr_assert_eq(eval_ok(&c, "2 + 2 == 4 & 1"), 1, "== binds tighter than &");
    cr_assert_eq(eval_ok(&c, "!0 != 0"), 1);
    engine_close(e);
}

Test(eval, registers_psw_symbols_memory)
{
    struct isa_variant v;
    struct cmd_ctx c;
    struct engine *e = open_with_commands(&v, &c);
    uint32_t greeting;
    cr_assert(engine_symbol(e, "greeting", &greeting));
    cr_assert_eq(eval_ok(&c, "greeting"), greeting);
    cr_assert_eq(eval_ok(&c, "[greeting]"), 'H', "a word of memory");
    cr_assert_eq(eval_ok(&c, "*greeting + 1"), 'H' + 1, "* is the word, then + (unary binds tighter)");
    cr_assert_eq(eval_ok(&c, "*(greeting + 1)"), 'e');
    cr_assert_eq(eval_ok(&c, "$pc"), 0x10, "the reset pc is _start");
    cr_assert_eq(eval_ok(&c, "pc"), 0x10);
    cr_assert_eq(eval_ok(&c, "$m"), 1, "M: supervisor at reset");
    cr_assert_eq(eval_ok(&c, "$pg"), 0);
    char err[160];
    cr_assert(engine_set_reg(e, 0, 3, 77, err, sizeof err), "%s", err);
    cr_assert_eq(eval_ok(&c, "$r3 + r3"), 154, "$r3 and r3 are one register");
    cr_assert_eq(eval_ok(&c, "$r0"), 0);
    engine_close(e);
}

Test(eval, errors_say_what_is_wrong)
{
    struct isa_variant v;
    struct cmd_ctx c;
    struct engine *e = open_with_commands(&v, &c);
    eval_fails(&c, "1 / 0", "division by zero");
    eval_fails(&c, "1 % 0", "remainder by zero");
    eval_fails(&c, "$nosuch", "no register or PSW field '$nosuch'");
    eval_fails(&c, "nosuch", "no symbol or register 'nosuch'");
    eval_fails(&c, "(1 + 2", "expected ')'");
    eval_fails(&c, "[1", "expected ']'");
    eval_fails(&c, "1 2", "unexpected '2'");
    eval_fails(&c, "", "expected a number");
    eval_fails(&c, "99999999999", "not a 32-bit number");
    eval_fails(&c, "*0xffffff", "past the level's memory");
    engine_close(e);
}

/* Going back n steps at once lands where n single steps back land. */
Test(engine_reverse, n_steps_at_once_equal_n_single_steps)
{
    struct isa_variant v;
    struct engine *a = open_hello(&v), *b = open_hello(&v);
    for (struct engine **p = (struct engine *[]){a, b, NULL}; *p; p++) {
        engine_begin(*p, ENGINE_CONTINUE, 0);
        engine_go(*p, 90);
    }
    cr_assert_eq(engine_reverse_steps(a, 0, 37).outcome, ENGINE_DONE);
    for (int i = 0; i < 37; i++) cr_assert_eq(engine_reverse_step(b, 0).outcome, ENGINE_DONE);
    cr_assert_eq(engine_time(a), engine_time(b));
    cr_assert_eq(engine_guest_steps(a), 90 - 37);
    cr_assert_eq(engine_reverse_steps(a, 0, 1000).outcome, ENGINE_AT_START, "fewer steps than asked");
    cr_assert_eq(engine_time(a), 0);
    engine_close(a);
    engine_close(b);
}

/* A set flag stops a motion, forwards or back, and leaves a usable
 * session where it was. */
Test(engine_interrupt, the_flag_stops_motions)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", &v, err), "%s", err);
    struct engine_config cfg = {0};
    cfg.program = "tests/debug/loop.s"; /* counts in r1 for ever */
    cfg.variant = &v;
    cfg.mem = 65536;
    struct engine *e = engine_open(&cfg, stderr);
    cr_assert_not_null(e);
    volatile sig_atomic_t flag = 0;
    engine_set_interrupt(e, &flag);
    engine_begin(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(engine_go(e, 200000).outcome, ENGINE_RUNNING);
    flag = 1;
    engine_begin(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(engine_go(e, 0).outcome, ENGINE_INTERRUPTED, "an endless continue stops");
    cr_assert_eq(engine_time(e), 200000, "at once");
    uint32_t start;
    cr_assert(engine_symbol(e, "_start", &start));
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = 0, .addr = start};
    cr_assert(engine_break_add(e, &b, NULL));
    cr_assert_eq(engine_reverse_continue(e).outcome, ENGINE_INTERRUPTED, "a long search back stops");
    cr_assert_eq(engine_time(e), 200000, "where it began");
    cr_assert_eq(engine_reverse_steps(e, 0, 150000).outcome, ENGINE_INTERRUPTED);
    cr_assert_eq(engine_time(e), 200000);
    flag = 0;
    cr_assert_eq(engine_reverse_continue(e).outcome, ENGINE_BREAK, "cleared, the session goes on");
    cr_assert_eq(engine_time(e), 0);
    engine_close(e);
}
