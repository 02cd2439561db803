/*
 * machine.c: the Trapeze processor.
 *
 * The interpreter keeps pc, the relocation and a countdown in locals and works
 * in *batches*: a batch runs at most min(budget, timer) instructions, so the
 * hot path needs no per-instruction check of the timer, the budget or the
 * interrupt lines.  Everything rare leaves the batch through one door:
 *
 *     fast path (ALU, ld/st, branches)  --fault / system insn / batch end-->
 *         sync(): write the locals back, charge the timer and the budget
 *         slow path: take_trap() or exec_system(), one step
 *         reload: check stop, interrupts; start the next batch
 *
 * System instructions are never on the fast path, so the privilege check of
 * the variant happens in exactly one place: exec_system().
 */
#include "machine.h"

#include "../isa/invariant.h"
#include "console.h"
#include "disk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef TRAPEZE_DISPATCH_GOTO
#if defined(__GNUC__)
#define TRAPEZE_DISPATCH_GOTO 1
#else
#define TRAPEZE_DISPATCH_GOTO 0
#endif
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MAX_DEVICES 8

enum run_state { RUN_READY, RUN_HALTED, RUN_CHECKED, RUN_UNHANDLED };

struct device_slot {
    uint32_t first, count;
    struct machine_device dev;
};

/* The page-table entries of the running table that stores changed since the
 * last flush, each with its value at that flush (machine.h).  Empty (n == 0)
 * is the common case, and then the interpreter checks nothing. */
struct pte_record {
    unsigned n;
    struct {
        uint32_t pa, old;
    } entry[MACHINE_PTE_RECORD];
};

/* Guest mode (feature assist, isa/README.md): the host's state while a
 * guest runs, and the guest's controls as vmenter read them. */
struct guest_mode {
    bool on;
    bool has_block;              /* entered by vmenter: exits write the block */
    uint32_t block_pa;
    uint32_t ctl[VMCB_WORDS];    /* words 21..30 are used */
    uint32_t host_reg[ISA_NREGS];
    struct psw host_psw;         /* pc = the instruction after vmenter */
    uint32_t fault_gpa;          /* the guest-physical address of the last SLT fault */
    bool host_timer_ran_out;     /* the host's timer reached 0 in guest mode: exit */
};

/* A translation's detail with this bit is a fault of the second-level
 * table (the low bits: the walk's enum isa_mem_fault), never the guest's. */
#define DETAIL_SLT 0x10u

struct machine {
    /* The processor: everything ISA.md calls architectural state. */
    uint32_t reg[ISA_NREGS];
    struct psw psw;
    uint32_t *mem;
    size_t memsize;
    bool owns_mem;
    /* Which pages of memory were ever written (struct page_map): the owner's
     * map, shared by the machines over its memory (machine_create_view),
     * pages_at words into it.  The store path marks, so clone, restore and
     * machine_pages_differ cost what a run touched, not memsize. */
    struct page_map *pages;
    size_t pages_at;
    bool owns_pages; /* false for a view: its owner's map */
    struct isa_variant variant;

    /* The console device (ports 0..2) and attached devices (ports >= 16). */
    struct console con;
    struct device_slot devices[MAX_DEVICES];
    size_t ndevices;
    /* The disk units (ports 16..47), and their interrupt lines, bit k for
     * unit k: kept equal to disk_irq_pending() after every port access, so
     * that the check before an instruction reads one word. */
    struct disk_unit disks[ISA_DISK_UNITS];
    unsigned disk_lines;
    void (*disk_sink)(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words);
    void *disk_sink_ctx;

    /* Hooks: a NULL function means the hook is unset. */
    struct machine_observer observer;
    bool observe_system;            /* before_insn only before system instructions */
    struct machine_monitor monitor;
    struct machine_exit_handler exit_handler;

    /* Run state: why the machine is stopped, and what it has done so far. */
    enum run_state state;
    bool stop_requested;
    bool has_trapped;
    struct machine_trap last_trap;
    struct machine_stats stats;

    /* ISA.md's page-table rule: what changed since the last flush, and the
     * first translation that relied on such a change (stats counts them). */
    struct pte_record changed;
    bool pte_rule_broken;
    struct machine_pte_use pte_first;

    struct guest_mode vm;

    /* machine_set_fetch_stops: a bit a word of memory (NULL: none),
     * whether the last run ended at one, and where the last one was met
     * (the steps taken then and the word), which the next fetch passes.
     * A clone has none. */
    uint8_t *fetch_stops;
    bool fetch_stopped;
    uint64_t fetch_passed_steps;
    uint32_t fetch_passed_pa;
};

/* ---- Written pages ----------------------------------------------------------- */

/* page[p] != 0 when memory page p (ISA_PAGE_WORDS words) may be nonzero: a
 * page never marked is all zero, as calloc left it.  all: a writable
 * pointer to the whole memory went out (machine_memory) or the memory was
 * lent raw (machine_create_on), so any page may be nonzero at any time. */
struct page_map {
    uint8_t *page;
    size_t npages;
    bool all;
};

static size_t pages_for(size_t words) { return (words + ISA_PAGE_WORDS - 1) >> ISA_PAGE_SHIFT; }

static struct page_map *page_map_new(size_t words)
{
    struct page_map *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->npages = pages_for(words);
    p->page = calloc(p->npages ? p->npages : 1, 1);
    if (!p->page) {
        free(p);
        return NULL;
    }
    return p;
}

static void page_map_free(struct page_map *p)
{
    if (p) free(p->page);
    free(p);
}

/* Words [pa, pa + n) of m's memory (n > 0) are about to change. */
static void mark_written(const struct machine *m, size_t pa, size_t n)
{
    const size_t first = (m->pages_at + pa) >> ISA_PAGE_SHIFT, last = (m->pages_at + pa + n - 1) >> ISA_PAGE_SHIFT;
    memset(m->pages->page + first, 1, last - first + 1);
}

/* The test build checks the promise behind every skipped page: a page never
 * marked is all zero (an unmarked writer would break it). */
static bool page_written(const struct machine *m, size_t p)
{
    if (m->pages->all || m->pages->page[p]) return true;
#ifdef TRAPEZE_TEST_BUILD
    /* The proof that a page never marked is all zero.  The fuzz build looks
     * at every seventeenth word only: the whole proof, at every clone and
     * restore of a debug session, was a quarter of the debugger harness. */
#ifdef TRAPEZE_FUZZ_BUILD
    const size_t stride = 17;
#else
    const size_t stride = 1;
#endif
    const size_t first = p << ISA_PAGE_SHIFT;
    const uint32_t *owner_mem = m->mem - m->pages_at;
    for (size_t w = first; w < first + ISA_PAGE_WORDS && w < m->pages->npages << ISA_PAGE_SHIFT; w += stride)
        TRAPEZE_ASSERT(w < m->pages_at || w >= m->pages_at + m->memsize || owner_mem[w] == 0);
#endif
    return false;
}

/* ---- Life cycle ------------------------------------------------------------ */

static struct machine *machine_new(uint32_t *memory, size_t memsize, bool owns,
                                   const struct isa_variant *variant)
{
    if (memsize < TRAP_AREA_WORDS || memsize > UINT32_MAX) return NULL;
    struct machine *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->mem = memory;
    m->memsize = memsize;
    m->owns_mem = owns;
    m->variant = *variant;
    m->pages = page_map_new(memsize);
    if (!m->pages) {
        free(m);
        return NULL;
    }
    m->owns_pages = true;
    m->pages->all = !owns; /* raw memory lent by a caller: nothing known about it */
    machine_reset(m, ISA_DEFAULT_ENTRY);
    return m;
}

