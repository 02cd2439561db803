/*
 * test_leak_canary.c: proof that a test which leaks fails `make unit`.
 * With TRAPEZE_LEAK_CANARY set in its environment this test leaks on
 * purpose; tests/unit/run.sh runs it so first and must see the leak
 * reported, then runs every test without it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

Test(leak_canary, leaks_only_when_asked)
{
    if (!getenv("TRAPEZE_LEAK_CANARY")) return;
    void *volatile lost = malloc(77);
    lost = NULL;
    (void)lost;
}
