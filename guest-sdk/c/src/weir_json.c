/*
 * A small JSON reader and writer for weir C plugins (no JSON library is packaged for
 * wasm32-wasi). The reader validates once (weir_json_parse) and then walks the text
 * without building a tree; the writer produces serde_json's format (key order as written,
 * compact, serde_json's float format and string escapes), so that a C plugin emits
 * the same bytes as its Rust twin.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_backend.h"

/* ---------------------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------------------- */

#define WEIR_JSON_MAX_DEPTH 128

typedef struct {
    const char *start, *end;
    const char *err;    /* static message */
    const char *err_at; /* position */
} vstate;

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *p, const char *e, unsigned *out) {
    if (e - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 1;
}

static const char *fail(vstate *s, const char *p, const char *msg) {
    if (!s->err) {
        s->err = msg;
        s->err_at = p;
    }
    return NULL;
}

/* Validates UTF-8 of one multi-byte sequence starting at p (p[0] >= 0x80). */
static const char *utf8_seq(vstate *s, const char *p, const char *e) {
    const unsigned char *u = (const unsigned char *)p;
    unsigned c = u[0];
    int n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; c &= 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; c &= 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; c &= 0x07; }
    else return fail(s, p, "invalid UTF-8");
    if (e - p < n + 1) return fail(s, p, "invalid UTF-8");
    for (int i = 1; i <= n; i++) {
        if ((u[i] & 0xC0) != 0x80) return fail(s, p, "invalid UTF-8");
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return fail(s, p, "invalid UTF-8");
    return p + n + 1;
}

/* p at the opening quote; returns past the closing quote. */
static const char *v_string(vstate *s, const char *p) {
    const char *e = s->end;
    p++;
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c == '\\') {
            if (p + 1 >= e) break;
            char x = p[1];
            if (x == 'u') {
                unsigned u;
                if (!hex4(p + 2, e, &u)) return fail(s, p, "invalid escape");
                p += 6;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    unsigned lo;
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, e, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return fail(s, p, "lone leading surrogate in hex escape");
                    p += 6;
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    return fail(s, p, "lone trailing surrogate in hex escape");
                }
                continue;
            }
            if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' || x == 'r' ||
                x == 't') {
                p += 2;
                continue;
            }
            return fail(s, p, "invalid escape");
        }
        if (c < 0x20) return fail(s, p, "control character (\\u0000-\\u001F) found while parsing a string");
        if (c >= 0x80) {
            p = utf8_seq(s, p, e);
            if (!p) return NULL;
            continue;
        }
        p++;
    }
    return fail(s, p, "EOF while parsing a string");
}

static const char *v_number(vstate *s, const char *p) {
    const char *e = s->end;
    if (p < e && *p == '-') p++;
    if (p >= e) return fail(s, p, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9') p++;
    } else {
        return fail(s, p, "invalid number");
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') return fail(s, p, "invalid number");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return fail(s, p, "invalid number");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    return p;
}

static const char *v_value(vstate *s, const char *p, int depth);

static const char *v_literal(vstate *s, const char *p, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(s->end - p) < n || memcmp(p, lit, n) != 0) return fail(s, p, "expected value");
    return p + n;
}

static const char *v_value(vstate *s, const char *p, int depth) {
    const char *e = s->end;
    p = skip_ws(p, e);
    if (p >= e) return fail(s, p, "EOF while parsing a value");
    switch (*p) {
    case '"': return v_string(s, p);
    case 't': return v_literal(s, p, "true");
    case 'f': return v_literal(s, p, "false");
    case 'n': return v_literal(s, p, "null");
    case '[':
    case '{': {
        char close = *p == '[' ? ']' : '}';
        bool obj = *p == '{';
        if (depth >= WEIR_JSON_MAX_DEPTH) return fail(s, p, "recursion limit exceeded");
        p = skip_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = skip_ws(p, e);
                if (p >= e || *p != '"') return fail(s, p, "key must be a string");
                p = v_string(s, p);
                if (!p) return NULL;
                p = skip_ws(p, e);
                if (p >= e || *p != ':') return fail(s, p, "expected `:`");
                p++;
            }
            p = v_value(s, p, depth + 1);
            if (!p) return NULL;
            p = skip_ws(p, e);
            if (p >= e) return fail(s, p, obj ? "EOF while parsing an object" : "EOF while parsing a list");
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == close) return p + 1;
            return fail(s, p, obj ? "expected `,` or `}`" : "expected `,` or `]`");
        }
    }
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return v_number(s, p);
        return fail(s, p, "expected value");
    }
}