/* A machine's own memory, zeroed.  Big blocks are mapped anonymously, so
 * that the pages never written cost nothing: calloc hands out a freed
 * block again once glibc's threshold has grown past it and must clear all
 * of it, which made every snapshot of a debug session cost --mem.  The
 * test build keeps calloc, where AddressSanitizer sees every word. */
#define MAPPED_MEMORY_BYTES (256u << 10)

static bool memory_mapped(size_t memsize)
{
    return !TRAPEZE_TESTING && memsize * sizeof(uint32_t) >= MAPPED_MEMORY_BYTES;
}

static uint32_t *memory_new(size_t memsize)
{
    if (!memory_mapped(memsize)) return calloc(memsize, sizeof(uint32_t));
    void *p = mmap(NULL, memsize * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void memory_free(uint32_t *mem, size_t memsize)
{
    if (!mem) return;
    if (memory_mapped(memsize)) munmap(mem, memsize * sizeof(uint32_t));
    else free(mem);
}

struct machine *machine_create(size_t memsize, const struct isa_variant *variant)
{
    if (memsize < TRAP_AREA_WORDS || memsize > UINT32_MAX) return NULL;
    uint32_t *memory = memory_new(memsize);
    if (!memory) return NULL;
    struct machine *m = machine_new(memory, memsize, true, variant);
    if (!m) memory_free(memory, memsize);
    return m;
}

struct machine *machine_create_on(uint32_t *memory, size_t memsize,
                                  const struct isa_variant *variant)
{
    return machine_new(memory, memsize, false, variant);
}

struct machine *machine_create_view(struct machine *owner, size_t at, size_t memsize,
                                    const struct isa_variant *variant)
{
    if (at > owner->memsize || memsize > owner->memsize - at) return NULL;
    struct machine *m = machine_new(owner->mem + at, memsize, false, variant);
    if (!m) return NULL;
    page_map_free(m->pages);
    m->pages = owner->pages;
    m->pages_at = owner->pages_at + at;
    m->owns_pages = false;
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m) return;
    free(m->fetch_stops);
    if (m->owns_mem) memory_free(m->mem, m->memsize);
    if (m->owns_pages) page_map_free(m->pages);
    console_free(&m->con);
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) disk_free(&m->disks[k]);
    free(m);
}

/* Makes dst's memory equal to src's (the same size), copying only the pages
 * written in either while both know their own pages.  A view's pages are
 * its owner's, from pages_at on: while both start on a page boundary, page
 * p of the one is page p of the other (the C VMM's clone restores each
 * guest's view over the copy of its memory: the pages its guest wrote, not
 * all of them again, and the copy's record stays exact). */
static void copy_written(struct machine *dst, const struct machine *src)
{
    if ((dst->pages_at | src->pages_at) % ISA_PAGE_WORDS != 0) {
        memcpy(dst->mem, src->mem, src->memsize * sizeof *src->mem);
        mark_written(dst, 0, dst->memsize);
        return;
    }
    const size_t dfirst = dst->pages_at >> ISA_PAGE_SHIFT, sfirst = src->pages_at >> ISA_PAGE_SHIFT;
    for (size_t p = 0; p < pages_for(src->memsize); p++) {
        const bool in_src = page_written(src, sfirst + p);
        if (!in_src && !page_written(dst, dfirst + p)) continue;
        const size_t at = p << ISA_PAGE_SHIFT, n = src->memsize - at < ISA_PAGE_WORDS ? src->memsize - at : ISA_PAGE_WORDS;
        memcpy(dst->mem + at, src->mem + at, n * sizeof *src->mem);
        /* A page the machine ends inside may hold an owner's words past it. */
        uint8_t *mark = &dst->pages->page[dfirst + p];
        *mark = n == ISA_PAGE_WORDS ? in_src : (*mark | in_src);
    }
}

struct machine *machine_clone(const struct machine *m)
{
    struct machine *c = machine_create(m->memsize, &m->variant);
    if (!c) return NULL;
    uint32_t *mem = c->mem;
    struct page_map *pages = c->pages;
    *c = *m;
    c->mem = mem;
    c->owns_mem = true;
    c->pages = pages;
    c->pages_at = 0;
    c->owns_pages = true;
    c->fetch_stops = NULL; /* m's, and a copy is not being debugged */
    c->fetch_stopped = false;
    copy_written(c, m);
    /* The copy shares no buffer with m; it keeps m's sink, like its hooks. */
    c->con.input = NULL;
    c->con.output = NULL;
    c->con.output_cap = 0;
    bool copied = console_copy(&c->con, &m->con);
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) c->disks[k].words = NULL; /* m's, not c's */
    for (unsigned k = 0; k < ISA_DISK_UNITS && copied; k++)
        copied = disk_copy(&c->disks[k], &m->disks[k]);
    if (!copied) {
        machine_destroy(c);
        return NULL;
    }
    return c;
}

bool machine_restore(struct machine *dst, const struct machine *src)
{
    if (dst->memsize != src->memsize || !console_copy(&dst->con, &src->con)) return false;
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++)
        if (!disk_copy(&dst->disks[k], &src->disks[k])) return false;
    dst->disk_lines = src->disk_lines;
    memcpy(dst->reg, src->reg, sizeof dst->reg);
    dst->psw = src->psw;
    copy_written(dst, src);
    dst->variant = src->variant;
    dst->state = src->state;
    dst->stop_requested = false;
    dst->has_trapped = src->has_trapped;
    dst->last_trap = src->last_trap;
    dst->stats = src->stats;
    dst->changed = src->changed;
    dst->pte_rule_broken = src->pte_rule_broken;
    dst->pte_first = src->pte_first;
    dst->vm = src->vm;
    return true;
}

void machine_reset(struct machine *m, uint32_t entry)
{
    memset(m->reg, 0, sizeof m->reg);
    m->psw = (struct psw){PSW_M, entry, 0, (uint32_t)m->memsize, 0};
    m->changed.n = 0; /* the reset PSW is loaded: a flush */
    m->vm.on = false;
    m->state = RUN_READY;
    m->stop_requested = false;
}

/* ---- Fetch stops ---------------------------------------------------------- */

bool machine_set_fetch_stops(struct machine *m, const uint32_t *pas, size_t n)
{
    free(m->fetch_stops);
    m->fetch_stops = NULL;
    m->fetch_stopped = false;
    m->fetch_passed_steps = UINT64_MAX; /* a stop at the present word is met */
    if (n == 0) return true;
    m->fetch_stops = calloc(m->memsize / 8 + 1, 1);
    if (!m->fetch_stops) return false;
    for (size_t i = 0; i < n; i++)
        if (pas[i] < m->memsize) m->fetch_stops[pas[i] >> 3] |= (uint8_t)(1u << (pas[i] & 7));
    return true;
}

bool machine_fetch_stopped(const struct machine *m) { return m->fetch_stopped; }

uint32_t machine_fetch_stop_first(const struct machine *m, uint32_t pa, uint32_t n)
{
    if (!m->fetch_stops) return n;
    for (uint32_t j = 0; j < n && pa + (uint64_t)j < m->memsize;) {
        const uint64_t at = (uint64_t)pa + j;
        const uint8_t byte = m->fetch_stops[at >> 3];
        if (byte == 0) { /* eight words at a time where none is marked */
            j += 8 - (uint32_t)(at & 7);
            continue;
        }
        if (byte & (1u << (at & 7))) return j;
        j++;
    }
    return n;
}

