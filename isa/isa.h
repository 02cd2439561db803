/*
 * isa.h: the architecture of the Trapeze machine as data.
 *
 * Everything a program can observe about the machine is defined here once:
 * the instruction table (isa.def), the word layout, the PSW, the trap causes,
 * the ports and the page-table entry.  The machine, the assembler, the VMMs,
 * the checker and the debugger all read these definitions.
 *
 * Instruction word layout:
 *
 *   31      24 23  20 19  16 15  12 11             0
 *  +----------+------+------+------+----------------+
 *  |  opcode  |  a   |  b   |  c   |     (zero)     |   FMT_R
 *  +----------+------+------+------+----------------+
 *  |  opcode  |  a   |  b   |         imm16         |   FMT_I
 *  +----------+------+------+-----------------------+
 *  |  opcode  |               imm24                 |   FMT_J
 *  +----------+-------------------------------------+
 */
#ifndef TRAPEZE_ISA_H
#define TRAPEZE_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Instruction table ---------------------------------------------------- */

enum isa_format { FMT_R, FMT_I, FMT_J };

/* How assembly operands map onto fields; the assembler and the disassembler
 * switch on this, never on individual opcodes. */
enum isa_operands {
    OPS_NONE,    /* halt                       -                        */
    OPS_RRR,     /* add rd, rs, rt             a=rd b=rs c=rt           */
    OPS_RRI,     /* addi rd, rs, imm           a=rd b=rs imm16          */
    OPS_RI,      /* lui rd, imm / in rd, port  a=rd imm16               */
    OPS_RR,      /* srr rd, rs                 a=rd b=rs                */
    OPS_R,       /* jr rs / pushf rd           a=r                      */
    OPS_MEM,     /* ld rd, imm(rs)             a=rd b=rs imm16          */
    OPS_PSWADDR, /* lpsw imm(rs)               b=rs imm16               */
    OPS_BRANCH,  /* beq ra, rb, label          a=ra b=rb imm16 = label - (pc + 1) */
    OPS_ADDR,    /* jmp label                  imm24 = label            */
    OPS_IMM,     /* svc imm                    imm16                    */
};

enum isa_flag {
    ISA_F_WRITES_A = 1u << 0, /* writes the register in field a            */
    ISA_F_WRITES_B = 1u << 1, /* writes the register in field b (srr)      */
    ISA_F_ZEXT     = 1u << 2, /* imm16 is zero-extended                    */
    ISA_F_LOAD     = 1u << 3, /* reads virtual memory                      */
    ISA_F_STORE    = 1u << 4, /* writes virtual memory                     */
    ISA_F_BRANCH   = 1u << 5, /* may change pc other than by +1            */
    ISA_F_TRAPS    = 1u << 6, /* always traps (svc, hcall)                 */
    ISA_F_SYSTEM   = 1u << 7, /* its user-mode behaviour is set by the variant */
};

enum isa_opcode {
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) ISA_##id = (opc),
#include "isa.def"
#undef ISA_OP
};

struct isa_op {
    const char *mnemonic;
    const char *effect;
    uint8_t opcode;
    uint8_t format;   /* enum isa_format */
    uint8_t operands; /* enum isa_operands */
    uint16_t flags;   /* enum isa_flag */
};

#define ISA_OPCODE_SLOTS 256

/* The defined instructions in table order; isa_op_count() of them. */
const struct isa_op *isa_ops(void);
size_t isa_op_count(void);
/* The instruction with this opcode, or NULL when the opcode is undefined. */
const struct isa_op *isa_op_by_opcode(uint8_t opcode);
/* The instruction with this mnemonic (case-sensitive), or NULL. */
const struct isa_op *isa_op_by_mnemonic(const char *mnemonic);
/* The i-th instruction (from 0, in table order) whose flags include all of
 * flags, or NULL when there are fewer:
 *     for (i = 0; (op = isa_op_with_flags(ISA_F_SYSTEM, i)); i++) ... */
const struct isa_op *isa_op_with_flags(unsigned flags, size_t i);
/* The system instructions' mnemonics as a phrase, "halt, lpsw, ... and
 * tlbflush", into buf (always NUL-terminated, cut to size).  Returns buf. */
char *isa_system_mnemonic_list(char *buf, size_t size);