weir_error *weir_json_parse(weir_str text, weir_json *out) {
    if (!text.ptr) text = weir_cstr("null");
    vstate s = {text.ptr, text.ptr + text.len, NULL, NULL};
    const char *b = skip_ws(text.ptr, s.end);
    const char *p = v_value(&s, b, 0);
    if (p) {
        const char *q = skip_ws(p, s.end);
        if (q != s.end) {
            fail(&s, q, "trailing characters");
            p = NULL;
        }
    }
    if (!p) return weir_error_new("invalid JSON: %s at byte %zu", s.err, (size_t)(s.err_at - text.ptr));
    out->ptr = b;
    out->len = (size_t)(p - b);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Walking validated text
 * ------------------------------------------------------------------------------------- */

/* Past one validated value starting at p (no leading whitespace). */
static const char *skip_value(const char *p, const char *e) {
    if (*p == '"') {
        p++;
        for (;;) {
            /* A step that does not depend on the byte read lets the loads pipeline (this
             * loop is most of the time a plugin spends walking its data). */
            while (*p != '"' && *p != '\\') p++;
            if (*p == '"') return p + 1;
            p += 2; /* an escape: an escaped `"` does not close */
        }
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            char c = *p;
            if (c == '"') {
                p = skip_value(p, e);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return p;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' &&
           *p != '\r')
        p++;
    return p;
}

weir_json_kind weir_json_kind_of(weir_json v) {
    if (!v.ptr || v.len == 0) return WEIR_JSON_INVALID;
    switch (v.ptr[0]) {
    case 'n': return WEIR_JSON_NULL_KIND;
    case 't':
    case 'f': return WEIR_JSON_BOOL_KIND;
    case '"': return WEIR_JSON_STRING_KIND;
    case '[': return WEIR_JSON_ARRAY_KIND;
    case '{': return WEIR_JSON_OBJECT_KIND;
    default: return WEIR_JSON_NUMBER_KIND;
    }
}

const char *weir_json_kind_name(weir_json_kind kind) {
    switch (kind) {
    case WEIR_JSON_NULL_KIND: return "null";
    case WEIR_JSON_BOOL_KIND: return "a boolean";
    case WEIR_JSON_NUMBER_KIND: return "a number";
    case WEIR_JSON_STRING_KIND: return "a string";
    case WEIR_JSON_ARRAY_KIND: return "an array";
    case WEIR_JSON_OBJECT_KIND: return "an object";
    default: return "nothing";
    }
}

void weir_json_iter_init(weir_json_iter *it, weir_json v) {
    it->p = v.ptr;
    it->end = v.ptr ? v.ptr + v.len : NULL;
    it->started = false;
    if (!v.ptr || v.len < 2 || (v.ptr[0] != '{' && v.ptr[0] != '[')) it->p = it->end = NULL;
}

/* Moves to the next element's start, or returns false at the close. */
static bool iter_advance(weir_json_iter *it) {
    if (!it->p) return false;
    const char *p = it->p;
    if (!it->started) {
        p++; /* past the opening bracket */
        it->started = true;
    } else {
        p = skip_ws(p, it->end);
        if (*p != ',') {
            it->p = NULL;
            return false;
        }
        p++;
    }
    p = skip_ws(p, it->end);
    if (*p == '}' || *p == ']') {
        it->p = NULL;
        return false;
    }
    it->p = p;
    return true;
}

bool weir_json_next_member(weir_json_iter *it, weir_json *key, weir_json *value) {
    if (!iter_advance(it)) return false;
    const char *p = it->p;
    const char *k = p;
    p = skip_value(p, it->end);
    key->ptr = k;
    key->len = (size_t)(p - k);
    p = skip_ws(p, it->end);
    p = skip_ws(p + 1, it->end); /* ':' */
    const char *v = p;
    p = skip_value(p, it->end);
    value->ptr = v;
    value->len = (size_t)(p - v);
    it->p = p;
    return true;
}

bool weir_json_next_element(weir_json_iter *it, weir_json *value) {
    if (!iter_advance(it)) return false;
    const char *v = it->p;
    const char *p = skip_value(v, it->end);
    value->ptr = v;
    value->len = (size_t)(p - v);
    it->p = p;
    return true;
}

/* Appends the UTF-8 of code point c. */
static size_t put_utf8(char *o, unsigned c) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Unescapes the validated string literal [p, e) (quotes included) into o; returns the length.
 * The output is never longer than the input. */
static size_t unescape(const char *p, const char *e, char *o) {
    size_t n = 0;
    p++;
    e--;
    while (p < e) {
        if (*p != '\\') {
            o[n++] = *p++;
            continue;
        }
        char x = p[1];
        p += 2;
        switch (x) {
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned c;
            hex4(p, e, &c);
            p += 4;
            if (c >= 0xD800 && c <= 0xDBFF) {
                unsigned lo;
                hex4(p + 2, e, &lo);
                p += 6;
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += put_utf8(o + n, c);
            break;
        }
        default: o[n++] = x; break; /* " \ / */
        }
    }
    return n;
}

/* Whether the string literal `lit` (quotes included) equals the C string `key`. */
static bool key_equals(weir_json lit, const char *key, size_t klen) {
    if (lit.len < 2) return false;
    const char *body = lit.ptr + 1;
    size_t blen = lit.len - 2;
    if (!memchr(body, '\\', blen)) return blen == klen && memcmp(body, key, klen) == 0;
    char small[256];
    char *buf = blen <= sizeof small ? small : weir_xmalloc(blen);
    size_t n = unescape(lit.ptr, lit.ptr + lit.len, buf);
    bool eq = n == klen && memcmp(buf, key, klen) == 0;
    if (buf != small) free(buf);
    return eq;
}

int weir_json_get(weir_json obj, const char *key, weir_json *out) {
    if (weir_json_kind_of(obj) != WEIR_JSON_OBJECT_KIND) return 0;
    size_t klen = strlen(key);
    weir_json_iter it;
    weir_json k, v;
    int found = 0;
    weir_json_iter_init(&it, obj);
    while (weir_json_next_member(&it, &k, &v)) {
        if (key_equals(k, key, klen)) {
            if (found == 0 && out) *out = v;
            if (++found == 2) break;
        }
    }
    return found;
}

bool weir_json_as_bool(weir_json v, bool *out) {
    if (weir_json_kind_of(v) != WEIR_JSON_BOOL_KIND) return false;
    *out = v.ptr[0] == 't';
    return true;
}

/* Powers of ten as serde_json's POW10 table (each the correctly rounded double). */
static const double POW10[309] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29,
    1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39,
    1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49,
    1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59,
    1e60, 1e61, 1e62, 1e63, 1e64, 1e65, 1e66, 1e67, 1e68, 1e69,
    1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79,
    1e80, 1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89,
    1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96, 1e97, 1e98, 1e99,
    1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109,
    1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119,
    1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139,
    1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159,
    1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169,
    1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179,
    1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189,
    1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199,
    1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219,
    1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229,
    1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239,
    1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249,
    1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269,
    1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299,
    1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308
};

/* A number literal (validated) to a double exactly as serde_json 1.0 parses it without its
 * `float_roundtrip` feature (the default, and what the Rust plugins get): the decimal
 * significand in a u64 (digits past its capacity dropped, counted in the exponent), then
 * one multiplication or division by a power of ten. That is correctly rounded for the
 * usual literals (up to 15 digits, exponents within 22) and may be an ulp off beyond;
 * strtod would be correct there, but it would differ from the Rust twin. False when the
 * number is out of range (serde_json's "number out of range"). */
static bool serde_f64(const char *p, const char *e, double *out) {
    bool positive = true;
    if (p < e && *p == '-') {
        positive = false;
        p++;
    }
    uint64_t sig = 0;
    int32_t exponent = 0;
    bool overflowed = false;
#define OVERFLOWS(a, b) ((a) >= UINT64_MAX / 10 && ((a) > UINT64_MAX / 10 || (uint64_t)(b) > UINT64_MAX % 10))
    /* Integer part. */
    while (p < e && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (overflowed) {
            exponent++; /* parse_long_integer: further integer digits only scale */
        } else if (OVERFLOWS(sig, d)) {
            overflowed = true;
            exponent++;
        } else {
            sig = sig * 10 + d;
        }
        p++;
    }
    /* Fraction: parse_decimal keeps adding digits while they fit (even after the integer
     * part overflowed, as serde_json does), then drops the rest. */
    if (p < e && *p == '.') {
        p++;
        bool dropped = false;
        while (p < e && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (!dropped && OVERFLOWS(sig, d)) dropped = true;
            if (!dropped) {
                sig = sig * 10 + d;
                exponent--;
            }
            p++;
        }
    }
#undef OVERFLOWS
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool positive_exp = true;
        if (*p == '+') p++;
        else if (*p == '-') {
            positive_exp = false;
            p++;
        }
        int32_t x = 0;
        while (p < e && *p >= '0' && *p <= '9') {
            int32_t d = *p - '0';
            if (x >= INT32_MAX / 10 && (x > INT32_MAX / 10 || d > INT32_MAX % 10)) {
                /* parse_exponent_overflow */
                if (sig != 0 && positive_exp) return false;
                *out = positive ? 0.0 : -0.0;
                return true;
            }
            x = x * 10 + d;
            p++;
        }
        int64_t fin = positive_exp ? (int64_t)exponent + x : (int64_t)exponent - x;
        if (fin > INT32_MAX) fin = INT32_MAX;
        if (fin < INT32_MIN) fin = INT32_MIN;
        exponent = (int32_t)fin;
    }
    /* f64_from_parts */
    double f = (double)sig;
    for (;;) {
        uint32_t a = exponent < 0 ? (uint32_t)0 - (uint32_t)exponent : (uint32_t)exponent;
        if (a < 309) {
            if (exponent >= 0) {
                f *= POW10[a];
                if (isinf(f)) return false;
            } else {
                f /= POW10[a];
            }
            break;
        }
        if (f == 0.0) break;
        if (exponent >= 0) return false;
        f /= 1e308;
        exponent += 308;
    }
    *out = positive ? f : -f;
    return true;
}