/* ---- State ------------------------------------------------------------------- */

size_t machine_memsize(const struct machine *m) { return m->memsize; }
uint32_t *machine_memory(struct machine *m)
{
    m->pages->all = true; /* whoever holds it may write anywhere, at any time */
    return m->mem;
}
const uint32_t *machine_memory_const(const struct machine *m) { return m->mem; }

uint32_t *machine_memory_span(struct machine *m, size_t pa, size_t n)
{
    if (pa > m->memsize || n > m->memsize - pa) return NULL;
    if (n) mark_written(m, pa, n);
    return m->mem + pa;
}

size_t machine_next_written(const struct machine *m, size_t pa)
{
    while (pa < m->memsize) {
        const size_t abs = m->pages_at + pa;
        if (page_written(m, abs >> ISA_PAGE_SHIFT)) return pa;
        pa += ISA_PAGE_WORDS - (abs & (ISA_PAGE_WORDS - 1));
    }
    return m->memsize;
}

bool machine_tracks_pages(const struct machine *m) { return !m->pages->all; }
uint32_t machine_reg(const struct machine *m, unsigned r)
{
    TRAPEZE_ASSERT(m->reg[0] == 0); /* r0 reads 0: every write to it is undone */
    return r < ISA_NREGS ? m->reg[r] : 0;
}

const uint32_t *machine_regs(const struct machine *m)
{
    TRAPEZE_ASSERT(m->reg[0] == 0);
    return m->reg;
}

void machine_set_reg(struct machine *m, unsigned r, uint32_t value)
{
    if (r > 0 && r < ISA_NREGS) m->reg[r] = value;
}

struct psw machine_psw(const struct machine *m) { return m->psw; }

void machine_set_psw(struct machine *m, const struct psw *p)
{
    /* Word by word: *p was most often just written that way (a PSW
     * composed by a monitor), and a wider load of it would wait. */
    m->psw.flags = p->flags & PSW_FLAGS_MASK;
    m->psw.pc = p->pc;
    m->psw.base = p->base;
    m->psw.bound = p->bound;
    m->psw.timer = p->timer;
    m->changed.n = 0; /* a PSW load is a flush (machine.h) */
}

const struct isa_variant *machine_variant(const struct machine *m) { return &m->variant; }
const struct machine_stats *machine_stats(const struct machine *m) { return &m->stats; }

uint64_t machine_steps(const struct machine *m) { return m->stats.retired + m->stats.traps_and_exits; }

/* A trap or an exit counted (traps[] or exits[] just went up). */
static void count_trap_or_exit(struct machine *m)
{
    m->stats.traps_and_exits++;
    if (TRAPEZE_TESTING) {
        uint64_t sum = 0;
        for (int c = 0; c < CAUSE_COUNT; c++) sum += m->stats.traps[c];
        for (int r = 0; r < EXIT_REASON_COUNT; r++) sum += m->stats.exits[r];
        TRAPEZE_ASSERT(sum == m->stats.traps_and_exits);
    }
}

const struct machine_trap *machine_last_trap(const struct machine *m)
{
    return m->has_trapped ? &m->last_trap : NULL;
}

bool machine_pte_rule_broken(const struct machine *m, struct machine_pte_use *first)
{
    if (m->pte_rule_broken && first) *first = m->pte_first;
    return m->pte_rule_broken;
}

const char *machine_stop_name(enum machine_stop s)
{
    switch (s) {
    case MACHINE_BUDGET: return "budget";
    case MACHINE_HALT: return "halt";
    case MACHINE_CHECK: return "machine-check";
    case MACHINE_UNHANDLED_TRAP: return "unhandled-trap";
    case MACHINE_STOPPED: return "stopped";
    }
    return "?";
}

enum machine_stop machine_state(const struct machine *m)
{
    switch (m->state) {
    case RUN_HALTED: return MACHINE_HALT;
    case RUN_CHECKED: return MACHINE_CHECK;
    case RUN_UNHANDLED: return MACHINE_UNHANDLED_TRAP;
    case RUN_READY: break;
    }
    return MACHINE_BUDGET;
}

/* ---- Translation --------------------------------------------------------------- */

static bool slt_on(const struct machine *m)
{
    return m->vm.on && (m->vm.ctl[VMCB_CTRL] & VMCB_CTRL_SLT);
}

/* The second-level walk: guest-physical gpa to host-physical, in the order
 * of the first level's (bound, entry address, V, W, frame). */
static bool slt_walk(const struct machine *m, uint64_t gpa, enum machine_access access,
                     uint32_t *pa, unsigned *detail)
{
    if (gpa >= m->vm.ctl[VMCB_SLT_BOUND]) return *detail = DETAIL_SLT | MEMF_BOUND, false;
    const uint64_t entry = (uint64_t)m->vm.ctl[VMCB_SLT_BASE] + (gpa >> ISA_PAGE_SHIFT);
    if (entry >= m->memsize) return *detail = DETAIL_SLT | MEMF_PHYSICAL, false;
    const uint32_t pte = m->mem[entry];
    if (!(pte & PTE_V)) return *detail = DETAIL_SLT | MEMF_INVALID, false;
    if (access == ACCESS_STORE && !(pte & PTE_W)) return *detail = DETAIL_SLT | MEMF_WRITE, false;
    const uint64_t phys = (uint64_t)isa_pte_frame(pte) * ISA_PAGE_WORDS + (gpa & (ISA_PAGE_WORDS - 1));
    if (phys >= m->memsize) return *detail = DETAIL_SLT | MEMF_PHYSICAL, false;
    *pa = (uint32_t)phys;
    return true;
}

/* machine_translate, with second-level translation in guest mode: a fault
 * of the second level has DETAIL_SLT in *detail and its address in *gpa. */
static bool translate(const struct machine *m, const struct psw *psw, uint32_t va,
                      enum machine_access access, uint32_t *pa, unsigned *detail, uint32_t *gpa)
{
    const bool slt = slt_on(m);
    const uint64_t limit = slt ? UINT64_MAX : m->memsize; /* guest-physical is checked by the SLT */
    uint64_t phys;
    if (!(psw->flags & PSW_PG)) {
        if (va >= psw->bound) return *detail = MEMF_BOUND, false;
        phys = (uint64_t)psw->base + va;
    } else {
        uint32_t vpn = va >> ISA_PAGE_SHIFT;
        if (vpn >= psw->bound) return *detail = MEMF_BOUND, false;
        uint64_t pte_addr = (uint64_t)psw->base + vpn;
        uint32_t pte_pa = (uint32_t)pte_addr;
        if (slt) {
            *gpa = (uint32_t)(pte_addr > UINT32_MAX ? UINT32_MAX : pte_addr);
            if (!slt_walk(m, pte_addr, ACCESS_LOAD, &pte_pa, detail)) return false;
        } else if (pte_addr >= limit) {
            return *detail = MEMF_PHYSICAL, false;
        }
        uint32_t pte = m->mem[pte_pa];
        if (!(pte & PTE_V)) return *detail = MEMF_INVALID, false;
        if (access == ACCESS_STORE && !(pte & PTE_W)) return *detail = MEMF_WRITE, false;
        phys = (uint64_t)isa_pte_frame(pte) * ISA_PAGE_WORDS + (va & (ISA_PAGE_WORDS - 1));
    }
    if (slt) {
        *gpa = (uint32_t)(phys > UINT32_MAX ? UINT32_MAX : phys);
        return slt_walk(m, phys, access, pa, detail);
    }
    if (phys >= limit) return *detail = MEMF_PHYSICAL, false;
    *pa = (uint32_t)phys;
    TRAPEZE_ASSERT(*pa < m->memsize);
    return true;
}

