/*
 * Units for the "did you mean" helper (isa/suggest.h): the distance, the
 * threshold, prefixes, ties and the words it must not suggest for.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../isa/suggest.h"

static unsigned dist(const char *a, const char *b) { return suggest_distance(a, strlen(a), b, strlen(b)); }

static const char *best_of(const char *word, const char *const *names)
{
    struct suggest s;
    suggest_init(&s, word);
    for (size_t i = 0; names[i]; i++) suggest_offer(&s, names[i]);
    return suggest_best(&s);
}

Test(suggest, distance_counts_edits)
{
    cr_assert_eq(dist("add", "add"), 0);
    cr_assert_eq(dist("addd", "add"), 1, "one deletion");
    cr_assert_eq(dist("ad", "add"), 1, "one insertion");
    cr_assert_eq(dist("sub", "sbb"), 1, "one replacement");
    cr_assert_eq(dist("stpe", "step"), 1, "a swap of neighbours is one edit");
    cr_assert_eq(dist("", "halt"), 4);
    cr_assert_eq(dist("ADD", "add"), 0, "case is ignored");
    cr_assert_eq(dist("kitten", "sitting"), 3);
}

Test(suggest, distance_of_overlong_words_is_past_the_limit)
{
    char longword[SUGGEST_MAX_LEN + 2];
    memset(longword, 'a', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    cr_assert_gt(dist(longword, "a"), SUGGEST_MAX_LEN);
}

Test(suggest, picks_the_closest)
{
    static const char *const ops[] = {"and", "add", "halt", "hlt2", NULL};
    cr_assert_str_eq(best_of("addd", ops), "add");
    cr_assert_str_eq(best_of("hlat", ops), "halt");
}

Test(suggest, nothing_when_too_far)
{
    static const char *const ops[] = {"add", "halt", "lpsw", NULL};
    cr_assert_null(best_of("frobnicate", ops));
    cr_assert_null(best_of("xyz", ops), "three letters may differ by one, not three");
}

Test(suggest, never_the_word_itself)
{
    static const char *const ops[] = {"add", NULL};
    cr_assert_null(best_of("add", ops));
}

Test(suggest, a_prefix_names_the_longer_word)
{
    static const char *const variants[] = {"pg", "hybrid", "x86like", NULL};
    cr_assert_str_eq(best_of("x86", variants), "x86like");
    cr_assert_null(best_of("x", variants), "one letter is no prefix worth suggesting");
}

Test(suggest, ties_go_to_the_first_offered)
{
    static const char *const a[] = {"step", "stop", NULL};
    static const char *const b[] = {"stop", "step", NULL};
    cr_assert_str_eq(best_of("stap", a), "step");
    cr_assert_str_eq(best_of("stap", b), "stop");
}

Test(suggest, one_letter_is_no_slip)
{
    static const char *const opts[] = {"-I", "I", "x", NULL};
    cr_assert_null(best_of("J", opts), "a one-letter word is one edit from every one-letter name");
}

Test(suggest, empty_word_and_null_candidates)
{
    struct suggest s;
    suggest_init(&s, "");
    suggest_offer(&s, "add");
    suggest_offer(&s, NULL);
    cr_assert_null(suggest_best(&s));
}