bool weir_json_as_f64(weir_json v, double *out) {
    if (weir_json_kind_of(v) != WEIR_JSON_NUMBER_KIND) return false;
    return serde_f64(v.ptr, v.ptr + v.len, out);
}

/* serde_json's integer classes: a literal without fraction or exponent is a u64 when it
 * fits, an i64 when negative and it fits (but -0 is a float), else a float. */
typedef enum { NUM_U64, NUM_I64, NUM_F64 } num_class;

static num_class classify(weir_json v, uint64_t *u, int64_t *i) {
    const char *p = v.ptr, *e = v.ptr + v.len;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    uint64_t sig = 0;
    for (const char *q = p; q < e; q++) {
        if (*q < '0' || *q > '9') return NUM_F64;
        unsigned d = (unsigned)(*q - '0');
        if (sig > (UINT64_MAX - d) / 10) return NUM_F64;
        sig = sig * 10 + d;
    }
    if (!neg) {
        *u = sig;
        return NUM_U64;
    }
    if (sig == 0 || sig > (uint64_t)INT64_MAX + 1) return NUM_F64;
    *i = sig == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)sig;
    return NUM_I64;
}

bool weir_json_as_i64(weir_json v, int64_t *out) {
    if (weir_json_kind_of(v) != WEIR_JSON_NUMBER_KIND) return false;
    uint64_t u;
    int64_t i;
    switch (classify(v, &u, &i)) {
    case NUM_U64:
        if (u > INT64_MAX) return false;
        *out = (int64_t)u;
        return true;
    case NUM_I64: *out = i; return true;
    default: return false;
    }
}