/* The interpreter's own translations: an SLT fault's address is kept for
 * the exit.  Out of line, like note_store: inlined into the hot loop's
 * slow branch it could cost the loop a register. */
__attribute__((noinline)) static bool xlate(struct machine *m, uint32_t va,
                                            enum machine_access access, uint32_t *pa,
                                            unsigned *detail)
{
    return translate(m, &m->psw, va, access, pa, detail, &m->vm.fault_gpa);
}

/* For callers outside: a fault of the second level reads as a physical
 * one (only the exit tells them apart). */
bool machine_translate(const struct machine *m, const struct psw *psw, uint32_t va,
                       enum machine_access access, uint32_t *pa, unsigned *detail)
{
    uint32_t gpa;
    if (translate(m, psw, va, access, pa, detail, &gpa)) return true;
    if (*detail & DETAIL_SLT) *detail = MEMF_PHYSICAL;
    return false;
}

/* ---- The page-table rule (machine.h) ------------------------------------------- */

/* Where cached translations would die: tlbflush, lpsw, a trap. */
static void flush(struct machine *m)
{
    m->stats.tlb_flushes++;
    m->changed.n = 0;
}

/* The program's translation of va (at the instruction at m->psw.pc) reads
 * its page-table entry, if it gets that far: was that entry changed since
 * the last flush?  Called only when the record is not empty. */
static void check_pte_use(struct machine *m, uint32_t va, enum machine_access access)
{
    const struct psw *p = &m->psw;
    const uint32_t vpn = va >> ISA_PAGE_SHIFT;
    if (!(p->flags & PSW_PG) || vpn >= p->bound || slt_on(m)) return; /* base is guest-physical */
    const uint64_t pte_pa = (uint64_t)p->base + vpn;
    if (pte_pa >= m->memsize) return;
    for (unsigned i = 0; i < m->changed.n; i++) {
        if (m->changed.entry[i].pa != pte_pa) continue;
        const uint32_t old = m->changed.entry[i].old, now = m->mem[pte_pa];
        if (old == now) return; /* changed and changed back: nothing to rely on */
        m->stats.stale_pte_uses++;
        if (!m->pte_rule_broken) {
            m->pte_rule_broken = true;
            m->pte_first = (struct machine_pte_use){machine_steps(m), p->pc, va, access,
                                                    (uint32_t)pte_pa, old, now};
        }
        return;
    }
}

/* The store st (the instruction word; its rd holds the value) to physical
 * pa, about to happen: when it changes an entry of the running page table,
 * remember the entry's value at the last flush (the first store since then
 * has it).  It takes the word, not the value, so that the interpreter's
 * store handler computes nothing more for it; out of line, like
 * check_next_insn, so that the hot loop keeps its registers (TRANSLATE). */
__attribute__((noinline)) static void note_store(struct machine *m, uint32_t pa, uint32_t st)
{
    const struct psw *p = &m->psw;
    const uint32_t value = m->reg[isa_field_a(st)];
    if (!(p->flags & PSW_PG) || pa < p->base || pa - p->base >= p->bound || slt_on(m)) return;
    for (unsigned i = 0; i < m->changed.n; i++)
        if (m->changed.entry[i].pa == pa) return;
    if (m->mem[pa] == value) return;
    if (m->changed.n == MACHINE_PTE_RECORD) {
        m->stats.pte_writes_unchecked++;
        return;
    }
    m->changed.entry[m->changed.n].pa = pa;
    m->changed.entry[m->changed.n].old = m->mem[pa];
    m->changed.n++;
}

/* The entries the instruction at m->psw.pc is about to read: its fetch's,
 * and a load's or a store's operand's (lpsw's operand words are checked as
 * exec_system reads them).  Called by the interpreter before the
 * instruction, while the record is not empty, which implies PG = 1: then
 * every instruction starts a batch of its own (a paged access leaves the
 * fast window), so this sees each one, and the hot loop carries no check.
 * Out of line: inlined into interpret, it too cost the hot loop a register. */
__attribute__((noinline)) static void check_next_insn(struct machine *m)
{
    TRAPEZE_ASSERT(m->psw.flags & PSW_PG); /* only a paged store fills the record */
    const uint32_t pc = m->psw.pc;
    uint32_t pa;
    unsigned detail;
    check_pte_use(m, pc, ACCESS_FETCH);
    if (!machine_translate(m, &m->psw, pc, ACCESS_FETCH, &pa, &detail)) return; /* it faults there */
    const uint32_t w = m->mem[pa];
    const struct isa_op *op = isa_op_by_opcode(isa_opcode_of(w));
    if (!op || (op->flags & ISA_F_SYSTEM) || !(op->flags & (ISA_F_LOAD | ISA_F_STORE))) return;
    /* ld and st address rs + imm, as their handlers below do. */
    const uint32_t va = m->reg[isa_field_b(w)] + isa_simm16(w);
    check_pte_use(m, va, (op->flags & ISA_F_STORE) ? ACCESS_STORE : ACCESS_LOAD);
}

/* Below this virtual address an unpaged access is valid and needs no other
 * check: min(bound, memsize - base). */
static uint32_t unpaged_limit(const struct machine *m)
{
    if (m->psw.flags & PSW_PG) return 0;
    if (m->psw.base >= m->memsize || slt_on(m)) return 0; /* SLT: every access walks */
    uint64_t room = m->memsize - m->psw.base;
    return m->psw.bound < room ? m->psw.bound : (uint32_t)room;
}

/* ---- Console and devices --------------------------------------------------------- */

void machine_feed_input(struct machine *m, const uint8_t *bytes, size_t n)
{
    console_feed(&m->con, bytes, n);
}

size_t machine_input_pending(const struct machine *m) { return console_input_pending(&m->con); }

const uint8_t *machine_output(const struct machine *m, size_t *len)
{
    return console_output(&m->con, len);
}

void machine_set_output_sink(struct machine *m, void (*sink)(void *ctx, uint8_t byte), void *ctx)
{
    m->con.sink = sink;
    m->con.sink_ctx = ctx;
}

/* The unit whose ports hold port, when that unit is attached, else NULL. */
static struct disk_unit *disk_at(struct machine *m, uint32_t port, unsigned *unit)
{
    const uint32_t offset = port - PORT_DISK_FIRST;
    if (offset >= ISA_DISK_UNITS * ISA_DISK_PORTS) return NULL;
    *unit = offset / ISA_DISK_PORTS;
    return m->disks[*unit].words ? &m->disks[*unit] : NULL;
}

static bool overlaps_disk(const struct machine *m, uint32_t first, uint32_t count)
{
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) {
        const uint64_t p = isa_disk_port(k, DISK_SECTOR);
        if (m->disks[k].words && first < p + ISA_DISK_PORTS && p < first + (uint64_t)count)
            return true;
    }
    return false;
}

bool machine_attach_disk(struct machine *m, unsigned unit, const uint32_t *words, uint32_t sectors)
{
    if (unit >= ISA_DISK_UNITS || m->disks[unit].words) return false;
    const uint32_t first = isa_disk_port(unit, DISK_SECTOR);
    for (size_t i = 0; i < m->ndevices; i++) {
        const struct device_slot *d = &m->devices[i];
        if (first < d->first + (uint64_t)d->count && d->first < first + ISA_DISK_PORTS)
            return false;
    }
    return disk_attach(&m->disks[unit], words, sectors, m->memsize);
}

