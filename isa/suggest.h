/*
 * suggest.h: "did you mean" for every name a user types.
 *
 * One helper for the assembler (mnemonics, labels), the command line
 * (options, variant names) and the debugger (commands): offer it every
 * name that is valid where the user's word was not, and it keeps the
 * closest one, if any is close enough to be a likely slip.
 *
 *   struct suggest s;
 *   suggest_init(&s, "addd");
 *   for (each mnemonic m) suggest_offer(&s, m);
 *   if (suggest_best(&s)) ... "did you mean 'add'?"
 *
 * Close enough: within (len+2)/3 edits (insert, delete, replace, swap two
 * neighbours) of a word of two letters or more, ignoring case, or a name
 * the word begins (x86 for x86like).  Ties go to the name offered first, so the result is
 * deterministic.  Words longer than SUGGEST_MAX_LEN get no suggestion.
 */
#ifndef TRAPEZE_SUGGEST_H
#define TRAPEZE_SUGGEST_H

#include <stddef.h>

#define SUGGEST_MAX_LEN 64

struct suggest {
    const char *word;
    size_t word_len;
    const char *best; /* borrowed from the caller's candidates */
    unsigned best_score;
};

/* The edit distance of a[0..an) and b[0..bn) (optimal string alignment,
 * case-insensitive), or a value above SUGGEST_MAX_LEN when either is
 * longer than that. */
unsigned suggest_distance(const char *a, size_t an, const char *b, size_t bn);

/* Starts a search for names close to word[0..len) (the word is borrowed). */
void suggest_init_len(struct suggest *s, const char *word, size_t len);
void suggest_init(struct suggest *s, const char *word);
/* Considers one valid name (borrowed until suggest_best is read); equal to
 * the word itself, it is ignored (it would not be a suggestion). */
void suggest_offer(struct suggest *s, const char *candidate);
/* The closest name offered, or NULL when none is close enough. */
const char *suggest_best(const struct suggest *s);

#endif