bool weir_json_as_string(weir_json v, char **out, size_t *len) {
    if (weir_json_kind_of(v) != WEIR_JSON_STRING_KIND) return false;
    char *buf = weir_xmalloc(v.len); /* unescaped length <= literal length - 2, plus NUL */
    size_t n = unescape(v.ptr, v.ptr + v.len, buf);
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return true;
}

bool weir_json_number_text(weir_json v, char *buf, size_t cap) {
    if (weir_json_kind_of(v) != WEIR_JSON_NUMBER_KIND || cap < 32) return false;
    uint64_t u;
    int64_t i;
    switch (classify(v, &u, &i)) {
    case NUM_U64: snprintf(buf, cap, "%llu", (unsigned long long)u); return true;
    case NUM_I64: snprintf(buf, cap, "%lld", (long long)i); return true;
    default: {
        double d;
        if (!weir_json_as_f64(v, &d)) return false;
        weir_fmt_f64(d, buf);
        return true;
    }
    }
}

/* ---------------------------------------------------------------------------------------
 * Field readers
 * ------------------------------------------------------------------------------------- */

weir_error *weir_json_expect_object(weir_json v, const char *what) {
    weir_json_kind k = weir_json_kind_of(v);
    if (k == WEIR_JSON_OBJECT_KIND) return NULL;
    return weir_error_new("invalid type: %s, expected %s", weir_json_kind_name(k), what ? what : "an object");
}

