/*
 * test_invariant.c: isa/invariant.h in the test build, where the unit tests
 * run: a broken invariant aborts with file:line and the expression.  The
 * release semantics are test_invariant_release.c's.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../isa/invariant.h"

Test(invariant, holds_quietly)
{
    int evaluated = 0;
    TRAPEZE_ASSERT(++evaluated == 1);
    cr_assert_eq(evaluated, 1, "the test build evaluates the assertion");
    cr_assert(ALWAYS(evaluated == 1));
    cr_assert_not(NEVER(evaluated == 2));
    cr_assert_eq(TRAPEZE_TESTING, 1);
}

static void quiet(void) { cr_redirect_stderr(); }

Test(invariant, assert_aborts, .signal = SIGABRT, .init = quiet)
{
    int zero = 0;
    TRAPEZE_ASSERT(zero == 1);
}

Test(invariant, always_aborts_when_false, .signal = SIGABRT, .init = quiet)
{
    int zero = 0;
    if (ALWAYS(zero == 1)) cr_log_info("unreachable");
}

Test(invariant, never_aborts_when_true, .signal = SIGABRT, .init = quiet)
{
    int one = 1;
    if (NEVER(one == 1)) cr_log_info("unreachable");
}

/* The message names the file, the line and the expression. */
Test(invariant, message_names_file_line_and_expression)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        int x = 3;
        TRAPEZE_ASSERT(x < 2);
        _exit(0);
    }
    close(fd[1]);
    char buf[256] = "";
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x", status);
    cr_assert_gt(n, 0);
    const size_t file_len = strlen(__FILE__);
    cr_assert(strncmp(buf, __FILE__ ":", file_len + 1) == 0, "%s", buf);
    char *end;
    long line = strtol(buf + file_len + 1, &end, 10);
    cr_assert(line > 0 && line < __LINE__, "%s", buf);
    cr_assert_str_eq(end, ": invariant broken: x < 2\n");
}
