/* libmicrohttpd glue: daemon start/stop, per-request state, security checks in front of
 * every request, API dispatch through the route table, embedded assets with gzip / ETag. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_net.h"
#include "http_int.h"
#include "banned.h"

#define TOKEN_COOKIE "datamate_token"

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct dm_http_server {
    struct MHD_Daemon *daemon;
    struct dm_http_app app;
    char *token;
    unsigned port;
    int loopback;
};

/* Per-request state, created by the URI callback, freed when the request completes. */
struct conn {
    struct dm__http_req req;
    char *uri; /* raw request target (path?query), NULL when too long */
    size_t urilen;
    int too_long;
};

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct conn *st = dm_calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    size_t n = strlen(uri);
    if (n > DM_HTTP_MAX_URI) {
        st->too_long = 1;
    } else {
        st->uri = dm_strndup(uri, n);
        st->urilen = n;
    }
    dm_buf_init(&st->req.body, DM_HTTP_MAX_BODY);
    return st;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *st = *con_cls;
    if (!st)
        return;
    dm_buf_release(&st->req.body);
    dm_free(st->uri);
    dm_free(st);
    *con_cls = NULL;
}

static void security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

/* Queues a copied buffer with the security headers; the status decides caching. */
static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
                                const char *data, size_t len, const char *cookie)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    security_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error_at(struct MHD_Connection *c, unsigned status, int api,
                                     const char *msg, int64_t offset)
{
    if (api) {
        struct dm_buf b;
        dm_buf_init(&b, 4096);
        if (dm__http_error_json(&b, msg, offset)) {
            /* no memory for the message: still answer, with a constant body */
            static const char oom[] = "{\"error\": \"out of memory\"}\n";
            dm_buf_release(&b);
            return send_buf(c, 503, "application/json; charset=utf-8", oom, sizeof(oom) - 1,
                            NULL);
        }
        enum MHD_Result ok =
            send_buf(c, status, "application/json; charset=utf-8", b.data, b.len, NULL);
        dm_buf_release(&b);
        return ok;
    }
    char text[512];
    int n = snprintf(text, sizeof(text), "%s\n", msg);
    if (n < 0)
        return MHD_NO;
    return send_buf(c, status, "text/plain; charset=utf-8", text,
                    (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, int api,
                                  const char *msg)
{
    return send_error_at(c, status, api, msg, -1);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct dm__http_stream *s = cls;
    ssize_t n = s->fill(s->ctx, buf, max);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_free(void *cls)
{
    struct dm__http_stream *s = cls;
    if (s->free)
        s->free(s->ctx);
    dm_free(s);
}

static enum MHD_Result serve_api(struct MHD_Connection *c, struct conn *st,
                                 const struct dm__http_route *route, const char *cookie)
{
    struct dm__http_req *q = &st->req;
    q->content_type = "application/json; charset=utf-8";
    q->disposition[0] = '\0';
    dm_error_clear(&q->err);
    int rc = route->fn(q);
    if (rc) {
        if (q->stream.free)
            q->stream.free(q->stream.ctx);
        const char *msg = q->err.msg[0] ? q->err.msg : dm_strerror(rc);
        return send_error_at(c, dm__http_status_for(rc), 1, msg,
                             rc == DM_EPARSE ? q->err.offset : -1);
    }
    struct MHD_Response *r;
    if (q->stream.fill) {
        struct dm__http_stream *s = dm_malloc(sizeof(*s));
        if (!s) {
            if (q->stream.free)
                q->stream.free(q->stream.ctx);
            return send_error(c, 503, 1, "out of memory");
        }
        *s = q->stream;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_reader, s,
                                              stream_free);
        if (!r) {
            stream_free(s);
            return MHD_NO;
        }
    } else {
        r = MHD_create_response_from_buffer(q->body.len, q->body.data ? q->body.data : (void *)"",
                                            MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
    }
    security_headers(r);
    MHD_add_response_header(r, "Content-Type", q->content_type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (q->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", q->disposition);
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result serve_asset(struct MHD_Connection *c, const struct dm_asset *a,
                                   const char *cookie)
{
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    int not_modified = dm_http_etag_match(inm, a->etag);
    int gz = a->gz && dm_http_accepts_gzip(
                          MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    struct MHD_Response *r;
    if (not_modified)
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(gz ? a->gzlen : a->len,
                                            (void *)(uintptr_t)(gz ? a->gz : a->data),
                                            MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    security_headers(r);
    MHD_add_response_header(r, "ETag", a->etag);
    MHD_add_response_header(r, "Cache-Control",
                            a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (a->gz)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (!not_modified) {
        MHD_add_response_header(r, "Content-Type", a->mime);
        if (gz)
            MHD_add_response_header(r, "Content-Encoding", "gzip");
    }
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    enum MHD_Result ok = MHD_queue_response(c, not_modified ? 304 : 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* 1 when the request carries the server's token (query, cookie or bearer header); sets
 * *set_cookie when it came in the query so the browser keeps it. */
static int token_ok(const struct dm_http_server *srv, struct MHD_Connection *c,
                    const struct dm_http_params *p, int *set_cookie)
{
    *set_cookie = 0;
    const char *t = dm_http_param(p, "token");
    if (t && dm_http_token_equal(srv->token, t, strlen(t))) {
        *set_cookie = 1;
        return 1;
    }
    const char *v;
    long n = dm_http_cookie_get(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"),
                                TOKEN_COOKIE, &v);
    if (n >= 0 && dm_http_token_equal(srv->token, v, (size_t)n))
        return 1;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncmp(auth, "Bearer ", 7) &&
        dm_http_token_equal(srv->token, auth + 7, strlen(auth + 7)))
        return 1;
    return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct dm_http_server *srv = cls;
    struct conn *st = *con_cls;
    int api = !strncmp(url, "/api/", 5);
    if (!st)
        return send_error(c, 503, api, "out of memory");
    int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (*upload_data_size) {
        *upload_data_size = 0; /* a GET with a body: ignore the body */
        return MHD_YES;
    }
    if (!is_get) {
        /* constant body: a refusal needs no allocation of ours */
        static const char msg[] = "{\"error\": \"method not allowed (only GET)\"}\n";
        struct MHD_Response *r = MHD_create_response_from_buffer(
            sizeof(msg) - 1, (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        security_headers(r);
        MHD_add_response_header(r, "Allow", "GET, HEAD");
        MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
        enum MHD_Result ok = MHD_queue_response(c, 405, r);
        MHD_destroy_response(r);
        return ok;
    }
    if (st->too_long)
        return send_error(c, 414, api, "request URI too long");
    if (!st->uri)
        return send_error(c, 503, api, "out of memory");
    if (!dm_http_host_allowed(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
                              srv->loopback, srv->port))
        return send_error(c, 403, api,
                          "forbidden: unexpected Host header (open the URL printed by "
                          "'datamate serve')");

    const char *qm = memchr(st->uri, '?', st->urilen);
    const char *query = qm ? qm + 1 : "";
    size_t qlen = qm ? st->urilen - (size_t)(qm + 1 - st->uri) : 0;
    struct dm__http_req *q = &st->req;
    struct dm_error err;
    dm_error_clear(&err);
    int prc = dm_http_params_parse(&q->params, query, qlen, &err);

    char cookie[160];
    const char *set_cookie = NULL;
    if (srv->token) {
        int fresh = 0;
        if (prc || !token_ok(srv, c, &q->params, &fresh))
            return send_error(c, 401, api,
                              "unauthorized: open the URL with the ?token=... printed by "
                              "'datamate serve'");
        if (fresh) {
            snprintf(cookie, sizeof(cookie),
                     TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", srv->token);
            set_cookie = cookie;
        }
    }
    if (api) {
        const struct dm__http_route *route = dm__http_route_find(url);
        if (!route)
            return send_error(c, 404, 1, "no such endpoint");
        if (prc)
            return send_error(c, dm__http_status_for(prc), 1, err.msg);
        q->app = &srv->app;
        q->path = url;
        return serve_api(c, st, route, set_cookie);
    }
    const struct dm_asset *a = dm_http_asset_find(url);
    if (!a)
        return send_error(c, 404, 0, "not found");
    return serve_asset(c, a, set_cookie);
}

/* Fills a socket address for host:port; *v6 set for IPv6. 0 or -EINVAL. */
static int make_addr(const char *host, unsigned port, struct sockaddr_storage *ss, int *v6)
{
    memset(ss, 0, sizeof(*ss));
    if (!host || !strcmp(host, "localhost"))
        host = "127.0.0.1";
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return 0;
    }
    return -EINVAL;
}

int dm_http_server_start(struct dm_http_server **out, const struct dm_http_app *app,
                         const struct dm_http_server_opts *o, struct dm_error *err)
{
    *out = NULL;
    struct sockaddr_storage ss;
    int v6;
    const char *host = o->host ? o->host : "127.0.0.1";
    if (o->port > 65535 || make_addr(host, o->port, &ss, &v6))
        return dm_error_set(err, -EINVAL, "cannot listen on '%s': not an IP address", host);
    struct dm_http_server *s = dm_calloc(1, sizeof(*s));
    if (!s)
        return dm_error_set(err, -ENOMEM, "out of memory");
    s->app = *app;
    s->loopback = !strcmp(host, "localhost") || dm_http_is_loopback_name(host, strlen(host));
    if (o->token && !(s->token = dm_strdup(o->token))) {
        dm_free(s);
        return dm_error_set(err, -ENOMEM, "out of memory");
    }
    unsigned threads = o->threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 30u,
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 256u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(DM_HTTP_MAX_URI + 32 * 1024),
        MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        int e = errno;
        dm_free(s->token);
        dm_free(s);
        if (e == EADDRINUSE)
            return dm_error_set(err, -EADDRINUSE, "cannot listen on %s:%u: address in use",
                                host, o->port);
        return dm_error_set(err, -EIO, "cannot listen on %s:%u: %s", host, o->port,
                            e ? strerror(e) : "server start failed");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info && info->port ? info->port : o->port;
    *out = s;
    return 0;
}

unsigned dm_http_server_port(const struct dm_http_server *s)
{
    return s->port;
}

int dm_http_server_loopback(const struct dm_http_server *s)
{
    return s->loopback;
}

void dm_http_server_stop(struct dm_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    dm_free(s->token);
    dm_free(s);
}