const uint32_t *machine_disk(const struct machine *m, unsigned unit, uint32_t *sectors)
{
    if (unit >= ISA_DISK_UNITS || !m->disks[unit].words) return NULL;
    if (sectors) *sectors = m->disks[unit].sectors;
    return m->disks[unit].words;
}

void machine_set_disk_sink(struct machine *m,
                           void (*sink)(void *ctx, unsigned unit, uint32_t sector,
                                        const uint32_t *words),
                           void *ctx)
{
    m->disk_sink = sink;
    m->disk_sink_ctx = ctx;
}

/* A port access of unit k: its line again, and a command's outcome counted
 * and, for a write, handed to the sink (the file behind the unit). */
static void disk_accessed(struct machine *m, unsigned k, enum disk_outcome done)
{
    const struct disk_unit *d = &m->disks[k];
    m->disk_lines = (m->disk_lines & ~(1u << k)) | (unsigned)disk_irq_pending(d) << k;
    switch (done) {
    case DISK_NO_COMMAND: break;
    case DISK_READ_DONE: m->stats.disk_reads++; break;
    case DISK_FAILED: m->stats.disk_errors++; break;
    case DISK_WRITE_DONE:
        m->stats.disk_writes++;
        if (m->disk_sink)
            m->disk_sink(m->disk_sink_ctx, k, d->sector,
                         d->words + (size_t)d->sector * ISA_SECTOR_WORDS);
        break;
    }
}

bool machine_attach_device(struct machine *m, uint32_t first, uint32_t count,
                           const struct machine_device *dev)
{
    if (count == 0 || first < PORT_DEVICE_FIRST || first + (uint64_t)count > UINT32_MAX + 1ull ||
        m->ndevices == MAX_DEVICES || overlaps_disk(m, first, count))
        return false;
    for (size_t i = 0; i < m->ndevices; i++) {
        const struct device_slot *d = &m->devices[i];
        if (first < d->first + (uint64_t)d->count && d->first < first + (uint64_t)count)
            return false;
    }
    m->devices[m->ndevices++] = (struct device_slot){first, count, *dev};
    return true;
}

static const struct device_slot *device_at(const struct machine *m, uint32_t port)
{
    for (size_t i = 0; i < m->ndevices; i++)
        if (port - m->devices[i].first < m->devices[i].count) return &m->devices[i];
    return NULL;
}

static bool io_interrupt_pending(const struct machine *m)
{
    return m->disk_lines || console_io_pending(&m->con);
}

/* The IO interrupt's value: console input first, then units 0..3 (ISA.md). */
static uint32_t io_interrupt_port(const struct machine *m)
{
    if (console_io_pending(&m->con) || !m->disk_lines) return PORT_CONSOLE_IN;
    return isa_disk_port((unsigned)__builtin_ctz(m->disk_lines), DISK_STATUS);
}

static uint32_t port_read(struct machine *m, uint32_t port)
{
    if (port <= PORT_CONSOLE_CTRL) return console_read(&m->con, port);
    unsigned k;
    struct disk_unit *disk = disk_at(m, port, &k);
    if (disk) {
        const uint32_t value = disk_read(disk, (port - PORT_DISK_FIRST) % ISA_DISK_PORTS);
        disk_accessed(m, k, DISK_NO_COMMAND);
        return value;
    }
    const struct device_slot *d = device_at(m, port);
    return d && d->dev.read ? d->dev.read(d->dev.ctx, m, port) : 0;
}

static void port_write(struct machine *m, uint32_t port, uint32_t value)
{
    if (port <= PORT_CONSOLE_CTRL) {
        if (!console_write(&m->con, port, value)) m->stats.output_dropped++;
        return;
    }
    unsigned k;
    struct disk_unit *disk = disk_at(m, port, &k);
    if (disk) {
        uint64_t dma_at;
        if ((port - PORT_DISK_FIRST) % ISA_DISK_PORTS == DISK_CMD && value == DISK_CMD_READ &&
            disk_command_target(disk, value, m->memsize, &dma_at))
            mark_written(m, (size_t)dma_at, ISA_SECTOR_WORDS); /* the DMA into memory */
        disk_accessed(m, k, disk_write(disk, (port - PORT_DISK_FIRST) % ISA_DISK_PORTS, value,
                                       m->mem, m->memsize));
        return;
    }
    const struct device_slot *d = device_at(m, port);
    if (d && d->dev.write) d->dev.write(d->dev.ctx, m, port, value);
}

uint32_t machine_port_in(struct machine *m, uint32_t port) { return port_read(m, port); }
void machine_port_out(struct machine *m, uint32_t port, uint32_t value) { port_write(m, port, value); }

/* ---- Hooks --------------------------------------------------------------------- */

void machine_set_observer(struct machine *m, const struct machine_observer *obs)
{
    m->observer = obs ? *obs : (struct machine_observer){0};
}

void machine_set_observer_filter(struct machine *m, enum machine_observe which)
{
    m->observe_system = which == MACHINE_OBSERVE_SYSTEM;
}

void machine_set_monitor(struct machine *m, const struct machine_monitor *mon)
{
    m->monitor = mon ? *mon : (struct machine_monitor){0};
}

/* ---- Guest mode (feature assist; isa/README.md) -------------------------------- */

static void flush(struct machine *m);

/* Guest steps run the host's timer down too; when it reaches 0 it sets the
 * host's TP, and the guest exits at the next instruction boundary (once: a
 * TP the host left pending does not make every vmenter exit at once). */
static void host_tick(struct machine *m, uint64_t n)
{
    struct psw *h = &m->vm.host_psw;
    if (!h->timer) return;
    if (n >= h->timer) {
        h->timer = 0;
        h->flags |= PSW_TP;
        m->vm.host_timer_ran_out = true;
    } else {
        h->timer -= (uint32_t)n;
    }
}

static void load_guest(struct machine *m, const uint32_t *block)
{
    memcpy(m->vm.host_reg, m->reg, sizeof m->reg);
    m->psw = isa_psw_from_words(&block[VMCB_PSW]);
    memcpy(m->reg, &block[VMCB_REGS], sizeof m->reg);
    m->reg[0] = 0;
    memcpy(m->vm.ctl, block, VMCB_WORDS * sizeof *block);
    m->vm.on = true;
    m->vm.host_timer_ran_out = false;
    flush(m);
}

/* The word of the guest's instruction at pc, or 0 when it does not fetch. */
static uint32_t guest_insn_at(const struct machine *m, uint32_t pc)
{
    uint32_t pa, gpa;
    unsigned detail;
    return translate(m, &m->psw, pc, ACCESS_FETCH, &pa, &detail, &gpa) ? m->mem[pa] : 0;
}

/* Leaves guest mode with an exit: one step.  The guest's PSW (pc = the
 * exit pc) and registers, then the exit's words, go to the control block
 * (or to a C host's on_exit); the host's PSW and registers come back. */
