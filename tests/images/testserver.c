/*
 * n2c-testserver: a tiny HTTP/1.1 + WebSocket test server for nos2compose's test
 * images (built by tests/images/build.sh with `gcc -O2 -static`; needs no libraries).
 *
 *   n2c-testserver [ADDRESS:]PORT [[ADDRESS:]PORT...]
 *
 * Listens on 0.0.0.0:PORT for every PORT (and, best effort, on [::]:PORT too; that
 * is skipped silently where IPv6 is unavailable); ADDRESS:PORT listens on that IPv4
 * address only (127.0.0.1:8080: a server a node's probe cannot reach). Every connection is handled in a
 * forked child, one request per connection (responses carry Connection: close).
 * The full request is read: head up to 64 KiB, body by Content-Length or chunked
 * (up to 1 MiB; "Expect: 100-continue" is answered). Query values are URL-decoded
 * ('+' is a space). Response bodies are text/plain without a trailing newline; HEAD
 * gets no body. One line per request is logged to stderr. SIGTERM/SIGINT exit 0.
 *
 * Routes (any method):
 *   /status/CODE        CODE (200..599), body "status CODE"
 *   /expect?method=M&body=B&header=Name:Value&code=C
 *                       C (default 200) when the method is M, the body is exactly B
 *                       and a header Name (case-insensitive) has exactly Value; each
 *                       check only if given, header= may be repeated; else 417 with
 *                       the reason in the body
 *   /state              the code stored in /tmp/n2c-state (default 200), body "state CODE"
 *   /state?set=CODE     stores CODE, answers 200
 *   /redirect           302, Location: /status/200
 *   /ok                 200, body "ok"
 *   anything else       404
 * WebSocket: a GET with "Upgrade: websocket" and Sec-WebSocket-Key on any path gets
 * 101 with the right Sec-WebSocket-Accept, then one unmasked text frame carrying the
 * query parameter `say` (default "pong"); the connection stays open ~5 s (or until
 * the client closes it or sends a close frame), then a close frame is sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD (64 * 1024)
#define MAX_BODY (1024 * 1024)
#define MAX_BUF (MAX_HEAD + 2 * MAX_BODY)
#define MAX_HEADERS 128
#define MAX_LISTEN 64
#define STATE_FILE "/tmp/n2c-state"
#define WS_HOLD_MS 5000
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ------------------------------------------------------------------ utilities */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "n2c-testserver[%d]: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    if (n < 0)
        n = 0;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(2, line, len); /* one write: lines from children don't interleave */
    (void)w;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* URL-decode n bytes of src into a new NUL-terminated string. */
static char *url_decode(const char *src, size_t n, int plus_is_space)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '%' && i + 2 < n && hexval((unsigned char)src[i + 1]) >= 0 &&
            hexval((unsigned char)src[i + 2]) >= 0) {
            *o++ = (char)(hexval((unsigned char)src[i + 1]) * 16 + hexval((unsigned char)src[i + 2]));
            i += 2;
        } else if (src[i] == '+' && plus_is_space) {
            *o++ = ' ';
        } else {
            *o++ = src[i];
        }
    }
    *o = '\0';
    return out;
}

/* Parse a status code 200..599 from s (whole string); -1 if invalid. */
static int parse_code(const char *s)
{
    if (!s || strlen(s) != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    int c = atoi(s);
    return (c >= 200 && c <= 599) ? c : -1;
}

static const char *reason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* ------------------------------------------------------------ SHA-1 / base64 */

typedef struct {
    uint32_t h[5];
    uint64_t len;
    unsigned char blk[64];
    size_t n;
} sha1_ctx;

static uint32_t rol(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80], a, b, d, e, f, k, t, cc;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int i = 0; i < 80; i++) {
        if (i < 20)
            f = (b & cc) | (~b & d), k = 0x5A827999;
        else if (i < 40)
            f = b ^ cc ^ d, k = 0x6ED9EBA1;
        else if (i < 60)
            f = (b & cc) | (b & d) | (cc & d), k = 0x8F1BBCDC;
        else
            f = b ^ cc ^ d, k = 0xCA62C1D6;
        t = rol(a, 5) + f + e + k + w[i];
        e = d, d = cc, cc = rol(b, 30), b = a, a = t;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
    c->h[0] = 0x67452301, c->h[1] = 0xEFCDAB89, c->h[2] = 0x98BADCFE;
    c->h[3] = 0x10325476, c->h[4] = 0xC3D2E1F0;
    c->len = 0, c->n = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->len += n;
    while (n > 0) {
        size_t k = 64 - c->n < n ? 64 - c->n : n;
        memcpy(c->blk + c->n, p, k);
        c->n += k, p += k, n -= k;
        if (c->n == 64) {
            sha1_block(c, c->blk);
            c->n = 0;
        }
    }
}

