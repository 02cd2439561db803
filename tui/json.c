/* json.c: the streaming JSON writer of json.h. */
#include "json.h"

#include <math.h>
#include <string.h>

void json_init(struct json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->need_comma[0] = false;
}

static void write_escaped(FILE *out, const uint8_t *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20 || c >= 0x7f) fprintf(out, "\\u%04x", c);
            else fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Writes the separator and the key (if any) before a value. */
static void begin_value(struct json *j, const char *key)
{
    if (j->need_comma[j->depth]) fputc(',', j->out);
    j->need_comma[j->depth] = true;
    if (key) {
        write_escaped(j->out, (const uint8_t *)key, strlen(key));
        fputc(':', j->out);
    }
}

static void open_container(struct json *j, const char *key, char bracket)
{
    begin_value(j, key);
    fputc(bracket, j->out);
    if (j->depth < JSON_MAX_DEPTH - 1) j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_container(struct json *j, char bracket)
{
    if (j->depth > 0) j->depth--;
    fputc(bracket, j->out);
}

void json_object_begin(struct json *j, const char *key) { open_container(j, key, '{'); }
void json_object_end(struct json *j) { close_container(j, '}'); }
void json_array_begin(struct json *j, const char *key) { open_container(j, key, '['); }
void json_array_end(struct json *j) { close_container(j, ']'); }

void json_uint(struct json *j, const char *key, uint64_t v)
{
    begin_value(j, key);
    fprintf(j->out, "%llu", (unsigned long long)v);
}

void json_int(struct json *j, const char *key, int64_t v)
{
    begin_value(j, key);
    fprintf(j->out, "%lld", (long long)v);
}

void json_double(struct json *j, const char *key, double v)
{
    begin_value(j, key);
    if (isfinite(v)) fprintf(j->out, "%.6g", v);
    else fputs("null", j->out);
}

void json_bool(struct json *j, const char *key, bool v)
{
    begin_value(j, key);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
    begin_value(j, key);
    fputs("null", j->out);
}

void json_string(struct json *j, const char *key, const char *s)
{
    begin_value(j, key);
    write_escaped(j->out, (const uint8_t *)s, strlen(s));
}

void json_bytes(struct json *j, const char *key, const uint8_t *s, size_t n)
{
    begin_value(j, key);
    write_escaped(j->out, s, n);
}

void json_finish(struct json *j)
{
    fputc('\n', j->out);
    fflush(j->out);
}
