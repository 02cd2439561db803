/*
 * suggest.c: the closest valid name to a mistyped one (suggest.h).
 */
#include "suggest.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

static int fold(char ch) { return tolower((unsigned char)ch); }

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
    unsigned m = a < b ? a : b;
    return m < c ? m : c;
}

unsigned suggest_distance(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > SUGGEST_MAX_LEN || bn > SUGGEST_MAX_LEN) return SUGGEST_MAX_LEN + 1;
    /* Both folded once, not at every cell. */
    char fa[SUGGEST_MAX_LEN], fb[SUGGEST_MAX_LEN];
    for (size_t i = 0; i < an; i++) fa[i] = (char)fold(a[i]);
    for (size_t j = 0; j < bn; j++) fb[j] = (char)fold(b[j]);
    /* Three rows of the dynamic programme: two back for a swap. */
    unsigned rows[3][SUGGEST_MAX_LEN + 1];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= bn; j++) prev[j] = (unsigned)j;
    for (size_t i = 1; i <= an; i++) {
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= bn; j++) {
            const unsigned cost = fa[i - 1] != fb[j - 1];
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && fa[i - 1] == fb[j - 2] && fa[i - 2] == fb[j - 1] && prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        unsigned *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[bn];
}

void suggest_init_len(struct suggest *s, const char *word, size_t len)
{
    s->word = word;
    s->word_len = len;
    s->best = NULL;
    s->best_score = UINT_MAX;
}

void suggest_init(struct suggest *s, const char *word) { suggest_init_len(s, word, strlen(word)); }

/* How far candidate c is from the word; UINT_MAX when too far to offer.
 * The cheap tests come first: an assembler with thousands of symbols and
 * 50 unknown names would otherwise run the distance 50 thousand times. */
static unsigned score(const struct suggest *s, const char *c)
{
    const size_t n = s->word_len, cn = strlen(c);
    if (n == 0 || n > SUGGEST_MAX_LEN || cn > SUGGEST_MAX_LEN) return UINT_MAX;
    /* A word that begins the name: a prefix the user stopped short at.
     * Its distance is exactly the letters left over. */
    if (n >= 2 && cn > n && strncasecmp(c, s->word, n) == 0) return (unsigned)(cn - n);
    if (n <= 1) return UINT_MAX; /* one letter is like every other */
    const size_t limit = (n + 2) / 3;
    if ((n > cn ? n - cn : cn - n) > limit) return UINT_MAX; /* the lengths alone are too far apart */
    const unsigned d = suggest_distance(s->word, n, c, cn);
    return d == 0 || d > limit ? UINT_MAX : d;
}

void suggest_offer(struct suggest *s, const char *candidate)
{
    if (!candidate) return;
    const unsigned sc = score(s, candidate);
    if (sc < s->best_score) {
        s->best_score = sc;
        s->best = candidate;
    }
}

const char *suggest_best(const struct suggest *s) { return s->best; }