/* ---- Field access ---------------------------------------------------------- */

static inline uint8_t isa_opcode_of(uint32_t w) { return (uint8_t)(w >> 24); }
static inline unsigned isa_field_a(uint32_t w) { return (w >> 20) & 15u; }
static inline unsigned isa_field_b(uint32_t w) { return (w >> 16) & 15u; }
static inline unsigned isa_field_c(uint32_t w) { return (w >> 12) & 15u; }
static inline uint32_t isa_imm16(uint32_t w) { return w & 0xffffu; }
static inline uint32_t isa_simm16(uint32_t w) { return (uint32_t)(int32_t)(int16_t)(w & 0xffffu); }
static inline uint32_t isa_imm24(uint32_t w) { return w & 0xffffffu; }

static inline uint32_t isa_make_r(uint8_t op, unsigned a, unsigned b, unsigned c)
{
    return (uint32_t)op << 24 | (a & 15u) << 20 | (b & 15u) << 16 | (c & 15u) << 12;
}
static inline uint32_t isa_make_i(uint8_t op, unsigned a, unsigned b, uint32_t imm16)
{
    return (uint32_t)op << 24 | (a & 15u) << 20 | (b & 15u) << 16 | (imm16 & 0xffffu);
}
static inline uint32_t isa_make_j(uint8_t op, uint32_t imm24)
{
    return (uint32_t)op << 24 | (imm24 & 0xffffffu);
}

/* The immediate of an FMT_I instruction as the executor sees it. */
static inline uint32_t isa_imm_value(const struct isa_op *op, uint32_t w)
{
    return (op->flags & ISA_F_ZEXT) ? isa_imm16(w) : isa_simm16(w);
}

/* Writes the disassembly of w, fetched at address pc, into buf (always
 * NUL-terminated).  Branch targets are shown as absolute addresses; when
 * label_of is non-NULL it may name an address (return NULL for none).
 * Undefined opcodes disassemble as ".word 0x...". Returns buf. */
typedef const char *(*isa_label_fn)(void *ctx, uint32_t address);
char *isa_disassemble(uint32_t w, uint32_t pc, isa_label_fn label_of, void *ctx,
                      char *buf, size_t size);

/* ---- Registers -------------------------------------------------------------- */

#define ISA_NREGS 16
#define ISA_REG_SP 14
#define ISA_REG_LR 15

/* ---- The PSW ---------------------------------------------------------------- */

enum isa_psw_flag {
    PSW_M  = 1u << 0, /* supervisor mode            */
    PSW_IE = 1u << 1, /* interrupts enabled         */
    PSW_PG = 1u << 2, /* paging on                  */
    PSW_TP = 1u << 3, /* timer interrupt pending    */
};
#define PSW_FLAGS_MASK 0xfu
#define PSW_WORDS 5

struct psw {
    uint32_t flags; /* enum isa_psw_flag */
    uint32_t pc;    /* virtual address of the next instruction */
    uint32_t base;  /* PG=0: relocation base; PG=1: page table address (physical) */
    uint32_t bound; /* PG=0: size of the virtual space; PG=1: page-table entries */
    uint32_t timer; /* instructions to the timer interrupt; 0 = off */
};

/* The PSW as the five words a trap stores and lpsw loads (flags, pc,
 * base, bound, timer).  Inline: they are on the interpreter's trap path. */
static inline void isa_psw_to_words(const struct psw *p, uint32_t words[PSW_WORDS])
{
    words[0] = p->flags;
    words[1] = p->pc;
    words[2] = p->base;
    words[3] = p->bound;
    words[4] = p->timer;
}
/* Bits outside PSW_FLAGS_MASK are dropped, as the hardware does. */
static inline struct psw isa_psw_from_words(const uint32_t words[PSW_WORDS])
{
    return (struct psw){words[0] & PSW_FLAGS_MASK, words[1], words[2], words[3], words[4]};
}

/* ---- Traps ---------------------------------------------------------------- */

/* X(ID, number, name) */
#define ISA_CAUSES(X)  \
    X(PRIV, 1, "PRIV")   \
    X(MEM, 2, "MEM")     \
    X(ILL, 3, "ILL")     \
    X(DIV, 4, "DIV")     \
    X(SVC, 5, "SVC")     \
    X(HCALL, 6, "HCALL") \
    X(TIMER, 7, "TIMER") \
    X(IO, 8, "IO")

