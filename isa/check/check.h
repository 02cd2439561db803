/*
 * check.h: decides the Popek-Goldberg conditions of a variant by experiment.
 *
 * Nothing here reads a "sensitive" flag: every instruction of isa.def (the
 * innocuous ones too) is placed in real machines (machine.h) in many states,
 * executed for one step, and what it did is compared:
 *
 *   privileged          traps PRIV from every user-mode state and from no
 *                       supervisor-mode state
 *   control-sensitive   from some state, without the VMM getting control, it
 *                       changes M, PG, base, bound, IE, the timer or TP other
 *                       than by the ordinary tick, a device (console output,
 *                       input consumed, console control), the TLB, or halts
 *   behaviour-sensitive from two states that differ only in the mode, the
 *                       location (relocation), IE or the timer, with equal
 *                       virtual contents, the registers, the virtual memory or
 *                       where control goes differ (pairs in which either run
 *                       traps PRIV are not comparisons of behaviour)
 *   user-sensitive      one of those witnessed from a user-mode state
 *
 * Every verdict keeps a witness (a state or a pair of states) that
 * check_replay() reproduces; check_witness_format/parse turn it into one line.
 *
 * The experimental machine (CHECK_MEMSIZE words, 8 frames of 256):
 *
 *   physical  0..15     trap area (unused: a monitor takes every trap)
 *             16..17    page table of location 2: vpn 0 -> frame 3, 1 -> frame 4
 *             24..25    page table of location 3: vpn 0 -> frame 7, 1 -> frame 2
 *             the rest  a pattern made from the physical address
 *
 *   location  PG  base   bound   the CHECK_VWORDS virtual words live at
 *      0      0   0x100  0x200   physical 0x100..0x2ff
 *      1      0   0x4c4  0x200   physical 0x4c4..0x6c3 (not page-aligned)
 *      2      1   16     2       frames 3, 4
 *      3      1   24     2       frames 7, 2
 *
 * Every state fills its own location's words with the same virtual contents,
 * so two states that differ only in the location hold equal virtual memory.
 */
#ifndef TRAPEZE_CHECK_H
#define TRAPEZE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa.h"

#define CHECK_MEMSIZE 2048u
#define CHECK_VWORDS 512u
#define CHECK_LOCATIONS 4u
#define CHECK_MAX_INPUT 3u
#define CHECK_TEXT_SIZE 320 /* one line describing what differed */
#define CHECK_DEFAULT_STATES 600u
#define CHECK_DEFAULT_SEED 1u

/* One machine state an instruction is run from; everything else about the
 * machine follows from these fields, so a state is reproducible anywhere. */
struct check_state {
    uint32_t insn;       /* the instruction word, stored at virtual pc       */
    uint8_t mode;        /* 1 supervisor, 0 user (PSW M)                     */
    uint8_t ie, tp;      /* PSW IE and TP                                    */
    uint8_t loc;         /* location 0..3; sets PG, base, bound (above)      */
    uint8_t input;       /* console input bytes waiting, 0..CHECK_MAX_INPUT  */
    uint8_t ctrl;        /* console control: IO interrupts on input          */
    uint32_t timer;      /* PSW timer                                        */
    uint32_t pc;         /* < CHECK_VWORDS                                   */
    uint32_t mem_seed;   /* virtual contents: 0 all zero, else pseudo-random */
    uint32_t reg[ISA_NREGS]; /* reg[0] is always 0                           */
};

/* The PSW a state runs with. */
struct psw check_state_psw(const struct check_state *s);
/* True when the state reaches its instruction: no interrupt would be taken
 * first (TP or pending console input with IE on), and every field is in range. */
bool check_state_valid(const struct check_state *s);

enum check_end {
    CHECK_END_DONE,  /* the instruction completed                 */
    CHECK_END_HALT,  /* it completed and the machine stopped       */
    CHECK_END_TRAP,  /* it trapped (the monitor took the trap)     */
};