static void sha1_final(sha1_ctx *c, unsigned char out[20])
{
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha1_update(c, &pad, 1);
    while (c->n != 56)
        sha1_update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(c, lenb, 8);
    for (int i = 0; i < 20; i++)
        out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = t[v >> 18], *out++ = t[(v >> 12) & 63], *out++ = t[(v >> 6) & 63], *out++ = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *out++ = t[v >> 18], *out++ = t[(v >> 12) & 63];
        *out++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}

/* ------------------------------------------------------------------ requests */

struct conn {
    int fd;
    char peer[80];
    char *buf; /* raw bytes read so far */
    size_t len, cap;
};

struct req {
    char head[MAX_HEAD + 1];
    char *method, *target, *version;
    char *path;  /* URL-decoded path (malloc) */
    char *query; /* raw query string (points into head), "" if none */
    char *hname[MAX_HEADERS], *hval[MAX_HEADERS];
    int nh;
    char *body; /* decoded body (malloc, NUL-terminated) */
    size_t body_len;
};

/* Read more bytes into c->buf (growing it up to MAX_BUF). 1 read, 0 EOF, -1 error/full. */
static int conn_read(struct conn *c)
{
    if (c->len == c->cap) {
        if (c->cap >= MAX_BUF)
            return -1;
        size_t ncap = c->cap ? c->cap * 2 : 16384;
        if (ncap > MAX_BUF)
            ncap = MAX_BUF;
        char *nb = realloc(c->buf, ncap + 1);
        if (!nb)
            return -1;
        c->buf = nb, c->cap = ncap;
    }
    for (;;) {
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
        return 1;
    }
}

static const char *header(struct req *r, const char *name)
{
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->hname[i], name) == 0)
            return r->hval[i];
    return NULL;
}

static int has_token(const char *v, const char *tok)
{
    return v && strcasestr(v, tok) != NULL;
}

/* Find the end of the line starting at pos in c->buf (index of '\n'), reading more as
 * needed; -1 on EOF/error/overlong line. */
static long find_line(struct conn *c, size_t pos)
{
    for (;;) {
        for (size_t i = pos; i < c->len; i++)
            if (c->buf[i] == '\n')
                return (long)i;
        if (c->len - pos > 4096 || conn_read(c) <= 0)
            return -1;
    }
}

static int need_bytes(struct conn *c, size_t n)
{
    while (c->len < n)
        if (conn_read(c) <= 0)
            return -1;
    return 0;
}

/* Read and parse a request. Returns 0 ok, 1 nothing sent (quiet close), or an HTTP
 * error code to answer with. */
