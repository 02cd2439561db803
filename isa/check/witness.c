/*
 * witness.c: witnesses as one line of text, readable descriptions, replay.
 *
 * A witness line is KIND:STATE or KIND:STATE;STATE, for example
 *
 *   control:insn=0x43300000,M=1,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0,r3=0x2
 *
 * Registers that are 0 are left out; numbers are decimal or 0x-hexadecimal.
 */
#include "check_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"priv", "notpriv", "control"};

const char *check_witness_kind_name(const struct check_witness *w)
{
    if (w->kind == CHECK_W_PAIR) return check_aspect_name(w->aspect);
    if (w->kind == CHECK_W_CONTROL && w->timer_only) return "control-timer";
    return kind_names[w->kind];
}

char *check_state_format(const struct check_state *s, char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    check_append(buf, size, &len,
                 "insn=0x%08x,M=%u,IE=%u,TP=%u,loc=%u,timer=0x%x,pc=0x%x,mem=0x%x,in=%u,ctrl=%u",
                 s->insn, s->mode, s->ie, s->tp, s->loc, s->timer, s->pc, s->mem_seed, s->input,
                 s->ctrl);
    for (unsigned r = 1; r < ISA_NREGS; r++)
        if (s->reg[r]) check_append(buf, size, &len, ",r%u=0x%x", r, s->reg[r]);
    return buf;
}

char *check_witness_format(const struct check_witness *w, char *buf, size_t size)
{
    char s1[400], s2[400];
    check_state_format(&w->s1, s1, sizeof s1);
    if (w->kind == CHECK_W_PAIR) {
        check_state_format(&w->s2, s2, sizeof s2);
        snprintf(buf, size, "%s:%s;%s", check_witness_kind_name(w), s1, s2);
    } else {
        snprintf(buf, size, "%s:%s", check_witness_kind_name(w), s1);
    }
    return buf;
}

/* ---- Parsing ---------------------------------------------------------------- */

struct parser {
    const char *text, *p;
    char *err;
};

static bool fail(struct parser *ps, const char *at, const char *msg, const char *detail)
{
    snprintf(ps->err, CHECK_TEXT_SIZE, "column %d: %s%s", (int)(at - ps->text) + 1, msg,
             detail ? detail : "");
    return false;
}

static bool parse_number(struct parser *ps, uint32_t *v)
{
    const char *start = ps->p;
    uint64_t x = 0;
    int digits = 0;
    if (ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'X')) {
        ps->p += 2;
        while (isxdigit((unsigned char)*ps->p) && x <= UINT32_MAX) {
            int c = tolower((unsigned char)*ps->p++);
            x = x * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
            digits++;
        }
    } else {
        while (isdigit((unsigned char)*ps->p) && x <= UINT32_MAX) {
            x = x * 10 + (uint64_t)(*ps->p++ - '0');
            digits++;
        }
    }
    if (digits == 0) return fail(ps, start, "expected a number", NULL);
    if (x > UINT32_MAX || isalnum((unsigned char)*ps->p))
        return fail(ps, start, "expected a 32-bit decimal or 0x-hexadecimal number", NULL);
    *v = (uint32_t)x;
    return true;
}

enum { K_INSN, K_M, K_IE, K_TP, K_LOC, K_TIMER, K_PC, K_MEM, K_IN, K_CTRL, K_REQUIRED };
static const char *const keys[K_REQUIRED] = {"insn", "M", "IE", "TP", "loc", "timer", "pc", "mem", "in", "ctrl"};
static const uint32_t key_max[K_REQUIRED] = {UINT32_MAX, 1, 1, 1, CHECK_LOCATIONS - 1, UINT32_MAX,
                                             CHECK_VWORDS - 1, UINT32_MAX, CHECK_MAX_INPUT, 1};