static void vm_exit(struct machine *m, enum isa_exit_reason reason, enum isa_cause cause,
                    unsigned detail, uint32_t value, uint32_t insn, uint32_t pc, uint32_t gpa)
{
    TRAPEZE_ASSERT(m->vm.on && reason > EXIT_NONE && reason < EXIT_REASON_COUNT);
    m->psw.pc = pc;
    m->reg[0] = 0;
    m->changed.n = 0;
    const struct machine_exit x = {reason, cause, detail, value, insn, gpa, m->psw, machine_steps(m)};
    m->stats.exits[reason]++;
    count_trap_or_exit(m);
    if (m->exit_handler.on_exit) {
        if (m->exit_handler.on_exit(m->exit_handler.ctx, m, &x) == MACHINE_STOP_RUN)
            m->stop_requested = true;
        return;
    }
    if (m->vm.has_block) {
        uint32_t *b = machine_memory_span(m, m->vm.block_pa, VMCB_WORDS); /* it fit when vmenter read it */
        isa_psw_to_words(&m->psw, &b[VMCB_PSW]);
        memcpy(&b[VMCB_REGS], m->reg, sizeof m->reg);
        b[VMCB_EXIT_REASON] = reason;
        b[VMCB_EXIT_CAUSE] = isa_trap_cause_word(cause, detail);
        b[VMCB_EXIT_VALUE] = value;
        b[VMCB_EXIT_INSN] = insn;
        b[VMCB_EXIT_PC] = pc;
        b[VMCB_EXIT_GPA] = gpa;
    }
    machine_vm_leave(m);
    flush(m);
}

/* Does the system instruction w exit rather than execute in guest mode? */
static bool guest_insn_exits(const struct machine *m, uint32_t w)
{
    const uint8_t opcode = isa_opcode_of(w);
    if (opcode == ISA_VMENTER) return true; /* no nested guests */
    const unsigned bit = opcode - ISA_VMCB_FIRST_OPCODE;
    if (bit < 32 && (m->vm.ctl[VMCB_EXIT_INSNS] >> bit & 1u)) return true;
    if (opcode == ISA_IN || opcode == ISA_OUT) {
        const uint32_t port = isa_simm16(w);
        return port >= 32 || (m->vm.ctl[VMCB_PORTS] >> port & 1u);
    }
    return false;
}

/* The guest's trap area in host memory, or NULL when it cannot be had
 * (then the trap exits instead). */
static uint32_t *guest_trap_area(struct machine *m)
{
    uint32_t pa = m->vm.ctl[VMCB_TRAP_AREA];
    unsigned detail;
    if (slt_on(m) && !slt_walk(m, 0, ACCESS_STORE, &pa, &detail)) return NULL;
    if ((uint64_t)pa + TRAP_AREA_WORDS > m->memsize) return NULL;
    return machine_memory_span(m, pa, TRAP_AREA_WORDS);
}

/* A trap in guest mode: an exit when its bit is set (or the SLT failed, or
 * the guest's handler cannot be had), else delivered to the guest's own
 * handler inside guest mode, as take_trap does on a bare machine. */
static void guest_trap(struct machine *m, enum isa_cause cause, unsigned detail, uint32_t value,
                       uint32_t saved_pc)
{
    if (cause == CAUSE_TIMER) m->psw.flags &= ~PSW_TP;
    if (detail & DETAIL_SLT) {
        vm_exit(m, EXIT_SLT, CAUSE_MEM, detail & ~DETAIL_SLT, value, guest_insn_at(m, saved_pc),
                saved_pc, m->vm.fault_gpa);
        return;
    }
    const uint32_t insn = cause == CAUSE_PRIV || cause == CAUSE_ILL ? value : 0;
    uint32_t *area = (m->vm.ctl[VMCB_EXIT_TRAPS] >> cause & 1u) ? NULL : guest_trap_area(m);
    if (!area || isa_trap_unhandled(area)) {
        vm_exit(m, EXIT_TRAP, cause, detail, value, insn, saved_pc, 0);
        return;
    }
    m->psw.pc = saved_pc;
    struct machine_trap *t = &m->last_trap;
    *t = (struct machine_trap){cause, detail, value, m->psw, machine_steps(m)};
    m->has_trapped = true;
    isa_trap_deliver(area, &(struct isa_trap_record){cause, detail, value, t->old_psw});
    m->psw = isa_trap_new_psw(area);
    flush(m);
    uint32_t pa, gpa;
    unsigned fault;
    if (!translate(m, &m->psw, m->psw.pc, ACCESS_FETCH, &pa, &fault, &gpa)) {
        /* The guest's machine check (the trap is delivered): the exit is this step. */
        vm_exit(m, EXIT_CHECK, cause, detail, value, insn, m->psw.pc, 0);
        return;
    }
    m->stats.traps[cause]++;
    count_trap_or_exit(m);
    host_tick(m, 1);
    if (m->observer.after_trap &&
        m->observer.after_trap(m->observer.ctx, m, t) == MACHINE_STOP_RUN)
        m->stop_requested = true;
}

/* At an instruction boundary in guest mode: the host's timer ran out, or
 * a device interrupts a host that has IE on.  True when the guest exited. */
static bool guest_boundary_exit(struct machine *m)
{
    if (m->vm.host_timer_ran_out) {
        m->vm.host_timer_ran_out = false;
        vm_exit(m, EXIT_HOST_TIMER, CAUSE_NONE, 0, 0, 0, m->psw.pc, 0);
        return true;
    }
    if ((m->vm.host_psw.flags & PSW_IE) && io_interrupt_pending(m)) {
        vm_exit(m, EXIT_TRAP, CAUSE_IO, 0, io_interrupt_port(m), 0, m->psw.pc, 0);
        return true;
    }
    return false;
}

bool machine_vm_enter(struct machine *m, const uint32_t block[VMCB_WORDS])
{
    if (!(m->variant.features & ISA_FEATURE_ASSIST) || m->vm.on) return false;
    m->vm.host_psw = m->psw;
    m->vm.has_block = false;
    load_guest(m, block);
    return true;
}

void machine_vm_set_controls(struct machine *m, const uint32_t block[VMCB_WORDS])
{
    if (m->vm.on) memcpy(&m->vm.ctl[VMCB_EXIT_INSNS], &block[VMCB_EXIT_INSNS],
                         (VMCB_SLT_BOUND + 1 - VMCB_EXIT_INSNS) * sizeof *block);
}

void machine_vm_leave(struct machine *m)
{
    if (!m->vm.on) return;
    memcpy(m->reg, m->vm.host_reg, sizeof m->reg);
    m->psw = m->vm.host_psw;
    m->vm.on = false;
    m->changed.n = 0;
}

bool machine_in_guest(const struct machine *m) { return m->vm.on; }

void machine_set_exit_handler(struct machine *m, const struct machine_exit_handler *h)
{
    m->exit_handler = h ? *h : (struct machine_exit_handler){0};
}

/* ---- Traps: the one way out of an instruction ---------------------------------- */

