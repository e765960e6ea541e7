/* See json.h. Recursive descent over the whole text; strict about syntax (no trailing
 * commas, no comments), so a broken fixture is reported rather than half-read. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *s;
    size_t len;
    size_t pos;
    char *err;
    size_t err_len;
    int failed;
};

static void fail(struct parser *p, const char *what) {
    if (!p->failed) {
        snprintf(p->err, p->err_len, "%s at byte %zu", what, p->pos);
        p->failed = 1;
    }
}

static void skip_ws(struct parser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' ||
                               p->s[p->pos] == '\r' || p->s[p->pos] == '\t')) {
        p->pos++;
    }
}

static int literal(struct parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static void put_utf8(char *out, size_t *n, unsigned long cp) {
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(struct parser *p, unsigned long *out) {
    if (p->len - p->pos < 4) {
        return 0;
    }
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned long)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned long)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned long)(c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

/* Parses a string at p->pos (after the opening quote); returns a malloc'd copy. */
static char *parse_string(struct parser *p, size_t *out_len) {
    /* Decoded output is never longer than the input. */
    char *out = malloc(p->len - p->pos + 1);
    size_t n = 0;
    while (p->pos < p->len) {
        char c = p->s[p->pos++];
        if (c == '"') {
            out[n] = '\0';
            *out_len = n;
            return out;
        }
        if ((unsigned char)c < 0x20) {
            fail(p, "control character in string");
            break;
        }
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (p->pos >= p->len) {
            break;
        }
        char e = p->s[p->pos++];
        unsigned long cp = 0, lo = 0;
        switch (e) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case '/': out[n++] = '/'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'u':
                if (!hex4(p, &cp)) {
                    fail(p, "bad \\u escape");
                    free(out);
                    return NULL;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (!literal(p, "\\u") || !hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, "unpaired surrogate");
                        free(out);
                        return NULL;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                put_utf8(out, &n, cp);
                break;
            default:
                fail(p, "bad escape");
                free(out);
                return NULL;
        }
    }
    fail(p, "unterminated string");
    free(out);
    return NULL;
}

static void parse_value(struct parser *p, struct json *v, int depth);

static void parse_number(struct parser *p, struct json *v) {
    size_t start = p->pos;
    int integer = 1;
    if (p->s[p->pos] == '-') {
        integer = 0;
        p->pos++;
    }
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c >= '0' && c <= '9') {
            p->pos++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
            integer = 0;
            p->pos++;
        } else {
            break;
        }
    }
    size_t n = p->pos - start;
    char buf[64];
    if (n == 0 || n >= sizeof buf) {
        fail(p, "bad number");
        return;
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    char *end = NULL;
    v->type = JSON_NUMBER;
    v->number = strtod(buf, &end);
    if (end != buf + n) {
        fail(p, "bad number");
        return;
    }
    if (integer) {
        errno = 0;
        unsigned long long u = strtoull(buf, &end, 10);
        if (errno == 0 && end == buf + n) {
            v->is_uint = 1;
            v->uint = (uint64_t)u;
        }
    }
}

static void parse_value(struct parser *p, struct json *v, int depth) {
    memset(v, 0, sizeof *v);
    if (depth > 64) {
        fail(p, "nesting too deep");
        return;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end");
        return;
    }
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        int object = c == '{';
        char close = object ? '}' : ']';
        v->type = object ? JSON_OBJECT : JSON_ARRAY;
        p->pos++;
        size_t cap = 0;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return;
        }
        for (;;) {
            if (v->len == cap) {
                cap = cap ? cap * 2 : 8;
                v->items = realloc(v->items, cap * sizeof *v->items);
                if (object) {
                    v->keys = realloc(v->keys, cap * sizeof *v->keys);
                }
            }
            if (object) {
                skip_ws(p);
                size_t klen = 0;
                if (p->pos >= p->len || p->s[p->pos] != '"') {
                    fail(p, "expected a key");
                    return;
                }
                p->pos++;
                char *key = parse_string(p, &klen);
                if (key == NULL) {
                    return;
                }
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') {
                    free(key);
                    fail(p, "expected ':'");
                    return;
                }
                p->pos++;
                v->keys[v->len] = key;
            }
            parse_value(p, &v->items[v->len], depth + 1);
            v->len++;
            if (p->failed) {
                return;
            }
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == close) {
                p->pos++;
                return;
            }
            fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
            return;
        }
    }
    if (c == '"') {
        p->pos++;
        v->string = parse_string(p, &v->len);
        if (v->string != NULL) {
            v->type = JSON_STRING;
        }
        return;
    }
    if (literal(p, "true")) {
        v->type = JSON_BOOL;
        v->boolean = 1;
    } else if (literal(p, "false")) {
        v->type = JSON_BOOL;
    } else if (literal(p, "null")) {
        v->type = JSON_NULL;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        parse_number(p, v);
    } else {
        fail(p, "unexpected character");
    }
}

static void free_members(struct json *v) {
    if (v->type == JSON_STRING) {
        free(v->string);
    }
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            free_members(&v->items[i]);
            if (v->keys) {
                free(v->keys[i]);
            }
        }
        free(v->items);
        free(v->keys);
    }
}

struct json *json_parse(const char *text, size_t len, char *err, size_t err_len) {
    struct parser p = {text, len, 0, err, err_len, 0};
    struct json *v = malloc(sizeof *v);
    parse_value(&p, v, 0);
    skip_ws(&p);
    if (!p.failed && p.pos != len) {
        fail(&p, "trailing characters");
    }
    if (p.failed) {
        free_members(v);
        free(v);
        return NULL;
    }
    return v;
}

void json_free(struct json *v) {
    if (v != NULL) {
        free_members(v);
        free(v);
    }
}

const struct json *json_get(const struct json *obj, const char *key) {
    if (obj == NULL || obj->type != JSON_OBJECT) {
        return NULL;
    }
    for (size_t i = 0; i < obj->len; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            return &obj->items[i];
        }
    }
    return NULL;
}
