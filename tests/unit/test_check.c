/*
 * test_check.c: the checker of isa/check/ (trapeze check-isa).
 *
 * Every row of the three built-in variants against the theory; every
 * witness replays, survives its text form, and stops reproducing where it
 * must; made-up variants move the verdicts the way Popek and Goldberg say;
 * the experiment itself (control probes, invalid states) works.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../isa/check/check.h"
#include "../../isa/isa.h"

#define STATES 150u /* random states per instruction: the edge cases do most */

#define M_ (1u << CHECK_MODE)
#define L_ (1u << CHECK_LOCATION)
#define I_ (1u << CHECK_IE)
#define T_ (1u << CHECK_TIMER)

/* One expected row; rows not listed must come out innocuous. */
struct expect {
    const char *mnemonic;
    bool privileged, control;
    unsigned aspects;
    bool user;
    const char *verdict;
};

/* What pg, the virtualizable machine, must give for its system instructions. */
static const struct expect pg_rows[] = {
    {"halt", true, true, 0, false, "emulated"},
    {"lpsw", true, true, 0, false, "emulated"},
    {"pushf", true, false, L_ | I_, false, "emulated"},
    {"popf", true, true, 0, false, "emulated"},
    {"srr", true, false, L_, false, "emulated"},
    {"stmr", true, true, 0, false, "emulated"},
    {"rtmr", true, false, T_, false, "emulated"},
    {"in", true, true, 0, false, "emulated"},
    {"out", true, true, 0, false, "emulated"},
    {"tlbflush", true, true, 0, false, "emulated"},
    {NULL, false, false, 0, false, NULL},
};

static const struct expect hybrid_rows[] = {
    {"halt", true, true, 0, false, "emulated"},
    {"lpsw", true, true, 0, false, "emulated"},
    {"pushf", true, false, L_ | I_, false, "emulated"},
    {"popf", false, true, 0, false, "critical"},
    {"srr", true, false, L_, false, "emulated"},
    {"stmr", true, true, 0, false, "emulated"},
    {"rtmr", true, false, T_, false, "emulated"},
    {"in", true, true, 0, false, "emulated"},
    {"out", true, true, 0, false, "emulated"},
    {"tlbflush", true, true, 0, false, "emulated"},
    {NULL, false, false, 0, false, NULL},
};

static const struct expect x86like_rows[] = {
    {"halt", true, true, 0, false, "emulated"},
    {"lpsw", true, true, 0, false, "emulated"},
    {"pushf", false, false, M_ | L_ | I_, true, "critical-user"},
    {"popf", false, true, 0, false, "critical"},
    {"srr", false, false, L_, true, "critical-user"},
    {"stmr", true, true, 0, false, "emulated"},
    {"rtmr", true, false, T_, false, "emulated"},
    {"in", true, true, 0, false, "emulated"},
    {"out", true, true, 0, false, "emulated"},
    {"tlbflush", true, true, 0, false, "emulated"},
    {NULL, false, false, 0, false, NULL},
};

static struct isa_variant load(const char *name)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load(name, &v, err), "%s", err);
    return v;
}

static struct isa_variant parse(const char *text)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_parse(text, "test.var", &v, err), "%s", err);
    return v;
}

static struct check_report classify(const struct isa_variant *v, uint64_t seed, unsigned states)
{
    struct check_options o = {seed, states};
    struct check_report r;
    cr_assert(check_classify(v, &o, &r));
    cr_assert_eq(r.nrows, isa_op_count());
    return r;
}

static const struct check_row *row_of(const struct check_report *r, const char *mn)
{
    const struct check_row *row = check_report_row(r, mn);
    cr_assert_not_null(row, "no row for %s", mn);
    return row;
}