static int read_request(struct conn *c, struct req *r)
{
    size_t head_len = 0, head_end = 0;
    for (;;) {
        char *p = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        char *q = c->len ? memmem(c->buf, c->len, "\n\n", 2) : NULL;
        if (p && (!q || p < q))
            head_len = (size_t)(p - c->buf), head_end = head_len + 4;
        else if (q)
            head_len = (size_t)(q - c->buf), head_end = head_len + 2;
        if (head_end)
            break;
        if (c->len >= MAX_HEAD)
            return 431;
        int rd = conn_read(c);
        if (rd <= 0)
            return c->len == 0 ? 1 : 400;
    }
    if (head_len > MAX_HEAD)
        return 431;
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = '\0';

    /* request line */
    char *save = NULL, *line = strtok_r(r->head, "\n", &save);
    if (!line)
        return 400;
    while (*line == '\r' || *line == ' ')
        line++;
    line = trim(line);
    char *sp = NULL;
    r->method = strtok_r(line, " ", &sp);
    r->target = strtok_r(NULL, " ", &sp);
    r->version = strtok_r(NULL, " ", &sp);
    if (!r->method || !r->target || !r->version || strncmp(r->version, "HTTP/", 5) != 0 ||
        strlen(r->method) > 32)
        return 400;
    for (char *m = r->method; *m; m++)
        if (!isupper((unsigned char)*m) && *m != '-' && *m != '_')
            return 400;

    /* headers */
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *colon = strchr(line, ':');
        if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
            continue; /* malformed or obsolete folding: ignored */
        if (r->nh >= MAX_HEADERS)
            return 431;
        *colon = '\0';
        r->hname[r->nh] = trim(line);
        r->hval[r->nh] = trim(colon + 1);
        r->nh++;
    }

    /* target: origin-form, or absolute-form (strip scheme://authority) */
    char *t = r->target;
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0 ||
        strncasecmp(t, "ws://", 5) == 0) {
        t = strstr(t, "://") + 3;
        t = strchr(t, '/');
        if (!t)
            t = "/";
    }
    char *qm = strchr(t, '?');
    size_t plen = qm ? (size_t)(qm - t) : strlen(t);
    r->query = qm ? qm + 1 : "";
    char *hash = strchr(r->query, '#');
    if (hash)
        *hash = '\0';
    r->path = url_decode(t, plen, 0);
    if (!r->path)
        return 500;

    /* body */
    r->body = calloc(1, 1);
    r->body_len = 0;
    const char *te = header(r, "Transfer-Encoding");
    const char *cl = header(r, "Content-Length");
    int chunked = has_token(te, "chunked");
    size_t want = 0;
    if (!chunked && cl) {
        if (!*cl || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12)
            return 400;
        want = (size_t)strtoull(cl, NULL, 10);
        if (want > MAX_BODY)
            return 413;
    }
    if ((chunked || want > 0) && c->len == head_end && has_token(header(r, "Expect"), "100-continue")) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        write_all(c->fd, cont, sizeof cont - 1);
    }
    if (chunked) {
        size_t pos = head_end;
        char *body = malloc(MAX_BODY + 1);
        if (!body)
            return 500;
        free(r->body);
        r->body = body;
        for (;;) {
            long eol = find_line(c, pos);
            if (eol < 0)
                return 400;
            char *endp;
            errno = 0;
            unsigned long long n = strtoull(c->buf + pos, &endp, 16);
            if (endp == c->buf + pos || errno)
                return 400;
            pos = (size_t)eol + 1;
            if (n == 0) { /* trailers until an empty line */
                for (;;) {
                    eol = find_line(c, pos);
                    if (eol < 0)
                        return 400;
                    size_t l = (size_t)eol - pos;
                    pos = (size_t)eol + 1;
                    if (l == 0 || (l == 1 && c->buf[eol - 1] == '\r'))
                        break;
                }
                break;
            }
            if (n > MAX_BODY || r->body_len + n > MAX_BODY)
                return 413;
            if (need_bytes(c, pos + (size_t)n) < 0)
                return 400;
            memcpy(r->body + r->body_len, c->buf + pos, (size_t)n);
            r->body_len += (size_t)n;
            pos += (size_t)n;
            eol = find_line(c, pos); /* the CRLF after the chunk data */
            if (eol < 0)
                return 400;
            pos = (size_t)eol + 1;
        }
        r->body[r->body_len] = '\0';
    } else if (want > 0) {
        if (need_bytes(c, head_end + want) < 0)
            return 400;
        free(r->body);
        r->body = malloc(want + 1);
        if (!r->body)
            return 500;
        memcpy(r->body, c->buf + head_end, want);
        r->body[want] = '\0';
        r->body_len = want;
    }
    return 0;
}

/* ----------------------------------------------------------------- responses */

static int is_head;

static void respond(struct conn *c, struct req *r, int code, const char *extra, const char *body)
{
    char out[8192];
    size_t blen = strlen(body);
    int nobody = is_head || code == 204 || code == 304 || code < 200;
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nServer: n2c-testserver\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     code, reason(code), (code == 204 || code == 304) ? (size_t)0 : blen, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof out)
        n = 0;
    write_all(c->fd, out, (size_t)n);
    if (!nobody)
        write_all(c->fd, body, blen);
    logmsg("%s \"%s %s\" %d", c->peer, r && r->method ? r->method : "-", r && r->target ? r->target : "-",
           code);
}