/* Finds a field; an error when it appears twice. *found 0 or 1. */
static weir_error *field(weir_json obj, const char *name, weir_json *v, int *found) {
    int n = weir_json_get(obj, name, v);
    if (n > 1) return weir_error_new("duplicate field `%s`", name);
    *found = n;
    return NULL;
}

static weir_error *wrong_type(const char *name, weir_json v, const char *expected) {
    return weir_error_new("field `%s`: invalid type: %s, expected %s", name,
                          weir_json_kind_name(weir_json_kind_of(v)), expected);
}

static weir_error *number_field(weir_json obj, const char *name, double *out, int *found) {
    weir_json v;
    weir_error *e = field(obj, name, &v, found);
    if (e || !*found) return e;
    if (!weir_json_as_f64(v, out)) {
        if (weir_json_kind_of(v) == WEIR_JSON_NUMBER_KIND)
            return weir_error_new("field `%s`: number out of range", name);
        return wrong_type(name, v, "f64");
    }
    return NULL;
}

/* The field readers hand out C strings: a "\u0000" inside would cut them short, so it is
 * an error rather than a silently different value (weir_json_as_string gives the length). */
static weir_error *nul_check(const char *name, char **s, size_t len) {
    if (strlen(*s) == len) return NULL;
    free(*s);
    *s = NULL;
    return weir_error_new("field `%s`: the string contains a NUL character (\\u0000)", name);
}

weir_error *weir_json_field_f64(weir_json obj, const char *name, double *out) {
    int found;
    weir_error *e = number_field(obj, name, out, &found);
    if (e) return e;
    if (!found) return weir_error_new("missing field `%s`", name);
    return NULL;
}

weir_error *weir_json_field_f64_or(weir_json obj, const char *name, double dflt, double *out) {
    int found;
    weir_error *e = number_field(obj, name, out, &found);
    if (e) return e;
    if (!found) *out = dflt;
    return NULL;
}

weir_error *weir_json_field_opt_string(weir_json obj, const char *name, char **out) {
    weir_json v;
    int found;
    *out = NULL;
    weir_error *e = field(obj, name, &v, &found);
    if (e || !found) return e;
    if (weir_json_kind_of(v) == WEIR_JSON_NULL_KIND) return NULL;
    size_t len;
    if (!weir_json_as_string(v, out, &len)) return wrong_type(name, v, "a string");
    return nul_check(name, out, len);
}

weir_error *weir_json_field_id(weir_json obj, const char *name, const char *alias, char **out) {
    weir_json v, va;
    int found, found_alias = 0;
    *out = NULL;
    weir_error *e = field(obj, name, &v, &found);
    if (e) return e;
    if (alias) {
        e = field(obj, alias, &va, &found_alias);
        if (e) return e;
        if (found && found_alias) return weir_error_new("duplicate field `%s`", name);
        if (found_alias) v = va;
    }
    if (!found && !found_alias) return weir_error_new("missing field `%s`", name);
    const char *shown = found ? name : alias;
    switch (weir_json_kind_of(v)) {
    case WEIR_JSON_STRING_KIND: {
        size_t len;
        weir_json_as_string(v, out, &len);
        return nul_check(shown, out, len);
    }
    case WEIR_JSON_NUMBER_KIND: {
        char buf[64];
        if (!weir_json_number_text(v, buf, sizeof buf))
            return weir_error_new("field `%s`: number out of range", shown);
        *out = weir_str_dup(weir_cstr(buf));
        return NULL;
    }
    default:
        return weir_error_new("field `%s`: %s is neither a string nor a number", shown,
                              weir_json_kind_name(weir_json_kind_of(v)));
    }
}

/* ---------------------------------------------------------------------------------------
 * Floats as serde_json writes them (serde_json 1.0.154 formats with zmij: shortest
 * round-trip digits, plain notation for decimal exponents -5..=15, else d.ddde+XX)
 * ------------------------------------------------------------------------------------- */

