/*
 * asm.h: the Trapeze assembler, its image format and the loader.
 *
 * An image is what the assembler produces and the machine runs: the words to
 * place in memory, the entry point, the symbol table and a map from addresses
 * to source lines (the debugger and the TUI show both).  Images are written as
 * a small line-oriented text file (assembler/README.md gives the format), so
 * that a student can read one and a bad one gets a file:line error.
 */
#ifndef TRAPEZE_ASM_H
#define TRAPEZE_ASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct machine;

/* A run of consecutive words placed at address `at`. */
struct asm_segment {
    uint32_t at;
    uint32_t *words;
    size_t count;
};

struct asm_symbol {
    char *name;
    uint32_t value;
    bool is_label; /* false for .equ names */
};

/* The source line that produced the words from `address` up to the next
 * entry's address or the end of the segment, whichever comes first (one entry
 * per statement, not per word: a `.space 1000` is one entry).  Words made by a
 * macro expansion belong to the line that invoked the macro. */
struct asm_line {
    uint32_t address;
    uint32_t file; /* index into asm_image.files */
    uint32_t line; /* 1-based */
};

struct asm_image {
    uint32_t entry; /* _start or .entry, else ISA_DEFAULT_ENTRY */
    struct asm_segment *segments; /* sorted by address, never overlapping */
    size_t nsegments;
    struct asm_symbol *symbols; /* labels first, then .equ names; each sorted
                                   by value, then name */
    size_t nsymbols;
    char **files; /* source files by index; files[0] is the main one */
    size_t nfiles;
    struct asm_line *lines; /* sorted by address */
    size_t nlines;
    char **texts; /* source text of files[i] for the listing, or NULL (the
                     array or an entry) when unknown, as after asm_image_read */
};

/* How a program is found and read.  A zeroed struct (or a NULL pointer where
 * one is taken) is the default: everything on disk, no include directories.
 *
 *   .include "name"   on disk:  name if absolute; else beside the including
 *                               file, then include_dirs[0], [1], ... in order
 *                     embedded: the tree path of the including file's
 *                               directory joined with name (".." allowed),
 *                               looked up in the embedded sources only
 */
struct asm_options {
    /* Directories searched, in order, for a relative .include that is not
     * beside the including file (trapeze's -I DIR).  On disk only: embedded
     * programs never read a file. */
    const char *const *include_dirs;
    size_t ninclude_dirs;
    /* Read the program and every file it includes from the sources built
     * into trapeze (asm_embedded_source), by tree path, never from disk. */
    bool embedded;
};

/* Assembles the file at path (following .include relative to the including
 * file).  Errors go to errors as "file:line:col: error: message", each
 * followed by the source line and a caret; several are reported per run.
 * Returns the number of errors; on 0, *out holds the image (free it with
 * asm_image_free); otherwise *out is left empty. */
int asm_assemble_file(const char *path, struct asm_image *out, FILE *errors);
/* The same for source text held in memory; name is used in messages and
 * for resolving .include (NULL means "<string>").  errors may be NULL. */
int asm_assemble_string(const char *source, const char *name, struct asm_image *out,
                        FILE *errors);
/* asm_assemble_file and asm_assemble_string with options (NULL: the
 * defaults, which is what the functions without _opts use).  With
 * opts->embedded, path (and name, for includes) is a tree path such as
 * "programs/vmm/vmm.s", and messages and the image's files[] name tree paths
 * (normalized: "programs/toyos/../lib/x.inc" is "programs/lib/x.inc"). */
int asm_assemble_file_opts(const char *path, const struct asm_options *opts,
                           struct asm_image *out, FILE *errors);
int asm_assemble_string_opts(const char *source, const char *name,
                             const struct asm_options *opts, struct asm_image *out,
                             FILE *errors);

/* ---- Programs built into trapeze ----------------------------------------------
 *
 * The Makefile (EMBEDDED_PROGRAMS) lists the files of the source tree whose
 * text is compiled into the binary, so that trapeze needs no programs/
 * directory for them: the asm VMM, the TUI's demo, and the library they
 * include.  The files stay their only definition (build/gen/programs_embedded.c
 * is generated from them).  Which one a command uses is the caller's choice:
 * a path the user gives names a file on disk; a built-in program (the asm VMM
 * of --stack asm, the demo) is taken from the embedded tree, whatever the
 * current directory holds (assembler/README.md, "Embedded programs"). */

/* The text of the embedded source at tree_path (e.g. "programs/vmm/vmm.s";
 * "./" and ".." are resolved), or NULL when it is not embedded.  Static:
 * never freed. */
const char *asm_embedded_source(const char *tree_path);
/* The tree path of the i-th embedded source (in the Makefile's order), or
 * NULL when i is past the last. */
const char *asm_embedded_path(size_t i);
/* Assembles the embedded program at tree_path, with its includes from the
 * embedded tree: asm_assemble_file_opts with only .embedded set.  The
 * image's texts[] hold every file's source, so a listing or the debugger
 * shows it without files on disk. */
int asm_assemble_embedded(const char *tree_path, struct asm_image *out, FILE *errors);

/* Frees everything img owns and zeroes it; a zeroed image may be freed too. */
void asm_image_free(struct asm_image *img);

/* Writes img in the image text format.  Returns false on a write error. */
bool asm_image_write(const struct asm_image *img, FILE *out);
/* Reads an image file.  On failure returns false and writes a one-line
 * "file:line:col: error: ..." message into err. */
bool asm_image_read(const char *path, struct asm_image *out, char *err, size_t err_size);
/* True when the file at path looks like an image (by its first line). */
bool asm_is_image_file(const char *path);
/* Loads a program: an image file, or a source file (anything else), which is
 * assembled.  Errors go to errors; returns the number of errors. */
int asm_load_program(const char *path, struct asm_image *out, FILE *errors);
/* The same with options (NULL: the defaults).  With opts->embedded, path is
 * a tree path and the program is assembled from the embedded sources (there
 * are no embedded images). */
int asm_load_program_opts(const char *path, const struct asm_options *opts,
                          struct asm_image *out, FILE *errors);

/* Copies the image's words into physical memory at offset + address.
 * Returns false (and writes nothing) when a word would fall outside memory. */
bool asm_image_place(const struct asm_image *img, uint32_t *memory, size_t memsize,
                     uint32_t offset);

/* The label at exactly this address (the first one by name), or NULL. */
const char *asm_symbol_at(const struct asm_image *img, uint32_t address);
/* The value of a symbol (label or .equ); false when there is none of that
 * name.  A linear search: for occasional lookups by name. */
bool asm_symbol_value(const struct asm_image *img, const char *name, uint32_t *value);
/* The nearest label at or below address and the distance from it, or NULL. */
const char *asm_symbol_near(const struct asm_image *img, uint32_t address, uint32_t *offset);
/* The source line of the word at address, or NULL. */
const struct asm_line *asm_line_at(const struct asm_image *img, uint32_t address);

/* Writes a listing (address, word, file:line, source text) of the assembled
 * file.  Source text comes from img->texts, else from the files on disk,
 * else is left out.  Returns false on a write error. */
bool asm_write_listing(const struct asm_image *img, FILE *out);
/* Writes the disassembly of every word of every segment, with labels, as
 * source that assembles back to the same words, entry and labels.  Returns
 * false on a write error. */
bool asm_write_disassembly(const struct asm_image *img, FILE *out);

#endif