/* Iterate over query parameters: returns 1 and sets *k and *v (malloc'd, decoded). */
static int next_param(const char **qs, char **k, char **v)
{
    const char *s = *qs;
    while (*s == '&')
        s++;
    if (!*s)
        return 0;
    const char *amp = strchr(s, '&');
    size_t n = amp ? (size_t)(amp - s) : strlen(s);
    const char *eq = memchr(s, '=', n);
    if (eq) {
        *k = url_decode(s, (size_t)(eq - s), 1);
        *v = url_decode(eq + 1, n - (size_t)(eq - s) - 1, 1);
    } else {
        *k = url_decode(s, n, 1);
        *v = url_decode("", 0, 1);
    }
    *qs = s + n;
    return *k && *v;
}

/* First value of parameter name (malloc'd) or NULL. */
static char *param(struct req *r, const char *name)
{
    const char *qs = r->query;
    char *k, *v;
    while (next_param(&qs, &k, &v)) {
        int hit = strcmp(k, name) == 0;
        free(k);
        if (hit)
            return v;
        free(v);
    }
    return NULL;
}

static void route_expect(struct conn *c, struct req *r)
{
    char msg[1024];
    int code = 200;
    char *p = param(r, "code");
    if (p) {
        code = parse_code(p);
        free(p);
        if (code < 0) {
            respond(c, r, 400, NULL, "bad code (want 200..599)");
            return;
        }
    }
    if ((p = param(r, "method")) != NULL) {
        int ok = strcmp(p, r->method) == 0;
        snprintf(msg, sizeof msg, "method is %s, expected %.200s", r->method, p);
        free(p);
        if (!ok) {
            respond(c, r, 417, NULL, msg);
            return;
        }
    }
    if ((p = param(r, "body")) != NULL) {
        int ok = strlen(p) == r->body_len && memcmp(p, r->body, r->body_len) == 0;
        snprintf(msg, sizeof msg, "body is '%.200s', expected '%.200s'", r->body, p);
        free(p);
        if (!ok) {
            respond(c, r, 417, NULL, msg);
            return;
        }
    }
    const char *qs = r->query;
    char *k, *v;
    while (next_param(&qs, &k, &v)) {
        int is_h = strcmp(k, "header") == 0;
        free(k);
        if (!is_h) {
            free(v);
            continue;
        }
        char *colon = strchr(v, ':');
        if (!colon || colon == v) {
            free(v);
            respond(c, r, 400, NULL, "bad header= parameter (want Name:Value)");
            return;
        }
        *colon = '\0';
        char *name = trim(v), *want = trim(colon + 1);
        const char *seen = NULL;
        int ok = 0;
        for (int i = 0; i < r->nh; i++)
            if (strcasecmp(r->hname[i], name) == 0) {
                seen = r->hval[i];
                if (strcmp(r->hval[i], want) == 0)
                    ok = 1;
            }
        if (!ok) {
            if (seen)
                snprintf(msg, sizeof msg, "header %.100s is '%.200s', expected '%.200s'", name, seen, want);
            else
                snprintf(msg, sizeof msg, "header %.100s missing, expected '%.200s'", name, want);
            free(v);
            respond(c, r, 417, NULL, msg);
            return;
        }
        free(v);
    }
    snprintf(msg, sizeof msg, "method=%s body=%.400s", r->method, r->body);
    respond(c, r, code, NULL, msg);
}