enum isa_cause {
    CAUSE_NONE = 0,
#define X(id, n, name) CAUSE_##id = n,
    ISA_CAUSES(X)
#undef X
    CAUSE_COUNT
};

/* "PRIV", ..., or NULL for an unknown cause number. */
const char *isa_cause_name(unsigned cause);
/* The cause with this name (case-insensitive), or CAUSE_NONE. */
enum isa_cause isa_cause_by_name(const char *name);

/* The detail of a MEM trap:
 *   BOUND     va >= bound (under paging: vpn >= bound)
 *   INVALID   the page-table entry has no V
 *   WRITE     a store to a page whose entry has no W
 *   PHYSICAL  the physical address, or the entry's own, is >= MEMSIZE
 * X(ID, number, name, phrase): the name is one word for commands and
 * tables, the phrase says it in a report ("MEM (invalid page)"). */
#define ISA_MEM_FAULTS(X)                                \
    X(BOUND, 0, "bound", "beyond the bound")             \
    X(INVALID, 1, "invalid", "invalid page")             \
    X(WRITE, 2, "write", "write-protected page")         \
    X(PHYSICAL, 3, "physical", "beyond physical memory")

enum isa_mem_fault {
#define X(id, n, name, phrase) MEMF_##id = n,
    ISA_MEM_FAULTS(X)
#undef X
    MEMF_COUNT
};

/* "bound", "invalid", "write", "physical"; NULL for a detail that names no
 * fault (as isa_cause_name), so a caller decides how to show one. */
const char *isa_mem_fault_name(unsigned detail);
/* "beyond the bound", ...; NULL for a detail that names no fault. */
const char *isa_mem_fault_phrase(unsigned detail);

/*
 * The trap area, in physical words: the one definition of its layout.
 *
 *    0..4   old PSW           \
 *    5      cause | detail<<8  > the trap record: all a trap writes
 *    6      value             /
 *    7      reserved          never written
 *    8..12  new PSW           read by the trap, written by the handler's owner
 *    13..15 reserved          never written
 *
 * The functions below work on any level's trap area, given a pointer to
 * that level's physical word 0 with at least TRAP_AREA_WORDS words: the
 * machine's memory, a guest's region in real memory, the memory an asm VMM
 * gives its guest.  The machine delivers traps with them, the C VMM reflects
 * with them, and whoever reads a trap back decodes it with them.
 */
enum isa_trap_area {
    TRAP_OLD_PSW = 0,  /* 0..4  old PSW stored by the trap */
    TRAP_CAUSE = 5,    /* cause | detail << 8             */
    TRAP_VALUE = 6,    /* trap value                      */
    TRAP_NEW_PSW = 8,  /* 8..12 new PSW loaded by the trap */
    TRAP_AREA_WORDS = 16,
};

/* One trap as a trap area records it. */
struct isa_trap_record {
    enum isa_cause cause;
    unsigned detail;    /* MEM: enum isa_mem_fault; else 0; only bits 7..0 are stored */
    uint32_t value;     /* the trap value of ISA.md's table */
    struct psw old_psw; /* the PSW the trap saves (pc = the saved pc) */
};

/* Word 5 of the trap area: cause in bits 7..0, detail in bits 15..8. */
static inline uint32_t isa_trap_cause_word(enum isa_cause cause, unsigned detail)
{
    return ((uint32_t)cause & 0xffu) | (detail & 0xffu) << 8;
}

/* Stores the record in words 0..6 of the trap area and nothing else. */
static inline void isa_trap_deliver(uint32_t *area, const struct isa_trap_record *t)
{
    isa_psw_to_words(&t->old_psw, &area[TRAP_OLD_PSW]);
    area[TRAP_CAUSE] = isa_trap_cause_word(t->cause, t->detail);
    area[TRAP_VALUE] = t->value;
}

/* The PSW a trap loads from words 8..12 (flags masked). */
static inline struct psw isa_trap_new_psw(const uint32_t *area)
{
    return isa_psw_from_words(&area[TRAP_NEW_PSW]);
}