/* STATE up to ';' or the end. */
static bool parse_state(struct parser *ps, struct check_state *s)
{
    memset(s, 0, sizeof *s);
    bool seen[K_REQUIRED + ISA_NREGS] = {false};
    const char *state_start = ps->p;
    for (;;) {
        const char *key = ps->p;
        while (isalnum((unsigned char)*ps->p)) ps->p++;
        size_t klen = (size_t)(ps->p - key);
        if (klen == 0) return fail(ps, key, "expected a key such as insn, M, IE, loc or r1", NULL);
        int k = -1;
        for (int i = 0; i < K_REQUIRED; i++)
            if (strlen(keys[i]) == klen && memcmp(keys[i], key, klen) == 0) k = i;
        if (k < 0 && key[0] == 'r' && klen >= 2 && klen <= 3 && isdigit((unsigned char)key[1])) {
            int r = atoi(key + 1);
            if (r >= 1 && r < ISA_NREGS && (klen == 2 || key[1] != '0')) k = K_REQUIRED + r;
        }
        if (k < 0) {
            char name[40];
            snprintf(name, sizeof name, "'%.*s'", (int)(klen < 30 ? klen : 30), key);
            return fail(ps, key, "unknown key ", name);
        }
        if (seen[k]) return fail(ps, key, "key given twice", NULL);
        seen[k] = true;
        if (*ps->p != '=') return fail(ps, ps->p, "expected '='", NULL);
        ps->p++;
        const char *at = ps->p;
        uint32_t v = 0;
        if (!parse_number(ps, &v)) return false;
        if (k < K_REQUIRED && v > key_max[k]) {
            char range[40];
            snprintf(range, sizeof range, " (at most %u)", key_max[k]);
            return fail(ps, at, "value out of range", range);
        }
        switch (k) {
        case K_INSN: s->insn = v; break;
        case K_M: s->mode = (uint8_t)v; break;
        case K_IE: s->ie = (uint8_t)v; break;
        case K_TP: s->tp = (uint8_t)v; break;
        case K_LOC: s->loc = (uint8_t)v; break;
        case K_TIMER: s->timer = v; break;
        case K_PC: s->pc = v; break;
        case K_MEM: s->mem_seed = v; break;
        case K_IN: s->input = (uint8_t)v; break;
        case K_CTRL: s->ctrl = (uint8_t)v; break;
        default: s->reg[k - K_REQUIRED] = v; break;
        }
        if (*ps->p != ',') break;
        ps->p++;
    }
    for (int i = 0; i < K_REQUIRED; i++)
        if (!seen[i]) return fail(ps, state_start, "state lacks the key ", keys[i]);
    if (!check_state_valid(s))
        return fail(ps, state_start, "state takes an interrupt before its instruction (IE=1 with TP=1, or with in>0 and ctrl=1)", NULL);
    return true;
}

bool check_witness_parse(const char *text, struct check_witness *w, char err[CHECK_TEXT_SIZE])
{
    struct parser ps = {text, text, err};
    memset(w, 0, sizeof *w);
    const char *colon = strchr(text, ':');
    if (!colon) return fail(&ps, text, "expected KIND:STATE (KIND: priv, notpriv, control, control-timer, mode, location, ie, timer)", NULL);
    size_t klen = (size_t)(colon - text);
    bool known = false;
    for (int i = 0; i < 3; i++)
        if (strlen(kind_names[i]) == klen && memcmp(kind_names[i], text, klen) == 0) {
            w->kind = (enum check_kind)i;
            known = true;
        }
    if (klen == strlen("control-timer") && memcmp(text, "control-timer", klen) == 0) {
        w->kind = CHECK_W_CONTROL;
        w->timer_only = true;
        known = true;
    }
    for (enum check_aspect a = 0; a < CHECK_ASPECTS && !known; a++)
        if (strlen(check_aspect_name(a)) == klen && memcmp(check_aspect_name(a), text, klen) == 0) {
            w->kind = CHECK_W_PAIR;
            w->aspect = a;
            known = true;
        }
    if (!known) return fail(&ps, text, "unknown witness kind (priv, notpriv, control, control-timer, mode, location, ie, timer)", NULL);
    ps.p = colon + 1;
    if (!parse_state(&ps, &w->s1)) return false;
    if (w->kind == CHECK_W_PAIR) {
        if (*ps.p != ';') return fail(&ps, ps.p, "expected ';' and the second state of the pair", NULL);
        ps.p++;
        const char *second = ps.p;
        if (!parse_state(&ps, &w->s2)) return false;
        if (!check_states_differ_only_in(&w->s1, &w->s2, w->aspect))
            return fail(&ps, second, "the two states must differ in the ", check_aspect_name(w->aspect));
    }
    if (*ps.p) return fail(&ps, ps.p, "unexpected text after the witness", NULL);
    w->found = true;
    return true;
}

/* ---- Descriptions ------------------------------------------------------------ */

char *check_state_describe(const struct check_state *s, char *buf, size_t size)
{
    struct psw p = check_state_psw(s);
    size_t len = 0;
    if (size) buf[0] = '\0';
    check_append(buf, size, &len, "%s IE=%u TP=%u | PG=%u base=0x%x bound=0x%x (location %u) | "
                 "timer=%s%x | pc=0x%x | input ", s->mode ? "supervisor" : "user", s->ie, s->tp,
                 !!(p.flags & PSW_PG), p.base, p.bound, s->loc, s->timer > 9 ? "0x" : "",
                 s->timer, s->pc);
    if (s->input) check_append(buf, size, &len, "%u byte%s", s->input, s->input == 1 ? "" : "s");
    else check_append(buf, size, &len, "none");
    check_append(buf, size, &len, ", control %s", s->ctrl ? "on" : "off");
    return buf;
}

