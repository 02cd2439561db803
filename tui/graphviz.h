/*
 * graphviz.h: a diagram's graphviz source written as it is (--dot) or
 * rendered by graphviz itself (--svg, --png), for `trapeze trace`, the
 * debugger's `trace save` and the TUI.
 */
#ifndef TRAPEZE_GRAPHVIZ_H
#define TRAPEZE_GRAPHVIZ_H

#include <stdbool.h>
#include <stddef.h>

enum graphviz_format { GRAPHVIZ_DOT, GRAPHVIZ_SVG, GRAPHVIZ_PNG };

/* The format a file name asks for by its extension (.dot/.gv, .svg, .png);
 * false for any other. */
bool graphviz_format_of_path(const char *path, enum graphviz_format *format);

/* Writes the source text (len bytes) to path ("-": stdout) as format,
 * laid out by `layout` ("dot", or "neato" run with -n2: positions given).
 * False with a one-line reason in err (the file cannot be written,
 * graphviz is missing or rejects the text). */
bool graphviz_write(const char *text, size_t len, const char *layout, enum graphviz_format format,
                    const char *path, char *err, size_t err_size);

#endif