/* Every row of r against the table (unlisted rows: innocuous). */
static void expect_rows(const struct check_report *r, const struct expect *table)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct check_row *row = &r->rows[i];
        const char *mn = row->op->mnemonic;
        struct expect e = {mn, false, false, 0, false, "innocuous"};
        for (const struct expect *t = table; t->mnemonic; t++)
            if (strcmp(t->mnemonic, mn) == 0) e = *t;
        cr_expect_eq(row->privileged, e.privileged, "%s/%s: privileged %d", r->variant, mn, row->privileged);
        cr_expect_eq(row->control, e.control, "%s/%s: control %d", r->variant, mn, row->control);
        cr_expect_eq(row->aspects, e.aspects, "%s/%s: aspects 0x%x, expected 0x%x", r->variant, mn,
                     row->aspects, e.aspects);
        cr_expect_eq(row->behavior, e.aspects != 0, "%s/%s: behavior", r->variant, mn);
        cr_expect_eq(row->user, e.user, "%s/%s: user %d", r->variant, mn, row->user);
        cr_expect_str_eq(check_row_verdict(row), e.verdict, "%s/%s: verdict %s, expected %s",
                         r->variant, mn, check_row_verdict(row), e.verdict);
        /* Each instruction was tried from both modes. */
        cr_expect_gt(row->user_states, 100, "%s/%s", r->variant, mn);
        cr_expect_gt(row->super_states, 100, "%s/%s", r->variant, mn);
    }
    for (const struct expect *t = table; t->mnemonic; t++)
        cr_assert_not_null(check_report_row(r, t->mnemonic), "%s is not an instruction", t->mnemonic);
}

/* The offenders of a theorem as "a,b,c". */
static void offenders(const struct check_report *r, int theorem, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->nrows; i++) {
        const struct check_row *row = &r->rows[i];
        bool off = theorem == 1 ? row->critical : theorem == 3 ? row->user_critical : row->timing_offender;
        if (off) len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", row->op->mnemonic);
    }
}

static void expect_theorems(const struct check_report *r, bool t1, bool t2, bool t3,
                            const char *off1, const char *off3, const char *off_timing)
{
    char buf[256];
    cr_expect_eq(r->theorem1, t1, "%s: theorem 1", r->variant);
    cr_expect_eq(r->theorem2, t2, "%s: theorem 2", r->variant);
    cr_expect_eq(r->theorem3, t3, "%s: theorem 3", r->variant);
    offenders(r, 1, buf, sizeof buf);
    cr_expect_str_eq(buf, off1, "%s: theorem 1 offenders '%s'", r->variant, buf);
    offenders(r, 3, buf, sizeof buf);
    cr_expect_str_eq(buf, off3, "%s: theorem 3 offenders '%s'", r->variant, buf);
    offenders(r, 2, buf, sizeof buf);
    cr_expect_str_eq(buf, off_timing, "%s: timing offenders '%s'", r->variant, buf);
}

/* ---- The built-in variants ------------------------------------------------------ */

/* Classifies a built-in variant and checks every row and every theorem. */
static void expect_builtin(const char *name, const struct expect *rows, bool t1, bool t2, bool t3,
                           const char *off1, const char *off3)
{
    struct isa_variant v = load(name);
    struct check_report r = classify(&v, 1, STATES);
    expect_rows(&r, rows);
    expect_theorems(&r, t1, t2, t3, off1, off3, "");
    check_report_free(&r);
}

Test(check_builtin, pg_is_virtualizable)
{
    expect_builtin("pg", pg_rows, true, true, true, "", "");
}

Test(check_builtin, hybrid_fails_theorem1_on_popf_only)
{
    expect_builtin("hybrid", hybrid_rows, false, false, true, "popf", "");
}

Test(check_builtin, x86like_fails_theorems_1_and_3)
{
    expect_builtin("x86like", x86like_rows, false, false, false, "pushf,popf,srr", "pushf,srr");
}

/* The systematic edge cases alone must find every verdict; random states
 * of another seed must not change any. */
Test(check_builtin, edge_cases_suffice_and_seeds_agree)
{
    const char *names[] = {"pg", "hybrid", "x86like"};
    const struct expect *tables[] = {pg_rows, hybrid_rows, x86like_rows};
    for (int i = 0; i < 3; i++) {
        struct isa_variant v = load(names[i]);
        struct check_report r = classify(&v, 0, 0);
        expect_rows(&r, tables[i]);
        check_report_free(&r);
        r = classify(&v, 987654321, 60);
        expect_rows(&r, tables[i]);
        check_report_free(&r);
    }
}