static void route_state(struct conn *c, struct req *r)
{
    char msg[128];
    char *set = param(r, "set");
    if (set) {
        int code = parse_code(set);
        free(set);
        if (code < 0) {
            respond(c, r, 400, NULL, "bad code (want 200..599)");
            return;
        }
        char tmp[64];
        snprintf(tmp, sizeof tmp, STATE_FILE ".%d", (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char line[8];
        int n = snprintf(line, sizeof line, "%d\n", code);
        if (fd < 0 || write_all(fd, line, (size_t)n) < 0 || close(fd) < 0 || rename(tmp, STATE_FILE) < 0) {
            unlink(tmp);
            respond(c, r, 500, NULL, "cannot write " STATE_FILE);
            return;
        }
        snprintf(msg, sizeof msg, "state set to %d", code);
        respond(c, r, 200, NULL, msg);
        return;
    }
    int code = 200;
    int fd = open(STATE_FILE, O_RDONLY);
    if (fd >= 0) {
        char b[16] = {0};
        ssize_t n = read(fd, b, sizeof b - 1);
        close(fd);
        if (n > 0) {
            b[strcspn(b, "\r\n")] = '\0';
            int x = parse_code(trim(b));
            if (x > 0)
                code = x;
        }
    }
    snprintf(msg, sizeof msg, "state %d", code);
    respond(c, r, code, NULL, msg);
}

static void websocket(struct conn *c, struct req *r, const char *key)
{
    unsigned char dig[20];
    char acc[40], out[512];
    sha1_ctx s;
    sha1_init(&s);
    sha1_update(&s, key, strlen(key));
    sha1_update(&s, WS_GUID, strlen(WS_GUID));
    sha1_final(&s, dig);
    base64(dig, 20, acc);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
    write_all(c->fd, out, (size_t)n);

    char *say = param(r, "say");
    const char *msg = say ? say : "pong";
    size_t ml = strlen(msg);
    unsigned char fh[10];
    size_t hl;
    fh[0] = 0x81; /* FIN + text */
    if (ml < 126) {
        fh[1] = (unsigned char)ml, hl = 2;
    } else if (ml < 65536) {
        fh[1] = 126, fh[2] = (unsigned char)(ml >> 8), fh[3] = (unsigned char)ml, hl = 4;
    } else {
        fh[1] = 127, hl = 10;
        for (int i = 0; i < 8; i++)
            fh[2 + i] = (unsigned char)((uint64_t)ml >> (56 - 8 * i));
    }
    write_all(c->fd, fh, hl);
    write_all(c->fd, msg, ml);
    logmsg("%s \"%s %s\" 101 websocket, sent %zu bytes", c->peer, r->method, r->target, ml);
    free(say);

    /* Hold the connection ~5 s; stop early on EOF or a close frame from the client. */
    alarm(WS_HOLD_MS / 1000 + 10);
    unsigned char in[4096];
    size_t il = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *why = "timeout";
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= WS_HOLD_MS)
            break;
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pf, 1, (int)(WS_HOLD_MS - el));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t rd = read(c->fd, in + il, sizeof in - il);
        if (rd < 0 && errno == EINTR)
            continue;
        if (rd <= 0) {
            logmsg("%s websocket closed by client", c->peer);
            return;
        }
        il += (size_t)rd;
        /* parse complete frames; reply to a close frame and finish */
        for (;;) {
            if (il < 2)
                break;
            uint64_t pl = in[1] & 0x7f;
            size_t off = 2;
            if (pl == 126) {
                if (il < 4)
                    break;
                pl = (uint64_t)in[2] << 8 | in[3], off = 4;
            } else if (pl == 127) {
                if (il < 10)
                    break;
                pl = 0;
                for (int i = 0; i < 8; i++)
                    pl = pl << 8 | in[2 + i];
                off = 10;
            }
            if (in[1] & 0x80)
                off += 4;
            if (pl > sizeof in || off + pl > sizeof in) { /* too big to buffer: drop it */
                il = 0;
                break;
            }
            if (il < off + pl)
                break;
            if ((in[0] & 0x0f) == 0x8) {
                why = "close frame from client";
                goto done;
            }
            memmove(in, in + off + pl, il - off - (size_t)pl);
            il -= off + (size_t)pl;
        }
        if (il == sizeof in)
            il = 0;
    }
done:;
    static const unsigned char close_frame[] = {0x88, 0x02, 0x03, 0xE8}; /* 1000 normal */
    write_all(c->fd, close_frame, sizeof close_frame);
    shutdown(c->fd, SHUT_WR);
    logmsg("%s websocket closing (%s)", c->peer, why);
}