static void describe_reg(char *buf, size_t size, size_t *len, const struct check_state *s,
                         unsigned r, unsigned *shown)
{
    if (*shown & 1u << r) return;
    *shown |= 1u << r;
    check_append(buf, size, len, "%sr%u=0x%x", *len ? " " : "", r, s->reg[r]);
}

char *check_operands_describe(const struct check_state *s, char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    const struct isa_op *op = isa_op_by_opcode(isa_opcode_of(s->insn));
    if (!op) return buf;
    unsigned a = isa_field_a(s->insn), b = isa_field_b(s->insn), c = isa_field_c(s->insn);
    unsigned shown = 0;
    unsigned regs[3], n = 0;
    switch ((enum isa_operands)op->operands) {
    case OPS_NONE: case OPS_ADDR: case OPS_IMM: break;
    case OPS_RRR: regs[n++] = a; regs[n++] = b; regs[n++] = c; break;
    case OPS_RRI: case OPS_MEM: case OPS_BRANCH: case OPS_RR: regs[n++] = a; regs[n++] = b; break;
    case OPS_RI: case OPS_R: regs[n++] = a; break;
    case OPS_PSWADDR: regs[n++] = b; break;
    }
    for (unsigned i = 0; i < n; i++) describe_reg(buf, size, &len, s, regs[i], &shown);
    if (op->flags & ISA_F_LOAD) { /* show what a load would read */
        uint32_t img[CHECK_VWORDS];
        check_fill_image(s, img);
        uint32_t va = s->reg[b] + isa_simm16(s->insn);
        uint32_t words = op->operands == OPS_PSWADDR ? PSW_WORDS : 1;
        check_append(buf, size, &len, "%svirtual 0x%x:", len ? " | " : "", va);
        for (uint32_t i = 0; i < words; i++) {
            if (va + i < CHECK_VWORDS) check_append(buf, size, &len, " 0x%x", img[va + i]);
            else {
                check_append(buf, size, &len, " (outside the virtual space)");
                break;
            }
        }
    }
    return buf;
}

char *check_outcome_describe(const struct check_state *s, const struct check_outcome *o,
                             char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    if (o->end == CHECK_END_TRAP) {
        check_append(buf, size, &len, "traps %s (detail %u, value 0x%x), saved pc 0x%x",
                     isa_cause_name(o->cause), o->detail, o->value, o->psw.pc);
    } else {
        check_append(buf, size, &len, "completes, next pc 0x%x", o->psw.pc);
        for (unsigned r = 1; r < ISA_NREGS; r++)
            if (o->reg[r] != s->reg[r])
                check_append(buf, size, &len, "; r%u 0x%x -> 0x%x", r, s->reg[r], o->reg[r]);
        uint32_t img[CHECK_VWORDS], changed = 0, first = 0;
        check_fill_image(s, img);
        for (uint32_t va = 0; va < CHECK_VWORDS; va++)
            if (img[va] != o->vmem[va] && changed++ == 0) first = va;
        if (changed)
            check_append(buf, size, &len, "; virtual 0x%x 0x%x -> 0x%x%s", first, img[first],
                         o->vmem[first], changed > 1 ? " (and more)" : "");
    }
    char ctl[CHECK_TEXT_SIZE];
    if (check_control_changes(s, o, ctl, sizeof ctl))
        check_append(buf, size, &len, "; %s", ctl);
    return buf;
}

/* ---- Replay and shrinking ------------------------------------------------------ */

