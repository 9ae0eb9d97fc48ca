/* Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), U+FFFD replacement and base64 for audit.raw.
 *
 * Replacement follows the Unicode "substitution of maximal subparts"
 * practice (Unicode 15 §3.9, U+FFFD substitution; the same as Python's
 * bytes.decode(errors="replace")): every maximal subpart of an ill-formed
 * subsequence becomes one U+FFFD, i.e. "\xe2\x82" (a truncated 3-byte
 * sequence) is one U+FFFD, "\xff\xfe" is two. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

/* Length of the well-formed sequence at p[0..n), 0 when ill-formed; in that
 * case *ret_bad is the length of the maximal subpart to replace (>= 1). */
static size_t
utf8_seq(const unsigned char *p, size_t n, size_t *ret_bad)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */

    *ret_bad = 1;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    } else {
        return 0; /* continuation byte, C0, C1, F5..FF */
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n)
            return 0;
        unsigned char b = p[k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
        if (b < l || b > h)
            return 0;
        *ret_bad = k + 1;
    }
    return need;
}

bool
aa_utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0, bad;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq(s + i, n - i, &bad);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

char *
aa_utf8_sanitize(const void *p, size_t n)
{
    const unsigned char *s = p;
    /* Worst case: every byte becomes 3 bytes of U+FFFD. */
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0, bad;
    while (i < n) {
        if (s[i] != 0 && s[i] < 0x80) {
            out[o++] = (char)s[i++];
            continue;
        }
        size_t l = s[i] == 0 ? 0 : utf8_seq(s + i, n - i, &bad);
        if (s[i] == 0)
            bad = 1;
        if (l == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += bad;
        } else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        }
    }
    out[o] = '\0';
    return out;
}

char *
aa_base64(const void *p, size_t n)
{
    if (n > (SIZE_MAX / 4) * 3 - 3 || n > INT32_MAX)
        return NULL;
    size_t cap = 4 * ((n + 2) / 3) + 1;
    unsigned char *out = malloc(cap);
    if (!out)
        return NULL;
    int r = EVP_EncodeBlock(out, p, (int)n);
    if (r < 0) {
        free(out);
        return NULL;
    }
    out[r] = '\0';
    return (char *)out;
}