Test(check_builtin, same_seed_same_report)
{
    struct isa_variant v = load("x86like");
    struct check_report a = classify(&v, 42, 40), b = classify(&v, 42, 40);
    for (size_t i = 0; i < a.nrows; i++) {
        char fa[1024], fb[1024];
        const struct check_row *ra = &a.rows[i], *rb = &b.rows[i];
        cr_assert_eq(ra->user_states, rb->user_states);
        cr_assert_eq(memcmp(ra->pairs, rb->pairs, sizeof ra->pairs), 0);
        cr_assert_eq(ra->w.user.found, rb->w.user.found);
        if (ra->w.user.found)
            cr_assert_str_eq(check_witness_format(&ra->w.user, fa, sizeof fa),
                             check_witness_format(&rb->w.user, fb, sizeof fb));
    }
    check_report_free(&a);
    check_report_free(&b);
}

/* ---- Witnesses ------------------------------------------------------------------ */

/* Every witness of every row replays, and its text form parses back to it. */
static void replay_all(const char *variant)
{
    struct isa_variant v = load(variant);
    struct check_report r = classify(&v, 7, 40);
    unsigned replayed = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        const struct check_row *row = &r.rows[i];
        const struct check_witness *ws[] = {&row->w.priv, &row->w.control, &row->w.user,
                                            &row->w.timing, &row->w.behavior[0], &row->w.behavior[1],
                                            &row->w.behavior[2], &row->w.behavior[3]};
        cr_assert(row->w.priv.found, "%s: no privilege witness", row->op->mnemonic);
        cr_assert_eq(row->w.priv.kind, row->privileged ? CHECK_W_PRIV : CHECK_W_NOT_PRIV);
        cr_assert_eq(row->w.control.found, row->control);
        cr_assert_eq(row->w.user.found, row->user);
        for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
            if (!ws[k]->found) continue;
            char what[CHECK_TEXT_SIZE], line[1024], again[1024], err[CHECK_TEXT_SIZE];
            cr_assert(check_replay(&v, ws[k], what), "%s/%s: witness %zu does not replay: %s",
                      variant, row->op->mnemonic, k, what);
            cr_assert_str_eq(what, ws[k]->what, "%s/%s: replay says '%s', classify said '%s'",
                             variant, row->op->mnemonic, what, ws[k]->what);
            check_witness_format(ws[k], line, sizeof line);
            struct check_witness back;
            cr_assert(check_witness_parse(line, &back, err), "%s: %s", line, err);
            cr_assert_str_eq(check_witness_format(&back, again, sizeof again), line);
            cr_assert(check_replay(&v, &back, what), "%s: parsed witness does not replay", line);
            replayed++;
        }
    }
    cr_assert_gt(replayed, 20);
    check_report_free(&r);
}

Test(check_witness, every_witness_replays_pg) { replay_all("pg"); }
Test(check_witness, every_witness_replays_hybrid) { replay_all("hybrid"); }
Test(check_witness, every_witness_replays_x86like) { replay_all("x86like"); }

static struct check_witness parse_ok(const char *text)
{
    struct check_witness w;
    char err[CHECK_TEXT_SIZE];
    cr_assert(check_witness_parse(text, &w, err), "%s: %s", text, err);
    return w;
}

#define SRR_LOC "location:insn=0x44120000,M=0,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0;" \
                "insn=0x44120000,M=0,IE=0,TP=0,loc=1,timer=0,pc=0x40,mem=0,in=0,ctrl=0"

/* A witness holds on the variant it came from, not on one that traps it. */
Test(check_witness, replay_fails_where_the_theory_says)
{
    struct isa_variant x86 = load("x86like"), pg = load("pg"), hybrid = load("hybrid");
    char what[CHECK_TEXT_SIZE];
    struct check_witness w = parse_ok(SRR_LOC);
    cr_assert(check_replay(&x86, &w, what), "%s", what);
    cr_assert(strstr(what, "r1: A 0x100, B 0x4c4"), "%s", what);
    cr_assert_not(check_replay(&pg, &w, what));
    cr_assert(strstr(what, "traps PRIV"), "%s", what);

    /* popf from user mode: silent on hybrid, so it changes nothing ... */
    w = parse_ok("control:insn=0x43120000,M=0,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0,r1=2");
    cr_assert_not(check_replay(&hybrid, &w, what));
    cr_assert_str_eq(what, "no change to the system state");
    /* ... but in supervisor mode it sets IE. */
    w.s1.mode = 1;
    cr_assert(check_replay(&hybrid, &w, what));
    cr_assert_str_eq(what, "IE 0 -> 1");

    w = parse_ok("priv:insn=0x43120000,M=0,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0");
    cr_assert(check_replay(&pg, &w, what));
    cr_assert_not(check_replay(&hybrid, &w, what));
    w.kind = CHECK_W_NOT_PRIV;
    cr_assert(check_replay(&hybrid, &w, what));

    /* add is behaviour-insensitive: the outcomes are equal. */
    w = parse_ok("mode:insn=0x01123000,M=1,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0,r2=5,r3=6;"
                 "insn=0x01123000,M=0,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0,r2=5,r3=6");
    cr_assert_not(check_replay(&x86, &w, what));
    cr_assert_str_eq(what, "the outcomes are equal");
}