/* True when the five new-PSW words are all zero: no handler is installed,
 * and a trap stops the machine "unhandled-trap" (isa/README.md). */
static inline bool isa_trap_unhandled(const uint32_t *area)
{
    uint32_t any = 0;
    for (int i = 0; i < PSW_WORDS; i++) any |= area[TRAP_NEW_PSW + i];
    return any == 0;
}

/* Reads the record of the last trap back from words 0..6.  False, with *t
 * untouched, when bits 7..0 of word 5 name no cause (no trap was recorded
 * there, or the guest overwrote it); bits 31..16 of word 5 are ignored. */
bool isa_trap_decode(const uint32_t *area, struct isa_trap_record *t);

/* ---- Paging and ports ------------------------------------------------------ */

#define ISA_PAGE_SHIFT 8
#define ISA_PAGE_WORDS (1u << ISA_PAGE_SHIFT)
enum isa_pte_bit { PTE_V = 1u << 0, PTE_W = 1u << 1 };
static inline uint32_t isa_pte_frame(uint32_t pte) { return pte >> 8; }

enum isa_port {
    PORT_CONSOLE_OUT = 0,
    PORT_CONSOLE_IN = 1,
    PORT_CONSOLE_CTRL = 2, /* bit 0: raise IO interrupts on input */
    PORT_DEVICE_FIRST = 16,
    PORT_DISK_FIRST = 16, /* unit k: ports PORT_DISK_FIRST + ISA_DISK_PORTS * k + enum isa_disk_port */
};

/* ISA.md "The disk": up to four units of 256-word sectors, eight ports each. */
#define ISA_DISK_UNITS 4u
#define ISA_DISK_PORTS 8u
#define ISA_SECTOR_WORDS ISA_PAGE_WORDS
#define ISA_SECTOR_BYTES (ISA_SECTOR_WORDS * 4u) /* in a disk file: little-endian words */
enum isa_disk_port {
    DISK_SECTOR = 0,    /* the sector of the next command              */
    DISK_ADDR = 1,      /* where it goes in memory, before DMA_BASE     */
    DISK_CMD = 2,       /* write: starts a command; reads 0            */
    DISK_STATUS = 3,    /* DONE, ERROR; reading clears DONE            */
    DISK_CTRL = 4,      /* bit 0: an IO interrupt on completion        */
    DISK_SIZE = 5,      /* read: sectors of the unit                   */
    DISK_DMA_BASE = 6,  /* the unit's IOMMU: relocation of ADDR ...     */
    DISK_DMA_BOUND = 7, /* ... and its bound (reset MEMSIZE)           */
};
enum isa_disk_cmd { DISK_CMD_READ = 1, DISK_CMD_WRITE = 2 };
enum isa_disk_status { DISK_STATUS_DONE = 1u << 0, DISK_STATUS_ERROR = 1u << 1 };
enum isa_disk_ctrl { DISK_CTRL_IRQ = 1u << 0 };
/* The port of unit's register reg. */
static inline uint32_t isa_disk_port(unsigned unit, enum isa_disk_port reg)
{
    return PORT_DISK_FIRST + ISA_DISK_PORTS * unit + (uint32_t)reg;
}

#define ISA_DEFAULT_MEMSIZE 1048576u
#define ISA_DEFAULT_ENTRY 16u

/* ---- Variants ------------------------------------------------------------- */

/* What a system instruction does in user mode. */
enum isa_user_action {
    USER_TRAP,   /* raise PRIV                                              */
    USER_EXEC,   /* execute on the real state; M, PG, base, bound never change */
    USER_SILENT, /* execute, but change no system state (PSW, devices, halt) */
};

/* Extensions a variant file turns on with a `feature NAME` line. */
enum isa_feature {
    ISA_FEATURE_ASSIST = 1u << 0, /* "assist": vmenter and guest mode (isa/README.md) */
};

struct isa_variant {
    char name[32];
    uint32_t features; /* enum isa_feature; a base's are inherited */
    uint8_t user_action[ISA_OPCODE_SLOTS]; /* enum isa_user_action, by opcode */
};

#define ISA_ERROR_SIZE 512

/* Whether the variant has the instruction of this opcode at all: vmenter
 * exists only with feature assist; without it, it is undefined (ILL) in
 * both modes, like an unassigned opcode. */