static void handle(int fd, const struct sockaddr_storage *sa)
{
    static struct req r;
    struct conn c = {.fd = fd};
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
    }
    snprintf(c.peer, sizeof c.peer, "%s:%d", host, port);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    memset(&r, 0, sizeof r);
    int err = read_request(&c, &r);
    if (err == 1)
        return;
    if (err) {
        respond(&c, &r, err, NULL, err == 413 ? "request body too large" : err == 431 ? "request head too large"
                                                                                     : "bad request");
        return;
    }
    is_head = strcmp(r.method, "HEAD") == 0;

    const char *key = header(&r, "Sec-WebSocket-Key");
    if (strcmp(r.method, "GET") == 0 && has_token(header(&r, "Upgrade"), "websocket") && key && *key) {
        websocket(&c, &r, key);
        return;
    }

    char msg[128];
    if (strncmp(r.path, "/status/", 8) == 0) {
        int code = parse_code(r.path + 8);
        if (code < 0) {
            respond(&c, &r, 400, NULL, "bad status code (want /status/200..599)");
            return;
        }
        snprintf(msg, sizeof msg, "status %d", code);
        respond(&c, &r, code, NULL, msg);
    } else if (strcmp(r.path, "/expect") == 0) {
        route_expect(&c, &r);
    } else if (strcmp(r.path, "/state") == 0) {
        route_state(&c, &r);
    } else if (strcmp(r.path, "/redirect") == 0) {
        respond(&c, &r, 302, "Location: /status/200\r\n", "redirect to /status/200");
    } else if (strcmp(r.path, "/ok") == 0) {
        respond(&c, &r, 200, NULL, "ok");
    } else {
        respond(&c, &r, 404, NULL, "not found");
    }
}

/* ---------------------------------------------------------------------- main */

static void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

static int listen_on(int family, int port, struct in_addr addr)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr = addr;
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        a.sin6_addr = in6addr_any;
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (rc < 0 || listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: n2c-testserver [ADDRESS:]PORT [[ADDRESS:]PORT...]\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_flags = SA_NOCLDWAIT; /* children are reaped automatically */
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = on_term; /* also needed as PID 1, where default actions don't apply */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct pollfd pfd[MAX_LISTEN];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char host[64] = "0.0.0.0";
        const char *spec = argv[i];
        const char *colon = strrchr(spec, ':');
        struct in_addr addr = {.s_addr = htonl(INADDR_ANY)};
        if (colon) {
            size_t len = (size_t)(colon - spec);
            if (len == 0 || len >= sizeof host) {
                fprintf(stderr, "n2c-testserver: bad address in '%s'\n", spec);
                return 2;
            }
            memcpy(host, spec, len);
            host[len] = '\0';
            if (inet_pton(AF_INET, host, &addr) != 1) {
                fprintf(stderr, "n2c-testserver: bad IPv4 address in '%s'\n", spec);
                return 2;
            }
            spec = colon + 1;
        }
        char *end;
        long port = strtol(spec, &end, 10);
        if (*spec == '\0' || *end || port < 1 || port > 65535) {
            fprintf(stderr, "n2c-testserver: bad port '%s'\n", argv[i]);
            return 2;
        }
        if (n + 2 > MAX_LISTEN) {
            fprintf(stderr, "n2c-testserver: too many ports\n");
            return 2;
        }
        int fd = listen_on(AF_INET, (int)port, addr);
        if (fd < 0) {
            fprintf(stderr, "n2c-testserver: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
            return 1;
        }
        pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        fd = colon ? -1 : listen_on(AF_INET6, (int)port, addr); /* best effort, for all addresses */
        if (fd >= 0)
            pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        logmsg("listening on %s:%ld%s", host, port, fd >= 0 ? " and [::]" : "");
    }

    for (;;) {
        int pr = poll(pfd, (nfds_t)n, -1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            logmsg("poll: %s", strerror(errno));
            sleep(1);
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            int cfd = accept4(pfd[i].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
            if (cfd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                    usleep(100000);
                continue;
            }
            pid_t pid = fork();
            if (pid == 0) {
                for (int j = 0; j < n; j++)
                    close(pfd[j].fd);
                alarm(30); /* a stuck connection never outlives this */
                handle(cfd, &ss);
                shutdown(cfd, SHUT_WR);
                /* drain briefly so the peer sees a clean close rather than a reset */
                struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
                setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                char junk[4096];
                for (int k = 0; k < 64 && read(cfd, junk, sizeof junk) > 0; k++)
                    ;
                close(cfd);
                _exit(0);
            }
            if (pid < 0) { /* cannot fork: handle it here */
                handle(cfd, &ss);
                close(cfd);
            }
            else
                close(cfd);
        }
    }
}
