/* A small, bounded JSON DOM parser for config files and API bodies.
 *
 * dm_json_parse() reads RFC 8259 JSON (UTF-8, no comments, no trailing commas) into a tree of
 * struct dm_json nodes allocated in the document's arena; strings are unescaped
 * (NUL-terminated; a "\u0000" escape is refused). Depth, input size and node count are capped
 * (struct dm_json_limits, 0 = default) so hostile input cannot exhaust the stack or memory.
 * Every node records its byte offset and the span of its source text, so a caller can quote a
 * subtree verbatim (e.g. the config's "hunt" section) or point at an error.
 * Caller storage: struct dm_json_doc; dm_json_doc_release() frees every node. The document
 * keeps pointers into `text` only for spans: keep the text alive while using spans. */
#ifndef DM_JSON_H
#define DM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dm_arena.h"
#include "dm_error.h"

enum dm_json_type {
    DM_JSON_NULL = 0,
    DM_JSON_BOOL,
    DM_JSON_NUM,
    DM_JSON_STR,
    DM_JSON_ARR,
    DM_JSON_OBJ
};

struct dm_json {
    enum dm_json_type type;
    int b;            /* BOOL */
    double num;       /* NUM */
    int is_int;       /* NUM: written as an integer that fits int64 */
    int64_t i;        /* NUM when is_int */
    const char *str;  /* STR: unescaped, NUL-terminated */
    size_t len;       /* STR: bytes; ARR / OBJ: number of children */
    struct dm_json *items; /* ARR / OBJ: children [len] */
    const char *key;  /* member of an object: its unescaped name, else NULL */
    size_t key_len;
    size_t offset;    /* byte offset of the value in the text */
    size_t span;      /* bytes of source text of the value */
};

struct dm_json_limits {
    size_t max_bytes; /* input size, default 16 MiB */
    size_t max_depth; /* nesting, default 64 */
    size_t max_nodes; /* values, default 1,000,000 */
};

struct dm_json_doc {
    struct dm_arena arena;
    struct dm_json *root;
    const char *text; /* borrowed */
    size_t text_len;
};

/* Parses text[0..len). Returns 0, DM_EPARSE (err: message, offset and line), DM_ETOOBIG or
 * -ENOMEM. The doc must be released even on failure. lim may be NULL. */
int dm_json_parse(struct dm_json_doc *doc, const char *text, size_t len,
                  const struct dm_json_limits *lim, struct dm_error *err);
void dm_json_doc_release(struct dm_json_doc *doc);

/* Member `key` of an object (last one wins on duplicates), or NULL. */
const struct dm_json *dm_json_get(const struct dm_json *obj, const char *key);
/* Name of a type for messages: "null", "boolean", "number", "string", "array", "object". */
const char *dm_json_type_name(enum dm_json_type t);

#endif
