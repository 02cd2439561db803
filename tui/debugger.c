/*
 * debugger.c: `trapeze debug`, the command-line front end.
 *
 * A readline loop over the command table (commands.h): history, and tab
 * completion of commands, info topics and the program's symbols.  With
 * -x FILE, or when stdin is not a terminal, commands are read from there
 * and echoed after the prompt, so a session is a script with an expected
 * output (tests/debug/).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"

#define PROMPT "(trapeze) "
#define SCRIPT_LINE_MAX 512

/* readline's completion hook takes no context pointer, so the session it
 * completes for is reached through this one variable, set only while an
 * interactive session runs.  (Ctrl-C is main's flag, passed down.) */
static const struct cmd_ctx *completing;

#define INTERACTIVE_SLICE 1000000u

struct matches {
    char **words;
    size_t n, cap;
};

static void add_match(void *ctx, const char *word)
{
    struct matches *m = ctx;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->words[i], word) == 0) return;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        char **w = realloc(m->words, cap * sizeof *w);
        if (!w) return;
        m->words = w;
        m->cap = cap;
    }
    char *copy = strdup(word);
    if (copy) m->words[m->n++] = copy;
}

/* The word being completed is number argi of the line; cmd is the first. */
static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (!completing) return NULL;
    char cmd[64] = "";
    int argi = 0;
    const char *p = rl_line_buffer;
    while (*p == ' ') p++;
    if (p - rl_line_buffer < start) {
        size_t n = strcspn(p, " /");
        if (n >= sizeof cmd) n = sizeof cmd - 1;
        memcpy(cmd, p, n);
        cmd[n] = '\0';
        for (const char *q = p; q < rl_line_buffer + start; q++)
            if (*q == ' ' && q[1] != ' ') argi++;
    }
    struct matches m = {0};
    commands_complete(completing, argi, cmd, text, add_match, &m);
    if (m.n == 0) {
        free(m.words);
        return NULL;
    }
    /* readline wants the common prefix first, then the matches, then NULL. */
    char **out = malloc((m.n + 2) * sizeof *out);
    if (!out) return NULL;
    size_t common = strlen(m.words[0]);
    for (size_t i = 1; i < m.n; i++) {
        size_t k = 0;
        while (k < common && m.words[i][k] == m.words[0][k]) k++;
        common = k;
    }
    out[0] = strndup(m.words[0], common);
    for (size_t i = 0; i < m.n; i++) out[i + 1] = m.words[i];
    out[m.n + 1] = NULL;
    if (m.n == 1) {
        free(out[0]);
        out[0] = out[1];
        out[1] = NULL;
    }
    free(m.words);
    return out;
}

static int interactive_loop(struct cmd_ctx *c, volatile sig_atomic_t *interrupted)
{
    completing = c;
    rl_attempted_completion_function = complete;
    rl_readline_name = "trapeze";
    using_history();
    /* Motions run in slices; the engine looks at Ctrl-C's flag before
     * every piece of one, and stops the motion with its report. */
    c->slice = INTERACTIVE_SLICE;
    char *line;
    while (!c->quit && (line = readline(PROMPT)) != NULL) {
        if (*line) add_history(line);
        *interrupted = 0;
        commands_execute(c, line);
        while (c->running) commands_resume(c);
        fflush(stdout);
        free(line);
    }
    completing = NULL;
    if (!c->quit) putchar('\n');
    return CLI_EXIT_OK;
}

/* Reads commands from in, echoing each.  Returns 0, or CLI_EXIT_USAGE when
 * a command failed (the session goes on, like a shell script without -e). */
static int script_loop(struct cmd_ctx *c, FILE *in, volatile sig_atomic_t *interrupted)
{
    char line[SCRIPT_LINE_MAX];
    int failed = 0;
    while (!c->quit && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = '\0';
        printf(PROMPT "%s\n", line);
        *interrupted = 0; /* Ctrl-C stops the motion under way, not the session */
        if (commands_execute(c, line) != 0) failed = CLI_EXIT_USAGE;
        fflush(stdout);
    }
    return failed;
}

int cmd_debug(int argc, char **argv, cli_interrupt_flag *interrupted)
{
    struct session_args a;
    int rc = commands_parse_session(
        &a, argc, argv, true, false,
        "Debugs PROGRAM (a .s source or an image) one instruction, one trap at a time,\n"
        "forwards and backwards.  Type `help` for the commands.\n\n"
        "  -x FILE                  read commands from FILE (and echo them); the same\n"
        "                           happens when stdin is not a terminal");
    if (rc) {
        commands_session_free(&a);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    FILE *script = NULL;
    if (a.script) {
        script = fopen(a.script, "r");
        if (!script) {
            fprintf(stderr, "trapeze debug: -x: cannot open '%s'\n", a.script);
            commands_session_free(&a);
            return CLI_EXIT_USAGE;
        }
    }
    struct engine_config cfg = commands_session_config(&a, a.program);
    struct engine *e = engine_open(&cfg, stderr);
    if (!e) {
        if (script) fclose(script);
        commands_session_free(&a);
        return CLI_EXIT_USAGE;
    }
    engine_set_interrupt(e, interrupted);
    struct cmd_ctx c;
    commands_init(&c, e, stdout);
    c.echo_console = true;
    printf("trapeze debug: %s, %u level%s; `help` lists the commands\n", a.program,
           engine_level_count(e), engine_level_count(e) == 1 ? "" : "s");
    commands_where(&c);
    fflush(stdout);
    if (script) rc = script_loop(&c, script, interrupted);
    else if (!isatty(STDIN_FILENO)) rc = script_loop(&c, stdin, interrupted);
    else rc = interactive_loop(&c, interrupted);
    if (script) fclose(script);
    engine_close(e);
    commands_session_free(&a);
    return rc;
}