Test(check_witness, parse_errors_name_the_column)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "expected KIND:STATE"},
        {"oops:insn=1", "column 1: unknown witness kind"},
        {"control:insn=0x43120000,M=0", "state lacks the key IE"},
        {"control:insn=0x43120000,M=2,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0", "column 27: value out of range"},
        {"control:insn=0x43120000,M=1,IE=0,TP=0,loc=0,timer=0,pc=512,mem=0,in=0,ctrl=0", "value out of range"},
        {"control:insn=zz", "column 14: expected a number"},
        {"control:insn=0x1ffffffff", "32-bit"},
        {"control:insn=1,insn=2", "key given twice"},
        {"control:insn=1,r16=2", "unknown key 'r16'"},
        {"control:insn=1,M=1,IE=1,TP=1,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0", "takes an interrupt"},
        {"control:insn=1,M=1,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0;", "unexpected text"},
        {"mode:insn=1,M=1,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0", "expected ';'"},
        {"mode:insn=1,M=1,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0;"
         "insn=1,M=0,IE=0,TP=0,loc=1,timer=0,pc=0,mem=0,in=0,ctrl=0", "must differ in the mode"},
        {"ie:insn=1,M=1,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0;"
         "insn=1,M=1,IE=0,TP=0,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0", "must differ in the ie"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct check_witness w;
        char err[CHECK_TEXT_SIZE];
        cr_assert_not(check_witness_parse(bad[i].text, &w, err), "'%s' must be refused", bad[i].text);
        cr_expect(strstr(err, bad[i].msg), "'%s': message '%s' lacks '%s'", bad[i].text, err, bad[i].msg);
    }
}

/* ---- Made-up variants ----------------------------------------------------------- */

Test(check_madeup, popf_made_silent_on_pg_is_hybrid)
{
    struct isa_variant v = parse("variant t\nbase pg\nuser popf silent\n");
    struct check_report r = classify(&v, 3, 40);
    expect_rows(&r, hybrid_rows);
    expect_theorems(&r, false, false, true, "popf", "", "");
    check_report_free(&r);
}

Test(check_madeup, rtmr_made_exec_breaks_every_theorem)
{
    struct isa_variant v = parse("variant t\nbase pg\nuser rtmr exec\n");
    struct check_report r = classify(&v, 3, 40);
    const struct check_row *row = row_of(&r, "rtmr");
    cr_expect_not(row->privileged);
    cr_expect_eq(row->aspects, T_);
    cr_expect(row->user && row->timing && row->timing_offender);
    cr_expect_eq(row->w.user.kind, CHECK_W_PAIR);
    cr_expect_eq(row->w.user.aspect, CHECK_TIMER);
    cr_expect_eq(row->w.user.s1.mode + row->w.user.s2.mode, 0, "both user states");
    expect_theorems(&r, false, false, false, "rtmr", "rtmr", "rtmr");
    check_report_free(&r);
}

Test(check_madeup, srr_made_trap_on_x86like_leaves_pushf)
{
    struct isa_variant v = parse("variant t\nbase x86like\nuser srr trap\n");
    struct check_report r = classify(&v, 3, 40);
    const struct check_row *row = row_of(&r, "srr");
    cr_expect(row->privileged);
    cr_expect_str_eq(check_row_verdict(row), "emulated");
    expect_theorems(&r, false, false, false, "pushf,popf", "pushf", "");
    check_report_free(&r);
}

Test(check_madeup, popf_made_trap_on_hybrid_is_pg)
{
    struct isa_variant v = parse("variant t\nbase hybrid\nuser popf trap\n");
    struct check_report r = classify(&v, 3, 40);
    expect_rows(&r, pg_rows);
    expect_theorems(&r, true, true, true, "", "", "");
    check_report_free(&r);
}