bool check_witness_holds(struct check_lab *lab, const struct check_witness *w,
                         char what[CHECK_TEXT_SIZE])
{
    struct check_outcome *o = malloc(2 * sizeof *o);
    uint32_t *img = malloc(CHECK_VWORDS * sizeof *img);
    bool ok = false;
    size_t len = 0;
    what[0] = '\0';
    if (!o || !img || !check_state_valid(&w->s1) ||
        (w->kind == CHECK_W_PAIR && !check_state_valid(&w->s2))) {
        check_append(what, CHECK_TEXT_SIZE, &len, "the state cannot be run");
        goto done;
    }
    check_fill_image(&w->s1, img);
    check_lab_run(lab, &w->s1, img, &o[0]);
    switch (w->kind) {
    case CHECK_W_PRIV:
    case CHECK_W_NOT_PRIV: {
        bool priv = check_trapped_priv(&o[0]);
        ok = w->kind == CHECK_W_PRIV ? w->s1.mode == 0 && priv : (w->s1.mode == 0) != priv;
        check_append(what, CHECK_TEXT_SIZE, &len, "%s in %s mode",
                     priv ? "traps PRIV"
                     : o[0].end == CHECK_END_TRAP ? "traps, but not PRIV,"
                                                  : "executes without trapping",
                     w->s1.mode ? "supervisor" : "user");
        break;
    }
    case CHECK_W_CONTROL: {
        unsigned ch = check_control_changes(&w->s1, &o[0], what, CHECK_TEXT_SIZE);
        ok = w->timer_only ? (ch & CHANGE_TIMER) != 0 : ch != 0;
        if (!ok) snprintf(what, CHECK_TEXT_SIZE, "%s", ch ? "the timer moves only by its tick"
                                                          : "no change to the system state");
        break;
    }
    case CHECK_W_PAIR:
        if (!check_states_differ_only_in(&w->s1, &w->s2, w->aspect)) {
            check_append(what, CHECK_TEXT_SIZE, &len, "the states do not differ only in the %s",
                         check_aspect_name(w->aspect));
            break;
        }
        check_fill_image(&w->s2, img);
        check_lab_run(lab, &w->s2, img, &o[1]);
        if (check_trapped_priv(&o[0]) || check_trapped_priv(&o[1])) {
            check_append(what, CHECK_TEXT_SIZE, &len, "state %s traps PRIV: no behaviour to compare",
                         check_trapped_priv(&o[0]) ? "A" : "B");
            break;
        }
        ok = check_outcomes_differ(&o[0], &o[1], what, CHECK_TEXT_SIZE);
        if (!ok) snprintf(what, CHECK_TEXT_SIZE, "the outcomes are equal");
        break;
    }
done:
    free(o);
    free(img);
    return ok;
}

bool check_replay(const struct isa_variant *v, const struct check_witness *w,
                  char what[CHECK_TEXT_SIZE])
{
    struct check_lab *lab = check_lab_new(v);
    if (!lab) {
        snprintf(what, CHECK_TEXT_SIZE, "out of memory");
        return false;
    }
    bool ok = check_witness_holds(lab, w, what);
    check_lab_free(lab);
    return ok;
}

/* Field setters for shrinking: each makes one field of a state simpler. */
enum shrink_field { SH_REG, SH_MEM, SH_INPUT, SH_CTRL, SH_TP, SH_TIMER, SH_IE, SH_LOC, SH_PC };

static void simplify(struct check_state *s, enum shrink_field f, unsigned r)
{
    switch (f) {
    case SH_REG: s->reg[r] = 0; break;
    case SH_MEM: s->mem_seed = 0; break;
    case SH_INPUT: s->input = 0; break;
    case SH_CTRL: s->ctrl = 0; break;
    case SH_TP: s->tp = 0; break;
    case SH_TIMER: s->timer = 0; break;
    case SH_IE: s->ie = 0; break;
    case SH_LOC: s->loc = 0; break;
    case SH_PC: s->pc = 0x40; break;
    }
}

void check_witness_shrink(struct check_lab *lab, struct check_witness *w)
{
    static const struct { enum shrink_field f; int aspect; } steps[] = {
        {SH_MEM, -1}, {SH_INPUT, -1}, {SH_CTRL, -1}, {SH_TP, -1}, {SH_TIMER, CHECK_TIMER},
        {SH_IE, CHECK_IE}, {SH_LOC, CHECK_LOCATION}, {SH_PC, -1},
    };
    char what[CHECK_TEXT_SIZE];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] + ISA_NREGS - 1; i++) {
        bool is_reg = i >= sizeof steps / sizeof steps[0];
        enum shrink_field f = is_reg ? SH_REG : steps[i].f;
        unsigned r = is_reg ? (unsigned)(i - sizeof steps / sizeof steps[0]) + 1 : 0;
        /* The fields a pair differs in stay as they are. */
        if (!is_reg && w->kind == CHECK_W_PAIR && steps[i].aspect == (int)w->aspect) continue;
        struct check_witness t = *w;
        simplify(&t.s1, f, r);
        if (t.kind == CHECK_W_PAIR) simplify(&t.s2, f, r);
        if (check_witness_holds(lab, &t, what)) *w = t;
    }
    check_witness_holds(lab, w, w->what);
}
