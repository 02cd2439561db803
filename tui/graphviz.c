/* graphviz.c: writing or rendering a diagram (graphviz.h). */
#include "graphviz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

bool graphviz_format_of_path(const char *path, enum graphviz_format *format)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return false;
    if (strcmp(dot, ".dot") == 0 || strcmp(dot, ".gv") == 0) *format = GRAPHVIZ_DOT;
    else if (strcmp(dot, ".svg") == 0) *format = GRAPHVIZ_SVG;
    else if (strcmp(dot, ".png") == 0) *format = GRAPHVIZ_PNG;
    else return false;
    return true;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool graphviz_write(const char *text, size_t len, const char *layout, enum graphviz_format format,
                    const char *path, char *err, size_t err_size)
{
    const bool to_stdout = strcmp(path, "-") == 0;
    int out = to_stdout ? STDOUT_FILENO : open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (out < 0) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        return false;
    }
    if (format == GRAPHVIZ_DOT) {
        bool ok = write_all(out, text, len);
        if (!to_stdout && close(out) != 0) ok = false;
        if (!ok) snprintf(err, err_size, "writing '%s' failed: %s", path, strerror(errno));
        return ok;
    }
    /* graphviz reads the text on its stdin and writes the picture to the file. */
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        snprintf(err, err_size, "cannot start %s: %s", layout, strerror(errno));
        if (!to_stdout) close(out);
        return false;
    }
    const char *type = format == GRAPHVIZ_SVG ? "-Tsvg" : "-Tpng";
    char *argv[] = {(char *)layout, (char *)type, strcmp(layout, "neato") == 0 ? "-n2" : NULL, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipefd[1]);
    pid_t pid;
    int rc = posix_spawnp(&pid, layout, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[0]);
    if (!to_stdout) close(out);
    if (rc != 0) {
        close(pipefd[1]);
        snprintf(err, err_size, "cannot run graphviz's %s (%s): make deps installs graphviz", layout,
                 strerror(rc));
        return false;
    }
    /* A graphviz that stops reading must not kill us with SIGPIPE. */
    struct sigaction ignore = {0}, old;
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &old);
    bool sent = write_all(pipefd[1], text, len);
    close(pipefd[1]);
    sigaction(SIGPIPE, &old, NULL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sent) {
        snprintf(err, err_size, "graphviz's %s failed on the diagram (%s %d) writing '%s'", layout,
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), path);
        return false;
    }
    return true;
}
