/* cli_file.c: files read whole, bounded (cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../isa/file.h"
#include "options.h"

char *cli_read_file_capped(const char *path, size_t limit, size_t *len, char *err, size_t err_size)
{
    char why[ISA_FILE_WHY_SIZE];
    char *text = isa_read_file(path, limit, len, NULL, why, NULL);
    if (!text) snprintf(err, err_size, "cannot open '%.300s': %s", path, why);
    return text;
}

char *cli_read_file(const char *path, size_t *len)
{
    char why[ISA_FILE_WHY_SIZE];
    char *text = isa_read_file(path, CLI_MAX_FILE_BYTES, len, NULL, why, NULL);
    struct stat st;
    if (text || stat(path, &st) != 0) return text; /* errno from stat */
    errno = S_ISDIR(st.st_mode) ? EISDIR
          : !S_ISREG(st.st_mode) ? EINVAL
          : (unsigned long long)st.st_size > CLI_MAX_FILE_BYTES ? EFBIG : EIO;
    return NULL;
}