size_t weir_fmt_f64(double v, char buf[32]) {
    if (!isfinite(v)) {
        memcpy(buf, "null", 5);
        return 4;
    }
    size_t n = 0;
    if (signbit(v)) {
        buf[n++] = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(buf + n, "0.0", 4);
        return n + 3;
    }
    /* The shortest decimal that reads back as v: correctly rounded %.*e at increasing
     * precision (musl's printf and strtod are exact). */
    char tmp[48];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* tmp is d[.ddd]e[+-]XX */
    char digits[24];
    int length = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[length++] = *p;
    int e10 = atoi(p + 1);
    while (length > 1 && digits[length - 1] == '0') length--;
    /* v = digits * 10^k with `length` digits; kk = length + k, so 10^(kk-1) <= v < 10^kk. */
    int kk = e10 + 1;
    int k = kk - length;
    if (0 <= k && kk <= 16) {
        memcpy(buf + n, digits, (size_t)length);
        n += (size_t)length;
        for (int i = length; i < kk; i++) buf[n++] = '0';
        buf[n++] = '.';
        buf[n++] = '0';
    } else if (0 < kk && kk <= 16) {
        memcpy(buf + n, digits, (size_t)kk);
        n += (size_t)kk;
        buf[n++] = '.';
        memcpy(buf + n, digits + kk, (size_t)(length - kk));
        n += (size_t)(length - kk);
    } else if (-5 < kk && kk <= 0) {
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = kk; i < 0; i++) buf[n++] = '0';
        memcpy(buf + n, digits, (size_t)length);
        n += (size_t)length;
    } else {
        buf[n++] = digits[0];
        if (length > 1) {
            buf[n++] = '.';
            memcpy(buf + n, digits + 1, (size_t)(length - 1));
            n += (size_t)(length - 1);
        }
        n += (size_t)snprintf(buf + n, 8, "e%+d", kk - 1);
    }
    buf[n] = 0;
    return n;
}

/* ---------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------- */

void weir_jw_init(weir_json_writer *w) { memset(w, 0, sizeof *w); }

void weir_jw_free(weir_json_writer *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static void put(weir_json_writer *w, const char *s, size_t n) {
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 128;
        while (cap < w->len + n + 1) cap *= 2;
        w->buf = weir_xrealloc(w->buf, cap);
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void putc_(weir_json_writer *w, char c) { put(w, &c, 1); }

static void pre_value(weir_json_writer *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_item[w->depth]) putc_(w, ',');
        w->has_item[w->depth] = 1;
    }
}

static void open_(weir_json_writer *w, char c) {
    pre_value(w);
    putc_(w, c);
    if (w->depth + 1 >= (int)sizeof w->has_item) weir_fatal("weir_json_writer: nesting too deep");
    w->depth++;
    w->has_item[w->depth] = 0;
}

static void close_(weir_json_writer *w, char c) {
    putc_(w, c);
    if (w->depth > 0) w->depth--;
}

void weir_jw_object_begin(weir_json_writer *w) { open_(w, '{'); }
void weir_jw_object_end(weir_json_writer *w) { close_(w, '}'); }
void weir_jw_array_begin(weir_json_writer *w) { open_(w, '['); }
void weir_jw_array_end(weir_json_writer *w) { close_(w, ']'); }

static void escaped(weir_json_writer *w, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    putc_(w, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c < 0x20) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\t': esc = "\\t"; break;
            case '\n': esc = "\\n"; break;
            case '\f': esc = "\\f"; break;
            case '\r': esc = "\\r"; break;
            default:
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0'; u[4] = hex[c >> 4]; u[5] = hex[c & 15];
                break;
            }
        } else {
            continue;
        }
        put(w, s + start, i - start);
        if (esc) put(w, esc, strlen(esc));
        else put(w, u, 6);
        start = i + 1;
    }
    put(w, s + start, len - start);
    putc_(w, '"');
}

void weir_jw_key(weir_json_writer *w, const char *key) {
    pre_value(w);
    escaped(w, key, strlen(key));
    putc_(w, ':');
    w->after_key = true;
}

void weir_jw_stringn(weir_json_writer *w, const char *s, size_t len) {
    pre_value(w);
    escaped(w, s, len);
}

void weir_jw_string(weir_json_writer *w, const char *s) {
    if (!s) {
        weir_jw_null(w);
        return;
    }
    weir_jw_stringn(w, s, strlen(s));
}

void weir_jw_f64(weir_json_writer *w, double v) {
    char buf[32];
    pre_value(w);
    size_t n = weir_fmt_f64(v, buf);
    put(w, buf, n);
}

void weir_jw_i64(weir_json_writer *w, int64_t v) {
    char buf[24];
    pre_value(w);
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    put(w, buf, (size_t)n);
}

void weir_jw_bool(weir_json_writer *w, bool v) {
    pre_value(w);
    if (v) put(w, "true", 4);
    else put(w, "false", 5);
}

void weir_jw_null(weir_json_writer *w) {
    pre_value(w);
    put(w, "null", 4);
}

void weir_jw_raw(weir_json_writer *w, const char *json, size_t len) {
    pre_value(w);
    put(w, json, len);
}