static void take_trap(struct machine *m, enum isa_cause cause, unsigned detail, uint32_t value,
                      uint32_t saved_pc)
{
    TRAPEZE_ASSERT(cause > CAUSE_NONE && cause < CAUSE_COUNT);
    TRAPEZE_ASSERT(m->reg[0] == 0); /* no trap leaves an instruction half-written */
    if (unlikely(m->vm.on)) {
        guest_trap(m, cause, detail, value, saved_pc);
        return;
    }
    TRAPEZE_ASSERT(cause == CAUSE_MEM ? detail < MEMF_COUNT : detail == 0);
    m->psw.pc = saved_pc;
    if (cause == CAUSE_TIMER) m->psw.flags &= ~PSW_TP;
    /* The record is made in place, word by word: the PSW was just written
     * that way, and the hooks read the record at once (a copy through
     * wider loads would wait on those stores). */
    struct machine_trap *t = &m->last_trap;
    t->cause = cause;
    t->detail = detail;
    t->value = value;
    t->old_psw.flags = m->psw.flags;
    t->old_psw.pc = m->psw.pc;
    t->old_psw.base = m->psw.base;
    t->old_psw.bound = m->psw.bound;
    t->old_psw.timer = m->psw.timer;
    t->step = machine_steps(m);
    m->stats.traps[cause]++;
    count_trap_or_exit(m);
    m->has_trapped = true;
    /* A trap loads a PSW, the monitor's or the trap area's: a flush.  (The
     * monitor's way is not counted in tlb_flushes; it counts its own.) */
    m->changed.n = 0;

    if (m->monitor.on_trap) {
        if (m->monitor.on_trap(m->monitor.ctx, m, t) == MACHINE_STOP_RUN) m->stop_requested = true;
    } else {
        isa_trap_deliver(machine_memory_span(m, 0, TRAP_AREA_WORDS), &(struct isa_trap_record){cause, detail, value, t->old_psw});
        m->psw = isa_trap_new_psw(m->mem);
        flush(m);
        uint32_t pa;
        unsigned fault;
        if (isa_trap_unhandled(m->mem)) m->state = RUN_UNHANDLED;
        else if (!machine_translate(m, &m->psw, m->psw.pc, ACCESS_FETCH, &pa, &fault))
            m->state = RUN_CHECKED;
    }
    if (m->observer.after_trap &&
        m->observer.after_trap(m->observer.ctx, m, t) == MACHINE_STOP_RUN)
        m->stop_requested = true;
}

void machine_raise_trap(struct machine *m, enum isa_cause cause, unsigned detail,
                        uint32_t value, uint32_t saved_pc)
{
    if (NEVER(cause <= CAUSE_NONE || cause >= CAUSE_COUNT)) return;
    take_trap(m, cause, detail, value, saved_pc);
}

/* An instruction of the slow path completed: count it and, unless it set
 * the timer itself (an lpsw or stmr that is not silent), charge the timer.
 * A silent lpsw or stmr sets nothing, so it counts like any instruction. */
static void retire(struct machine *m, bool charge_timer)
{
    m->stats.retired++;
    if (unlikely(m->vm.on)) host_tick(m, 1);
    if (charge_timer && m->psw.timer && --m->psw.timer == 0) m->psw.flags |= PSW_TP;
}

/* Executes the system instruction w at m->psw.pc: one step.  The variant's
 * user action is consulted here and nowhere else. */
static void exec_system(struct machine *m, uint32_t w)
{
    const uint8_t opcode = isa_opcode_of(w);
    TRAPEZE_ASSERT(isa_op_by_opcode(opcode) && (isa_op_by_opcode(opcode)->flags & ISA_F_SYSTEM));
    const uint32_t pc = m->psw.pc;
    /* Without the feature vmenter does not exist, in either mode. */
    if (!isa_variant_has(&m->variant, opcode)) {
        take_trap(m, CAUSE_ILL, 0, w, pc);
        return;
    }
    /* In guest mode the bitmaps come first, before the variant's user action. */
    if (unlikely(m->vm.on) && guest_insn_exits(m, w)) {
        vm_exit(m, EXIT_INSN, CAUSE_NONE, 0, 0, w, pc, 0);
        return;
    }
    const bool shadowed = m->vm.on && (m->vm.ctl[VMCB_CTRL] & VMCB_CTRL_SHADOW);
    const bool user = !(m->psw.flags & PSW_M);
    const enum isa_user_action action = user ? m->variant.user_action[opcode] : USER_EXEC;
    if (action == USER_TRAP) {
        take_trap(m, CAUSE_PRIV, 0, w, pc);
        return;
    }
    const bool silent = action == USER_SILENT;
    uint32_t *R = m->reg;
    const unsigned a = isa_field_a(w), b = isa_field_b(w);
    const uint32_t imm = isa_simm16(w);

    switch (opcode) {
    case ISA_HALT:
        m->psw.pc = pc + 1;
        retire(m, true);
        if (!silent) m->state = RUN_HALTED;
        return;
    case ISA_LPSW: {
        uint32_t words[PSW_WORDS];
        for (uint32_t i = 0; i < PSW_WORDS; i++) {
            uint32_t va = R[b] + imm + i, pa;
            unsigned detail;
            if (unlikely(m->changed.n != 0)) check_pte_use(m, va, ACCESS_LOAD);
            if (!xlate(m, va, ACCESS_LOAD, &pa, &detail)) {
                take_trap(m, CAUSE_MEM, detail, va, pc);
                return;
            }
            words[i] = m->mem[pa];
        }
        if (silent) {
            m->psw.pc = pc + 1;
            retire(m, true);
            return;
        } else {
            struct psw next = isa_psw_from_words(words);
            if (user) { /* M and the relocation never change from user mode */
                const uint32_t kept = PSW_M | PSW_PG;
                next.flags = (next.flags & ~kept) | (m->psw.flags & kept);
                next.base = m->psw.base;
                next.bound = m->psw.bound;
            }
            m->psw = next;
            flush(m);
        }
        retire(m, false);
        return;
    }
    case ISA_PUSHF: R[a] = shadowed ? m->vm.ctl[VMCB_SHADOW_FLAGS] : m->psw.flags; break;
    case ISA_POPF:
        if (!silent) m->psw.flags = (m->psw.flags & ~PSW_IE) | (R[a] & PSW_IE);
        break;
    case ISA_SRR:
        R[a] = shadowed ? m->vm.ctl[VMCB_SHADOW_BASE] : m->psw.base;
        R[0] = 0;
        R[b] = shadowed ? m->vm.ctl[VMCB_SHADOW_BOUND] : m->psw.bound;
        break;
    case ISA_STMR:
        if (silent) break;
        m->psw.timer = R[a];
        m->psw.pc = pc + 1;
        retire(m, false);
        return;
    case ISA_RTMR: R[a] = m->psw.timer; break;
    case ISA_IN: R[a] = silent ? 0 : port_read(m, imm); break;
    case ISA_OUT:
        if (!silent) port_write(m, imm, R[a]);
        break;
    case ISA_TLBFLUSH: /* translations are never cached; count the event, end the record */
        if (!silent) flush(m);
        break;
    case ISA_VMENTER: {
        /* Host supervisor mode (user mode: the variant's action, trap by
         * default); a silent one does nothing. */
        if (silent) break;
        const uint32_t block = R[a]; /* OPS_R: the register is field a, as jr's */
        if ((uint64_t)block + VMCB_WORDS > m->memsize) {
            take_trap(m, CAUSE_MEM, MEMF_PHYSICAL, block, pc);
            return;
        }
        m->psw.pc = pc + 1;
        retire(m, true);
        m->vm.host_psw = m->psw;
        m->vm.has_block = true;
        m->vm.block_pa = block;
        load_guest(m, m->mem + block);
        return;
    }
    default: /* not a system instruction: the dispatcher never sends one here */
        take_trap(m, CAUSE_ILL, 0, w, pc);
        return;
    }
    R[0] = 0;
    m->psw.pc = pc + 1;
    retire(m, true);
}

/* The system instruction w at m->psw.pc, once the observer filtered to
 * system instructions (if one is set) has seen it: false when that
 * observer stopped the run before it, which then did not execute.  Out of
 * line, so that the interpreter's hot loop keeps its registers (measured:
 * the observer's call inlined there cost every simulated instruction one
 * more host instruction). */