/* What one step from a state did. */
struct check_outcome {
    enum check_end end;
    enum isa_cause cause; /* CHECK_END_TRAP: the trap */
    unsigned detail;
    uint32_t value;
    struct psw psw;       /* after; for a trap the PSW the trap saved */
    uint32_t reg[ISA_NREGS];
    uint32_t vmem[CHECK_VWORDS]; /* virtual memory, read through the state's location */
    uint32_t output_len;  /* console bytes written, and the first few of them */
    uint8_t output[4];
    uint32_t input_read;  /* console input bytes consumed */
    bool ctrl;            /* console control after (probed: does input interrupt?) */
    uint32_t tlb_flushes; /* counted by machine_stats */
};

/* Runs s (which must be valid) for one step on a fresh machine of variant v.
 * Returns false when s is invalid or no machine could be made. */
bool check_run(const struct isa_variant *v, const struct check_state *s,
               struct check_outcome *out);

/* ---- Witnesses ------------------------------------------------------------ */

enum check_aspect { CHECK_MODE, CHECK_LOCATION, CHECK_IE, CHECK_TIMER, CHECK_ASPECTS };
const char *check_aspect_name(enum check_aspect a); /* "mode", "location", ... */

enum check_kind {
    CHECK_W_PRIV,     /* s1: a user state from which it traps PRIV             */
    CHECK_W_NOT_PRIV, /* s1: a user state where it does not trap PRIV, or a
                         supervisor state where it does                      */
    CHECK_W_CONTROL,  /* s1: it changes system state without the VMM in control */
    CHECK_W_PAIR,     /* s1, s2 differ only in .aspect; the outcomes differ     */
};

struct check_witness {
    bool found;
    enum check_kind kind;
    enum check_aspect aspect; /* CHECK_W_PAIR */
    bool timer_only;          /* CHECK_W_CONTROL: only a change of the timer counts */
    struct check_state s1, s2;
    char what[CHECK_TEXT_SIZE]; /* what happened or differed, one line */
};

/* Runs the witness's state(s) again and checks that its property holds:
 * returns true and describes it in what when reproduced, false with the
 * reason otherwise. */
bool check_replay(const struct isa_variant *v, const struct check_witness *w,
                  char what[CHECK_TEXT_SIZE]);

/* One line: KIND:STATE[;STATE] where KIND is priv, notpriv, control,
 * control-timer, or an aspect name (a pair), and STATE is key=value pairs
 * (see README.md).  Returns buf. */
char *check_witness_format(const struct check_witness *w, char *buf, size_t size);
/* The inverse; on failure returns false with a message in err. */
bool check_witness_parse(const char *text, struct check_witness *w,
                         char err[CHECK_TEXT_SIZE]);
/* The KIND of that line. */
const char *check_witness_kind_name(const struct check_witness *w);
char *check_state_format(const struct check_state *s, char *buf, size_t size);

/* Human-readable lines for --explain: the state without its instruction
 * ("user IE=0 TP=0 | PG=0 base=0x100 bound=0x200 | timer=1 | pc=0x40 |
 * input 1 byte, control off"), the instruction's operand registers, and what
 * an outcome did relative to its state. */
char *check_state_describe(const struct check_state *s, char *buf, size_t size);
char *check_operands_describe(const struct check_state *s, char *buf, size_t size);
char *check_outcome_describe(const struct check_state *s, const struct check_outcome *o,
                             char *buf, size_t size);

/* ---- Classification ------------------------------------------------------- */

struct check_options {
    uint64_t seed;   /* of the random states; the same seed gives the same report */
    unsigned states; /* random states per instruction, besides the edge cases */
};

struct check_row {
    const struct isa_op *op;
    bool privileged;
    bool control;            /* control-sensitive                        */
    bool behavior;           /* behaviour-sensitive in some aspect       */
    unsigned aspects;        /* 1u << enum check_aspect, each witnessed   */
    bool user;               /* user-sensitive                           */
    bool timing;             /* its outcome depends on the timer, or it moves
                                the timer other than by the ordinary tick */
    bool timing_in_trap;     /* ... even inside a trap (time lost to the VMM) */