/* exec: each system instruction executed from user mode is sensitive there. */
Test(check_madeup, exec_makes_user_sensitive)
{
    static const struct {
        const char *mn;
        bool timing;
    } cases[] = {{"halt", false}, {"lpsw", true}, {"stmr", true}, {"in", false},
                 {"out", false}, {"tlbflush", false}, {"pushf", false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "variant t\nbase pg\nuser %s exec\n", cases[i].mn);
        struct isa_variant v = parse(text);
        struct check_report r = classify(&v, 5, 30);
        const struct check_row *row = row_of(&r, cases[i].mn);
        cr_expect_str_eq(check_row_verdict(row), "critical-user", "%s", cases[i].mn);
        cr_expect_eq(row->timing_offender, cases[i].timing, "%s", cases[i].mn);
        cr_expect_not(r.theorem1);
        cr_expect_not(r.theorem3);
        check_report_free(&r);
    }
}

/* silent halt: sensitive in supervisor mode only; nothing seen from user mode. */
Test(check_madeup, silent_halt_is_critical_not_user)
{
    struct isa_variant v = parse("variant t\nbase pg\nuser halt silent\n");
    struct check_report r = classify(&v, 5, 30);
    cr_expect_str_eq(check_row_verdict(row_of(&r, "halt")), "critical");
    expect_theorems(&r, false, false, true, "halt", "", "");
    check_report_free(&r);
}

/* ---- The experiment ------------------------------------------------------------- */

static struct check_state state(uint32_t insn, uint8_t mode)
{
    struct check_state s;
    memset(&s, 0, sizeof s);
    s.insn = insn;
    s.mode = mode;
    s.pc = 0x40;
    return s;
}

Test(check_lab, devices_and_flags_are_observed)
{
    struct isa_variant v = load("pg");
    struct check_outcome o;
    char what[CHECK_TEXT_SIZE];

    struct check_state s = state(isa_make_i(ISA_OUT, 1, 0, PORT_CONSOLE_CTRL), 1);
    s.reg[1] = 1;
    cr_assert(check_run(&v, &s, &o));
    cr_expect(o.ctrl, "out to port 2 turns input interrupts on");
    s.ctrl = 1, s.reg[1] = 0;
    cr_assert(check_run(&v, &s, &o));
    cr_expect_not(o.ctrl);
    s.reg[1] = 1;
    cr_assert(check_run(&v, &s, &o));
    cr_expect(o.ctrl);
    cr_expect_eq(check_run(&v, &s, &o) && o.end == CHECK_END_DONE, true);

    s = state(isa_make_i(ISA_IN, 3, 0, PORT_CONSOLE_IN), 1);
    s.input = 2;
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.reg[3], 'T');
    cr_expect_eq(o.input_read, 1);

    s = state(isa_make_i(ISA_OUT, 3, 0, PORT_CONSOLE_OUT), 1);
    s.reg[3] = 'A';
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.output_len, 1);
    cr_expect_eq(o.output[0], 'A');

    /* A user-mode out traps on pg and changes nothing. */
    s.mode = 0;
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.end, CHECK_END_TRAP);
    cr_expect_eq(o.cause, CAUSE_PRIV);
    cr_expect_eq(o.output_len, 0);

    /* An ordinary instruction only ticks the timer. */
    s = state(isa_make_r(ISA_ADD, 1, 2, 3), 0);
    s.timer = 1;
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.psw.timer, 0);
    cr_expect(o.psw.flags & PSW_TP);
    struct psw before = check_state_psw(&s);
    cr_expect_eq(o.psw.base, before.base);

    s = state(isa_make_j(ISA_TLBFLUSH, 0), 1);
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.tlb_flushes, 1);
    cr_expect(check_outcome_describe(&s, &o, what, sizeof what));
    cr_expect(strstr(what, "TLB flushed"), "%s", what);

    s = state(isa_make_j(ISA_HALT, 0), 1);
    cr_assert(check_run(&v, &s, &o));
    cr_expect_eq(o.end, CHECK_END_HALT);
}