static inline bool isa_variant_has(const struct isa_variant *v, uint8_t opcode)
{
    return opcode != ISA_VMENTER || (v->features & ISA_FEATURE_ASSIST);
}

/* ---- The hardware-assist extension (feature assist; isa/README.md) ---------- */

/* The control block vmenter reads, word by word, at a physical address. */
enum isa_vmcb {
    VMCB_PSW = 0,            /* 0..4   guest PSW: flags, pc, base, bound, timer   */
    VMCB_REGS = 5,           /* 5..20  guest r0..r15 (r0 reads 0 whatever is here) */
    VMCB_EXIT_INSNS = 21,    /* bit (opcode - 0x40) set: that system instruction exits */
    VMCB_EXIT_TRAPS = 22,    /* bit cause set: that trap or interrupt exits       */
    VMCB_PORTS = 23,         /* in/out not exiting by word 21: bit p set, port p (0..31)
                                exits; ports >= 32 always exit                   */
    VMCB_CTRL = 24,          /* enum isa_vmcb_ctrl                                 */
    VMCB_SHADOW_FLAGS = 25,  /* read shadow: what pushf reads                      */
    VMCB_SHADOW_BASE = 26,   /* ... and what srr reads                             */
    VMCB_SHADOW_BOUND = 27,
    VMCB_TRAP_AREA = 28,     /* SLT off: host-physical address of the guest's trap area */
    VMCB_SLT_BASE = 29,      /* SLT on: host-physical address of the second-level table */
    VMCB_SLT_BOUND = 30,     /* ... guest-physical words it maps (gpa >= bound: SLT exit) */
    VMCB_EXIT_REASON = 31,   /* written at every exit: enum isa_exit_reason        */
    VMCB_EXIT_CAUSE = 32,    /* TRAP/SLT: cause | detail << 8, as trap area word 5 */
    VMCB_EXIT_VALUE = 33,    /* TRAP: the trap value; SLT: the guest-virtual address */
    VMCB_EXIT_INSN = 34,     /* the instruction word at the exit pc (INSN, SLT)     */
    VMCB_EXIT_PC = 35,       /* the guest pc the exit saved (= word 1)             */
    VMCB_EXIT_GPA = 36,      /* SLT: the guest-physical address that failed       */
    VMCB_WORDS = 40,         /* 37..39 reserved, never read or written            */
};
enum isa_vmcb_ctrl {
    VMCB_CTRL_SHADOW = 1u << 0, /* pushf and srr read words 25..27           */
    VMCB_CTRL_SLT = 1u << 1,    /* second-level translation through 29..30   */
};
/* X(ID, number, name) */
#define ISA_EXIT_REASONS(X)      \
    X(INSN, 1, "insn")           \
    X(TRAP, 2, "trap")           \
    X(HOST_TIMER, 3, "host-timer") \
    X(SLT, 4, "slt")             \
    X(CHECK, 5, "check")
enum isa_exit_reason {
    EXIT_NONE = 0,
#define X(id, n, name) EXIT_##id = n,
    ISA_EXIT_REASONS(X)
#undef X
    EXIT_REASON_COUNT
};
#define ISA_VMCB_FIRST_OPCODE 0x40u /* bit 0 of word 21 is opcode 0x40 (halt) */
const char *isa_exit_reason_name(unsigned reason); /* "insn", ...; NULL if none */

/* Loads a variant: NAME of a built-in one (isa_builtin_variant_names()) or the
 * path of a variant file.  On failure returns false and writes a one-line
 * message "file:line:col: error: ..." into err. */
bool isa_variant_load(const char *name_or_path, struct isa_variant *out,
                      char err[ISA_ERROR_SIZE]);
/* Parses variant text; file names the text in messages. */
bool isa_variant_parse(const char *text, const char *file, struct isa_variant *out,
                       char err[ISA_ERROR_SIZE]);
/* The names of the built-in variants, NULL-terminated: one per file in
 * isa/variants/, the default "pg" first, then the others by file name. */
const char *const *isa_builtin_variant_names(void);
/* The text of a built-in variant file, or NULL. */
const char *isa_builtin_variant_text(const char *name);
const char *isa_user_action_name(enum isa_user_action a);

#endif
