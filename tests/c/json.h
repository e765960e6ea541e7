/* A small JSON reader for the golden fixtures: a DOM of nulls, booleans, numbers, strings,
 * arrays and objects. Numbers keep their double value and, for plain non-negative integer
 * literals that fit, their exact uint64_t value too. */
#ifndef METRICORE_TEST_JSON_H
#define METRICORE_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    int boolean;
    double number;
    int is_uint;    /* a non-negative integer literal that fits in uint64_t */
    uint64_t uint;
    char *string;   /* JSON_STRING: decoded UTF-8, NUL-terminated */
    size_t len;     /* JSON_STRING: bytes; JSON_ARRAY / JSON_OBJECT: members */
    struct json *items; /* array elements, or object values */
    char **keys;        /* object keys (NUL-terminated) */
};

/* Parses `text`; NULL on a syntax error, described in `err`. Free with json_free. */
struct json *json_parse(const char *text, size_t len, char *err, size_t err_len);
void json_free(struct json *v);
/* The member `key` of an object, or NULL (also when `obj` is not an object). */
const struct json *json_get(const struct json *obj, const char *key);

#endif