Test(check_lab, locations_hold_the_same_virtual_contents)
{
    struct isa_variant v = load("pg");
    struct check_outcome o[CHECK_LOCATIONS];
    for (uint8_t l = 0; l < CHECK_LOCATIONS; l++) {
        struct check_state s = state(isa_make_i(ISA_LD, 1, 2, 5), 0);
        s.loc = l;
        s.mem_seed = 77;
        s.reg[2] = 0x100; /* a word on the second page */
        cr_assert(check_run(&v, &s, &o[l]));
        cr_assert_eq(o[l].end, CHECK_END_DONE);
        if (l) {
            cr_expect_eq(o[l].reg[1], o[0].reg[1], "location %u", l);
            cr_expect_eq(memcmp(o[l].vmem, o[0].vmem, sizeof o[0].vmem), 0);
        }
    }
    struct check_state s = state(isa_make_i(ISA_LD, 1, 2, 0), 0);
    s.reg[2] = CHECK_VWORDS;
    s.loc = 2;
    cr_assert(check_run(&v, &s, &o[0]));
    cr_expect_eq(o[0].end, CHECK_END_TRAP);
    cr_expect_eq(o[0].cause, CAUSE_MEM);
}

Test(check_lab, states_that_take_an_interrupt_are_refused)
{
    struct isa_variant v = load("pg");
    struct check_outcome o;
    struct check_state s = state(isa_make_r(ISA_ADD, 1, 2, 3), 1);
    s.ie = 1, s.tp = 1;
    cr_expect_not(check_state_valid(&s));
    cr_expect_not(check_run(&v, &s, &o));
    s.tp = 0, s.input = 1, s.ctrl = 1;
    cr_expect_not(check_state_valid(&s));
    s.ie = 0;
    cr_expect(check_state_valid(&s));
    s.pc = CHECK_VWORDS;
    cr_expect_not(check_state_valid(&s));
}

/* ---- --confirm: guests under the VMMs -------------------------------------------- */

static const struct check_confirm_row *confirm_row(const struct check_confirm_row *rows, size_t n,
                                                   const char *mn)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].op->mnemonic, mn) == 0) return &rows[i];
    cr_assert_fail("no confirm row for %s", mn);
    return NULL;
}

/* te must keep equivalence where Theorem 1 holds, hvm where Theorem 3 holds,
 * interp always; where they fail, the critical instruction shows it. */
static void confirm_variant(const char *name, const char *te_fails, const char *hvm_fails)
{
    struct isa_variant v = load(name);
    struct check_report r = classify(&v, 1, 20);
    struct check_confirm_row *rows = calloc(r.nrows, sizeof *rows);
    size_t n = check_confirm(&v, &r, rows);
    cr_assert_eq(n, 10, "%s: %zu sensitive instructions", name, n);
    const char *fails[2] = {te_fails, hvm_fails};
    for (size_t i = 0; i < n; i++) {
        cr_assert_gt(rows[i].guests, 2);
        for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++) {
            cr_assert(rows[i].ran[k], "%s/%s: %s did not run", name, rows[i].op->mnemonic,
                      check_confirm_vmm_name(k));
            char key[16];
            snprintf(key, sizeof key, ",%s,", rows[i].op->mnemonic);
            bool expect_fail = k < 2 && strstr(fails[k], key) != NULL;
            cr_expect_eq(rows[i].equivalent[k], !expect_fail, "%s/%s under %s: %s", name,
                         rows[i].op->mnemonic, check_confirm_vmm_name(k), rows[i].what[k]);
        }
    }
    free(rows);
    check_report_free(&r);
}

Test(check_confirm, pg_every_vmm_is_equivalent) { confirm_variant("pg", "", ""); }
Test(check_confirm, hybrid_te_fails_on_popf_hvm_holds) { confirm_variant("hybrid", ",popf,", ""); }
Test(check_confirm, x86like_te_and_hvm_fail)
{
    confirm_variant("x86like", ",pushf,popf,srr,", ",pushf,srr,");
}

Test(check_confirm, the_difference_names_the_guest)
{
    struct isa_variant v = load("hybrid");
    struct check_report r = classify(&v, 1, 20);
    struct check_confirm_row *rows = calloc(r.nrows, sizeof *rows);
    size_t n = check_confirm(&v, &r, rows);
    const struct check_confirm_row *popf = confirm_row(rows, n, "popf");
    cr_expect(strstr(popf->what[0], "saved flags"), "%s", popf->what[0]);
    cr_expect_eq(popf->guest[0].mode, 1, "popf breaks te in virtual supervisor mode");
    cr_expect_eq(isa_opcode_of(popf->guest[0].insn), ISA_POPF);
    free(rows);
    check_report_free(&r);
}