    /* The theorems' offenders. */
    bool critical;           /* sensitive and not privileged: breaks Theorem 1 */
    bool user_critical;      /* user-sensitive, not privileged: breaks Theorem 3 */
    bool timing_offender;    /* timing a VMM cannot hide: breaks Theorem 2 */

    /* The witnesses, each found when the verdict it supports holds. */
    struct {
        struct check_witness priv;     /* CHECK_W_PRIV if privileged, else NOT_PRIV */
        struct check_witness control;
        struct check_witness behavior[CHECK_ASPECTS];
        struct check_witness user;     /* the first sensitivity from a user state */
        struct check_witness timing;
    } w;

    /* What was tried. */
    unsigned user_states, super_states;
    unsigned pairs[CHECK_ASPECTS]; /* pairs compared (neither trapped PRIV) */
};

struct check_report {
    char variant[32];
    struct check_options options;
    size_t nrows;
    struct check_row *rows; /* one per isa_ops() entry, in table order; owned */
    bool theorem1;          /* sensitive ⊆ privileged: trap-and-emulate VMM   */
    bool theorem2;          /* Theorem 1 and no timing a VMM cannot hide      */
    bool theorem3;          /* user-sensitive ⊆ privileged: hybrid VMM        */
};

/* Classifies every instruction of v.  Returns false (report untouched) when
 * memory runs out; free the report with check_report_free. */
bool check_classify(const struct isa_variant *v, const struct check_options *o,
                    struct check_report *out);
void check_report_free(struct check_report *r);
/* The row of a mnemonic, or NULL. */
const struct check_row *check_report_row(const struct check_report *r, const char *mnemonic);
/* "innocuous" (neither sensitive nor privileged), "privileged" (privileged,
 * not sensitive), "emulated" (sensitive and privileged: the VMM gets it),
 * "critical" (sensitive, not privileged: breaks Theorem 1) or
 * "critical-user" (user-sensitive too: breaks Theorems 1 and 3). */
const char *check_row_verdict(const struct check_row *row);

/* ---- Theory meets practice: --confirm ---------------------------------------- */

/* The VMMs a confirmation runs guests under (vmm/vmm.h): te, hvm, interp, bt,
 * hw, hw-slt.  Not pv: its guests are paravirtual kernels that ask the VMM by
 * hcall, while a confirmation's guests execute the sensitive instruction
 * itself in supervisor mode. */
#define CHECK_CONFIRM_VMMS 6
const char *check_confirm_vmm_name(unsigned i);

/* One sensitive instruction, run in small guests that depend on it: one per
 * state of its witnesses and their partners in every aspect.  Each guest
 * boots in supervisor mode, loads the registers and the console control,
 * lpsw's into the state, executes the instruction, and halts in the handler
 * of the trap that follows; bare machine and VMM must end equal (registers,
 * PSW, every memory word, console output, steps, stop reason). */
struct check_confirm_row {
    const struct isa_op *op;
    const struct check_row *row;      /* in the report                        */
    unsigned guests;                  /* guests run under each VMM            */
    bool ran[CHECK_CONFIRM_VMMS];     /* false when the VMM could not be made */
    bool equivalent[CHECK_CONFIRM_VMMS];
    char what[CHECK_CONFIRM_VMMS][CHECK_TEXT_SIZE]; /* the first difference   */
    struct check_state guest[CHECK_CONFIRM_VMMS];   /* ... and its guest's state */
};

/* Confirms every sensitive instruction of r (classified on v); rows must
 * have room for r->nrows.  Returns the number of rows written. */
size_t check_confirm(const struct isa_variant *v, const struct check_report *r,
                     struct check_confirm_row *rows);

#endif