__attribute__((noinline)) static bool system_step(struct machine *m, uint32_t w)
{
    if (unlikely(m->observe_system) && m->observer.before_insn) {
        const uint32_t pc = m->psw.pc;
        if (m->observer.before_insn(m->observer.ctx, m, pc, w) == MACHINE_STOP_RUN) return false;
        TRAPEZE_ASSERT(m->psw.pc == pc); /* it must not change the machine */
    }
    exec_system(m, w);
    return true;
}

/* ---- The interpreter ------------------------------------------------------------ */

/*
 * vmdispatch/vmcase/vmbreak (after Lua's lvm.c) compile the same handlers
 * either as a switch in a loop or as computed-goto threaded code.
 */
#if TRAPEZE_DISPATCH_GOTO
#define vmdispatch(op) goto *dispatch_table[op];
#define vmcase(id) op_##id:
#define vmdefault op_undefined:
#define vmbreak    \
    do {           \
        left--;    \
        R[0] = 0;  \
        FETCH();   \
        vmdispatch(isa_opcode_of(w)); \
    } while (0)
#else
#define vmdispatch(op) switch (op)
#define vmcase(id) case ISA_##id:
#define vmdefault default:
/* Not wrapped in do-while(0): continue must reach the interpreter loop. */
#define vmbreak   \
    {             \
        left--;   \
        R[0] = 0; \
        continue; \
    }
#endif

/* Writes the locals back and charges the instructions retired in this batch
 * to the statistics, the budget and the timer.  A batch never runs past
 * either: it was min(budget, timer) long, and left counts down. */
#define SYNC()                                                         \
    do {                                                               \
        uint64_t done_ = batch - left;                                 \
        TRAPEZE_ASSERT(left <= batch && done_ <= budget);              \
        TRAPEZE_ASSERT(m->psw.timer == 0 || done_ <= m->psw.timer);    \
        TRAPEZE_ASSERT(R[0] == 0);                                     \
        m->psw.pc = pc;                                                \
        m->stats.retired += done_;                                     \
        budget -= done_;                                               \
        if (m->psw.timer) {                                            \
            m->psw.timer -= (uint32_t)done_;                           \
            if (m->psw.timer == 0) m->psw.flags |= PSW_TP;             \
        }                                                              \
        if (unlikely(m->vm.on)) host_tick(m, done_);                   \
        batch = left = 0;                                              \
    } while (0)

/* A trap or a slow-path instruction took one step of the budget. */
#define STEP_TAKEN()                   \
    do {                               \
        TRAPEZE_ASSERT(budget > 0);    \
        budget--;                      \
    } while (0)

/* Address translation of the fast path: unpaged and in range, else the full
 * walk; a failure leaves through the trap door.  A paged store about to
 * happen (w is the st) is shown to the page-table rule; the rule's uses are
 * checked at reload (check_next_insn), not here.  Measured with callgrind:
 * one more call on this path made GCC spill the memory pointer of the hot
 * loop, one more host instruction per simulated one, unpaged runs too. */
#define TRANSLATE(va, access, pa)                                                  \
    do {                                                                           \
        if (likely((va) < limit)) {                                                \
            (pa) = base + (va);                                                    \
        } else {                                                                   \
            unsigned detail_;                                                      \
            SYNC();                                                                \
            if (!xlate(m, (va), (access), &(pa), &detail_)) {                      \
                take_trap(m, CAUSE_MEM, detail_, (va), pc);                        \
                STEP_TAKEN();                                                      \
                goto reload;                                                       \
            }                                                                      \
            if ((access) == ACCESS_STORE && unlikely(m->psw.flags & PSW_PG))       \
                note_store(m, (pa), w);                                            \
            batch = left = 1;                                                      \
        }                                                                          \
    } while (0)

/* Fetch the next instruction into w; may leave to reload. */
#define FETCH()                                  \
    do {                                         \
        if (unlikely(left == 0)) goto batch_end; \
        uint32_t pa_;                            \
        TRANSLATE(pc, ACCESS_FETCH, pa_);        \
        FETCH_STOP(pa_);                         \
        w = mem[pa_];                            \
    } while (0)

/* A fetch stop (interpret_stopping only): before the instruction, as the
 * observer's stop, unless the last stop was met here (machine_steps() not
 * yet counting this batch's instructions); the next fetch passes it. */
#define FETCH_STOP(pa)                                                                    \
    do {                                                                                  \
        if (INTERPRET_FETCH_STOPS && unlikely(stops[(pa) >> 3] & (1u << ((pa) & 7)))) {   \
            const uint64_t at_ = machine_steps(m) + (batch - left);                       \
            if (at_ != m->fetch_passed_steps || (pa) != m->fetch_passed_pa) {             \
                SYNC();                                                                   \
                m->fetch_stopped = true;                                                  \
                m->fetch_passed_steps = at_;                                              \
                m->fetch_passed_pa = (pa);                                                \
                return MACHINE_STOPPED;                                                   \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define A isa_field_a(w)
#define B isa_field_b(w)
#define C isa_field_c(w)
#define SIMM isa_simm16(w)
#define ZIMM isa_imm16(w)

#define ALU_R(id, expr) vmcase(id) { R[A] = (expr); pc++; vmbreak; }
#define ALU_I(id, expr) vmcase(id) { R[A] = (expr); pc++; vmbreak; }
#define BRANCH(id, cond) vmcase(id) { pc = (cond) ? pc + 1 + SIMM : pc + 1; vmbreak; }
/* svc and hcall: the saved pc is the next instruction, the value imm. */
#define LEAVE_WITH_TRAP_NEXT(cause)                    \
    do {                                               \
        SYNC();                                        \
        take_trap(m, (cause), 0, SIMM, pc + 1);        \
        STEP_TAKEN();                                  \
        goto reload;                                   \
    } while (0)
#define LEAVE_WITH_TRAP(cause, value)               \
    do {                                            \
        SYNC();                                     \
        take_trap(m, (cause), 0, (value), pc);      \
        STEP_TAKEN();                               \
        goto reload;                                \
    } while (0)

/* The same body twice (machine/interpret.inc): without fetch stops, and
 * with them (FETCH_STOP leaves before an instruction whose word is marked,
 * unless it is the call's first step: machine_run goes on past a stop). */
#define INTERPRET_NAME interpret
#define INTERPRET_FETCH_STOPS 0
#include "interpret.inc"
#undef INTERPRET_NAME
#undef INTERPRET_FETCH_STOPS
#define INTERPRET_NAME interpret_stopping
#define INTERPRET_FETCH_STOPS 1
#include "interpret.inc"
#undef INTERPRET_NAME
#undef INTERPRET_FETCH_STOPS

enum machine_stop machine_run(struct machine *m, uint64_t max_steps)
{
    const uint64_t before = TRAPEZE_TESTING ? machine_steps(m) : 0;
    m->stop_requested = false;
    m->fetch_stopped = false;
    const enum machine_stop stop = m->fetch_stops ? interpret_stopping(m, max_steps) : interpret(m, max_steps);
    /* The budget is exact: all of it unless the machine stopped first. */
    TRAPEZE_ASSERT(stop == MACHINE_BUDGET ? machine_steps(m) - before == max_steps
                                          : machine_steps(m) - before <= max_steps);
    return stop;
}

enum machine_stop machine_step(struct machine *m) { return machine_run(m, 1); }
