/*
 * json.h: a small streaming JSON writer.
 *
 * Commas and nesting are tracked for the caller, strings are escaped, and
 * arbitrary guest bytes are written as valid JSON (bytes >= 0x80 as \u00XX).
 * A key is given inside objects and NULL inside arrays.
 */
#ifndef TRAPEZE_JSON_H
#define TRAPEZE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
    FILE *out;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_string(struct json *j, const char *key, const char *s);
void json_bytes(struct json *j, const char *key, const uint8_t *s, size_t n);
/* Ends the top-level value with a newline. */
void json_finish(struct json *j);

#endif
