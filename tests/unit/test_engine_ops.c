/* Operations on the fixture table with exact expected results, their output shapes, and a
 * larger generated table checked against a naive row-by-row computation (parallel merges). */
#include "dm_test.h"

#include "dm_buf.h"
#include "engine_fixture.h"

static struct fx F;

static struct dm_filter *compile(const char *e)
{
    struct dm_filter *f = NULL;
    struct dm_error err;
    int rc = dm_filter_compile(&f, F.t, e, strlen(e), &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    return f;
}

static const char *ids(const struct dm_rows_res *r)
{
    static char out[256];
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < r->n; i++)
        k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%u", i ? "," : "", fx_id(&F, r->rows[i]));
    return out;
}

static const char *rows(const char *where, int col, int desc, uint64_t off, uint64_t lim,
                        uint64_t *total)
{
    struct dm_filter *f = where ? compile(where) : NULL;
    struct dm_rows_req q = {f, col, desc, off, lim};
    struct dm_rows_res r;
    assert_int_equal(dm_rows(F.t, &q, &r, NULL), 0);
    const char *s = ids(&r);
    *total = r.total;
    dm_rows_res_release(&r);
    dm_filter_free(f);
    return s;
}

static void test_rows(void **state)
{
    (void)state;
    uint64_t total;
    assert_string_equal(rows(NULL, DM_C_TS, 0, 0, 3, &total), "0,1,2");
    assert_int_equal(total, 10);
    assert_string_equal(rows(NULL, DM_C_TS, 1, 1, 2, &total), "8,7");
    assert_string_equal(rows(NULL, DM_C_TS, 0, 8, 5, &total), "8,9");
    assert_string_equal(rows(NULL, DM_C_TS, 0, 10, 5, &total), "");
    assert_int_equal(total, 10);
    assert_string_equal(rows(NULL, DM_C_SENT, 1, 0, 3, &total), "5,1,4");
    assert_string_equal(rows(NULL, DM_COL_BYTES, 0, 0, 2, &total), "7,6");
    assert_string_equal(rows(NULL, DM_C_DPORT, 0, 0, 0, &total), "5,4,0,6,7,1,2,9,3,8");
    /* nulls last in both directions */
    assert_string_equal(rows(NULL, DM_C_DPORT, 1, 0, 0, &total), "3,9,1,2,6,7,0,4,5,8");
    assert_string_equal(rows(NULL, DM_C_SRC, 0, 0, 0, &total), "0,1,5,2,7,8,6,3,4,9");
    assert_string_equal(rows(NULL, DM_C_ACTION, 0, 0, 0, &total), "0,1,3,5,8,9,2,6,4,7");
    assert_string_equal(rows("src internal", DM_C_RECV, 1, 1, 2, &total), "5,2");
    assert_int_equal(total, 8);
    assert_string_equal(rows("dport = 443 or dport = 80", DM_C_TS, 0, 1, 2, &total), "2,6");
    assert_int_equal(total, 4);
    assert_string_equal(rows("dport = 443 or dport = 80", DM_C_TS, 1, 0, 10, &total), "7,6,2,1");
    assert_string_equal(rows("ts >= 2024-03-01T12", DM_C_TS, 0, 0, 0, &total), "6,7,8,9");
    assert_int_equal(total, 4);
    assert_string_equal(rows("dport = 9", DM_C_SENT, 0, 0, 10, &total), "");
    assert_int_equal(total, 0);
    /* deep page: collect-all path (offset + limit above the heap bound) */
    assert_string_equal(rows(NULL, DM_C_SENT, 0, 7, 70000, &total), "4,1,5");
}

static char *render_top(const char *where, enum dm_top_key key, int extra, enum dm_metric by,
                        size_t limit, enum dm_format fmt)
{
    struct dm_filter *f = where ? compile(where) : NULL;
    struct dm_top_req q = {f, key, extra, by, limit};
    struct dm_top_res r;
    assert_int_equal(dm_top(F.t, &q, &r, NULL), 0);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    assert_int_equal(dm_write_top(&b, F.t, &r, fmt), 0);
    dm_top_res_release(&r);
    dm_filter_free(f);
    return dm_buf_detach(&b, NULL);
}

#define EXPECT_TOP(want, ...)                                                               \
    do {                                                                                    \
        char *got = render_top(__VA_ARGS__);                                                \
        assert_string_equal(got, want);                                                     \
        dm_free(got);                                                                       \
    } while (0)

static void test_top(void **state)
{
    (void)state;
    EXPECT_TOP("[{\"src\":\"10.0.0.1\",\"flows\":3,\"sent\":1005000100,\"recv\":6200,"
               "\"bytes\":1005006300,\"peers\":3},"
               "{\"src\":\"192.168.1.7\",\"flows\":1,\"sent\":700,\"recv\":90000,\"bytes\":90700,"
               "\"peers\":1},"
               "{\"src\":\"10.0.0.2\",\"flows\":2,\"sent\":2048,\"recv\":4096,\"bytes\":6144,"
               "\"peers\":2}]\n",
               NULL, DM_TOP_SRC, -1, DM_M_BYTES, 3, DM_FMT_JSON);
    EXPECT_TOP("src,flows,sent,recv,bytes,peers\n"
               "10.0.0.1,3,1005000100,6200,1005006300,3\n"
               "192.168.1.7,1,700,90000,90700,1\n"
               "10.0.0.2,2,2048,4096,6144,2\n"
               "2001:db8::1,1,3000,100,3100,1\n"
               "fe80::1,1,150,0,150,1\n"
               "10.0.0.3,1,64,64,128,1\n"
               "172.32.0.1,1,10,20,30,1\n",
               NULL, DM_TOP_SRC, -1, DM_M_BYTES, 0, DM_FMT_CSV);
    EXPECT_TOP("dst,flows,sent,recv,bytes,peers\n"
               "1.2.3.4,2,5002048,5096,5007144,2\n"
               "8.8.8.8,2,164,264,428,2\n"
               "10.0.0.2,1,10,20,30,1\n",
               NULL, DM_TOP_DST, -1, DM_M_FLOWS, 3, DM_FMT_CSV);
    EXPECT_TOP("{\"src\":\"10.0.0.1\",\"dst\":\"2001:db8::1\",\"flows\":1,\"sent\":1000000000,"
               "\"recv\":5000,\"bytes\":1000005000,\"peers\":1}\n"
               "{\"src\":\"10.0.0.1\",\"dst\":\"1.2.3.4\",\"flows\":1,\"sent\":5000000,"
               "\"recv\":1000,\"bytes\":5001000,\"peers\":1}\n",
               NULL, DM_TOP_PAIR, -1, DM_M_BYTES, 2, DM_FMT_JSONL);
    EXPECT_TOP("dport,flows,sent,recv,bytes,peers\n"
               "80,2,10,20,30,2\n443,2,5002048,5096,5007144,2\n22,1,1000000000,5000,1000005000,1\n"
               "25,1,3000,100,3100,1\n53,1,100,200,300,1\n547,1,150,0,150,1\n"
               "5432,1,700,90000,90700,1\n,1,64,64,128,1\n",
               NULL, DM_TOP_DPORT, -1, DM_M_FLOWS, 0, DM_FMT_CSV);
    EXPECT_TOP("action,flows,sent,recv,bytes,peers\n"
               "allow,6,1005001014,96264,1005097278,4\ndeny,2,2058,4116,6174,2\n"
               "drop,1,3000,100,3100,1\n,1,0,0,0,1\n",
               NULL, DM_TOP_ACTION, -1, DM_M_FLOWS, 0, DM_FMT_CSV);
    EXPECT_TOP("src,flows,sent,recv,bytes,peers\n10.0.0.1,3,1005000100,6200,1005006300,3\n"
               "10.0.0.2,2,2048,4096,6144,2\n10.0.0.3,1,64,64,128,1\n",
               NULL, DM_TOP_SRC, -1, DM_M_PEERS, 3, DM_FMT_CSV);
    EXPECT_TOP("proto,flows,sent,recv,bytes,peers\n6,7,1005005758,100216,1005105974,5\n"
               "17,2,250,200,450,2\n1,1,64,64,128,1\n",
               NULL, DM_TOP_PROTO, -1, DM_M_SENT, 0, DM_FMT_CSV);
    EXPECT_TOP("user,flows,sent,recv,bytes,peers\n,7,1000003924,95184,1000099108,7\n"
               "alice,2,5000100,1200,5001300,1\nbob,1,2048,4096,6144,1\n",
               NULL, DM_TOP_EXTRA, F.user_col, DM_M_FLOWS, 0, DM_FMT_CSV);
    EXPECT_TOP("dst,flows,sent,recv,bytes,peers\n1.2.3.4,2,5002048,5096,5007144,2\n",
               "dst external and dport = 443", DM_TOP_DST, -1, DM_M_BYTES, 5, DM_FMT_CSV);
    EXPECT_TOP("src       flows        sent  recv       bytes  peers\n"
               "10.0.0.1      3  1005000100  6200  1005006300      3\n",
               NULL, DM_TOP_SRC, -1, DM_M_BYTES, 1, DM_FMT_TABLE);
    EXPECT_TOP("[]\n", "dport = 9", DM_TOP_SRC, -1, DM_M_BYTES, 5, DM_FMT_JSON);
    struct dm_error err;
    enum dm_top_key k;
    int x;
    assert_int_equal(dm_top_key_parse(F.t, "dprot", &k, &x, &err), -EINVAL);
    assert_string_equal(err.msg, "unknown top key 'dprot' (did you mean 'dport'?)");
    assert_int_equal(dm_top_key_parse(F.t, "user", &k, &x, &err), 0);
    assert_int_equal(k, DM_TOP_EXTRA);
    assert_int_equal(x, F.user_col);
}

static char *render_hist(const char *where, int64_t bucket, enum dm_format fmt, int64_t *size)
{
    struct dm_filter *f = where ? compile(where) : NULL;
    struct dm_hist_req q = {f, bucket};
    struct dm_hist_res r;
    assert_int_equal(dm_hist(F.t, &q, &r, NULL), 0);
    *size = r.bucket_us;
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    assert_int_equal(dm_write_hist(&b, &r, fmt), 0);
    dm_hist_res_release(&r);
    dm_filter_free(f);
    return dm_buf_detach(&b, NULL);
}

static void test_hist(void **state)
{
    (void)state;
    int64_t size;
    char *s = render_hist(NULL, 60 * MIN, DM_FMT_CSV, &size);
    assert_string_equal(s, "ts,flows,sent,recv,egress\n"
                           "2024-03-01T10:00:00Z,4,5002848,95296,5002148\n"
                           "2024-03-01T11:00:00Z,2,1000003000,5100,1000000100\n"
                           "2024-03-01T12:00:00Z,2,10,20,20\n"
                           "2024-03-01T13:00:00Z,1,64,64,64\n"
                           "2024-03-01T14:00:00Z,0,0,0,0\n"
                           "2024-03-01T15:00:00Z,0,0,0,0\n"
                           "2024-03-01T16:00:00Z,0,0,0,0\n"
                           "2024-03-01T17:00:00Z,0,0,0,0\n"
                           "2024-03-01T18:00:00Z,0,0,0,0\n"
                           "2024-03-01T19:00:00Z,0,0,0,0\n"
                           "2024-03-01T20:00:00Z,0,0,0,0\n"
                           "2024-03-01T21:00:00Z,0,0,0,0\n"
                           "2024-03-01T22:00:00Z,0,0,0,0\n"
                           "2024-03-01T23:00:00Z,1,150,0,150\n");
    dm_free(s);
    s = render_hist("dport = 443", 0, DM_FMT_JSON, &size);
    assert_int_equal(size, MIN);
    assert_string_equal(s, "[{\"ts\":\"2024-03-01T10:05:00Z\",\"flows\":1,\"sent\":5000000,"
                           "\"recv\":1000,\"egress\":5000000},"
                           "{\"ts\":\"2024-03-01T10:06:00Z\",\"flows\":0,\"sent\":0,\"recv\":0,"
                           "\"egress\":0},{\"ts\":\"2024-03-01T10:07:00Z\",\"flows\":0,\"sent\":0,"
                           "\"recv\":0,\"egress\":0},{\"ts\":\"2024-03-01T10:08:00Z\",\"flows\":0,"
                           "\"sent\":0,\"recv\":0,\"egress\":0},{\"ts\":\"2024-03-01T10:09:00Z\","
                           "\"flows\":0,\"sent\":0,\"recv\":0,\"egress\":0},"
                           "{\"ts\":\"2024-03-01T10:10:00Z\",\"flows\":1,\"sent\":2048,\"recv\":4096,"
                           "\"egress\":2048}]\n");
    dm_free(s);
    /* auto over 14 hours: 5-minute buckets, 168 of them */
    struct dm_hist_req q = {NULL, 0};
    struct dm_hist_res r;
    assert_int_equal(dm_hist(F.t, &q, &r, NULL), 0);
    assert_int_equal(r.bucket_us, 5 * MIN);
    assert_int_equal(r.n, 168);
    dm_hist_res_release(&r);
    s = render_hist("dport = 9", 0, DM_FMT_JSON, &size);
    assert_string_equal(s, "[]\n");
    dm_free(s);
    int64_t us;
    assert_int_equal(dm_bucket_parse("15m", &us), 0);
    assert_int_equal(us, 15 * MIN);
    assert_int_equal(dm_bucket_parse("2m", &us), -EINVAL);
}

static char *render_graph(const char *seeds, int hops, size_t max, const char *where,
                          enum dm_format fmt)
{
    struct dm_cidr *sv;
    size_t ns;
    assert_int_equal(dm_graph_seeds_parse(seeds, strlen(seeds), &sv, &ns, NULL), 0);
    struct dm_filter *f = where ? compile(where) : NULL;
    struct dm_graph_req q = {f, sv, ns, hops, max};
    struct dm_graph_res r;
    assert_int_equal(dm_graph(F.t, &q, &r, NULL), 0);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    assert_int_equal(dm_write_graph(&b, F.t, &r, fmt), 0);
    dm_graph_res_release(&r);
    dm_filter_free(f);
    dm_free(sv);
    return dm_buf_detach(&b, NULL);
}

#define EXPECT_GRAPH(want, ...)                                                             \
    do {                                                                                    \
        char *got = render_graph(__VA_ARGS__);                                              \
        assert_string_equal(got, want);                                                     \
        dm_free(got);                                                                       \
    } while (0)

static void test_graph(void **state)
{
    (void)state;
    EXPECT_GRAPH(
        "{\"nodes\": [{\"ip\":\"10.0.0.1\",\"internal\":true,\"role\":null,\"filtered\":true,"
        "\"connections\":3,\"sent\":1005000100,\"recv\":6200},"
        "{\"ip\":\"2001:db8::1\",\"internal\":false,\"role\":null,\"filtered\":false,"
        "\"connections\":1,\"sent\":5000,\"recv\":1000000000},"
        "{\"ip\":\"1.2.3.4\",\"internal\":false,\"role\":null,\"filtered\":false,"
        "\"connections\":1,\"sent\":1000,\"recv\":5000000},"
        "{\"ip\":\"8.8.8.8\",\"internal\":false,\"role\":null,\"filtered\":false,"
        "\"connections\":1,\"sent\":200,\"recv\":100}], "
        "\"edges\": [{\"src\":\"10.0.0.1\",\"dst\":\"2001:db8::1\",\"flows\":1,\"bytes\":1000005000},"
        "{\"src\":\"10.0.0.1\",\"dst\":\"1.2.3.4\",\"flows\":1,\"bytes\":5001000},"
        "{\"src\":\"10.0.0.1\",\"dst\":\"8.8.8.8\",\"flows\":1,\"bytes\":300}], \"cut\": 0}\n",
        "10.0.0.1", 1, 0, NULL, DM_FMT_JSON);
    /* cap: the seed and its top peer by bytes */
    EXPECT_GRAPH("ip,internal,role,filtered,connections,sent,recv\n"
                 "10.0.0.1,true,,true,1,1000000000,5000\n"
                 "2001:db8::1,false,,false,1,5000,1000000000\n"
                 "\n"
                 "src,dst,flows,bytes\n"
                 "10.0.0.1,2001:db8::1,1,1000005000\n",
                 "10.0.0.1", 1, 2, NULL, DM_FMT_CSV);
    /* roles from known_servers */
    EXPECT_GRAPH("ip,internal,role,filtered,connections,sent,recv\n"
                 "10.0.0.5,true,DBSRV1,true,1,90000,700\n"
                 "192.168.1.7,true,,false,1,700,90000\n"
                 "\n"
                 "src,dst,flows,bytes\n"
                 "192.168.1.7,10.0.0.5,1,90700\n",
                 "10.0.0.5", 1, 0, NULL, DM_FMT_CSV);
    /* two hops: 1.2.3.4 is a peer of 10.0.0.2; its other peer 10.0.0.1 joins */
    EXPECT_GRAPH("ip,internal,role,filtered,connections,sent,recv\n"
                 "10.0.0.2,true,,true,3,2068,4106\n"
                 "1.2.3.4,false,,false,2,5096,5002048\n"
                 "10.0.0.1,true,,false,1,5000000,1000\n"
                 "172.32.0.1,false,,false,1,10,20\n"
                 "172.16.5.5,true,,false,1,0,0\n"
                 "\n"
                 "src,dst,flows,bytes\n"
                 "10.0.0.1,1.2.3.4,1,5001000\n"
                 "10.0.0.2,1.2.3.4,1,6144\n"
                 "172.32.0.1,10.0.0.2,1,30\n"
                 "10.0.0.2,172.16.5.5,1,0\n",
                 "10.0.0.2", 2, 0, NULL, DM_FMT_CSV);
    /* a CIDR seed and a filter */
    EXPECT_GRAPH("ip,internal,role,filtered,connections,sent,recv\n"
                 "10.0.0.1,true,,true,1,5000000,1000\n"
                 "10.0.0.2,true,,true,1,2048,4096\n"
                 "1.2.3.4,false,,false,2,5096,5002048\n"
                 "\n"
                 "src,dst,flows,bytes\n"
                 "10.0.0.1,1.2.3.4,1,5001000\n"
                 "10.0.0.2,1.2.3.4,1,6144\n",
                 "10.0.0.0/30", 1, 0, "dport = 443", DM_FMT_CSV);
    EXPECT_GRAPH("{\"nodes\": [], \"edges\": [], \"cut\": 0}\n", "10.9.9.9", 1, 0, NULL,
                 DM_FMT_JSON);
    struct dm_cidr *sv;
    size_t ns;
    struct dm_error err;
    assert_int_equal(dm_graph_seeds_parse("10.0.0.1,nope", 13, &sv, &ns, &err), -EINVAL);
    assert_string_equal(err.msg, "invalid IP address or CIDR 'nope'");
    assert_null(sv);
}

static void test_summary_and_rows_output(void **state)
{
    (void)state;
    struct dm_summary_res s;
    assert_int_equal(dm_summary(F.t, NULL, &s, NULL), 0);
    struct dm_buf b;
    dm_buf_init(&b, DM_BUF_UNLIMITED);
    assert_int_equal(dm_write_summary(&b, &s, DM_FMT_JSON), 0);
    assert_string_equal(b.data, "{\"rows\":10,\"first\":\"2024-03-01T10:00:00Z\","
                                "\"last\":\"2024-03-01T23:59:59.500Z\",\"sent\":1005006072,"
                                "\"recv\":100480,\"max_sent\":1000000000,\"max_recv\":90000,"
                                "\"distinct_ips\":13}\n");
    struct dm_filter *f = compile("dport = 443");
    assert_int_equal(dm_summary(F.t, f, &s, NULL), 0);
    assert_int_equal(s.rows, 2);
    assert_int_equal(s.distinct_ips, 3);
    dm_filter_free(f);
    f = compile("dport = 9");
    assert_int_equal(dm_summary(F.t, f, &s, NULL), 0);
    dm_buf_reset(&b);
    assert_int_equal(dm_write_summary(&b, &s, DM_FMT_TABLE), 0);
    assert_string_equal(b.data, "rows         0\nfirst        -\nlast         -\nsent         0\n"
                                "recv         0\nmax_sent     0\nmax_recv     0\n"
                                "distinct_ips 0\n");
    dm_filter_free(f);

    /* rows: every column kind, nulls, JSON and CSV */
    f = compile("ts >= 2024-03-01T12");
    struct dm_rows_req q = {f, DM_C_TS, 0, 0, 2};
    struct dm_rows_res r;
    assert_int_equal(dm_rows(F.t, &q, &r, NULL), 0);
    int cols[32];
    size_t nc = dm_columns_default(F.t, cols);
    assert_int_equal(nc, 13);
    dm_buf_reset(&b);
    assert_int_equal(dm_write_rows(&b, F.t, &r, cols, nc, DM_FMT_JSON), 0);
    assert_string_equal(
        b.data,
        "[{\"ts\":\"2024-03-01T12:00:00Z\",\"src_ip\":\"172.32.0.1\",\"dst_ip\":\"10.0.0.2\","
        "\"src_port\":12345,\"dst_port\":80,\"proto\":6,\"bytes_sent\":10,\"bytes_recv\":20,"
        "\"packets\":1,\"action\":\"deny\",\"duration_ms\":1,\"id\":6,\"user\":null},"
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"src_ip\":\"10.0.0.2\",\"dst_ip\":\"172.16.5.5\","
        "\"src_port\":33333,\"dst_port\":80,\"proto\":6,\"bytes_sent\":0,\"bytes_recv\":0,"
        "\"packets\":null,\"action\":null,\"duration_ms\":null,\"id\":7,\"user\":null}]\n");
    dm_buf_reset(&b);
    int some[] = {DM_C_TS, DM_C_SRC, DM_C_PACKETS, F.user_col};
    assert_int_equal(dm_write_rows(&b, F.t, &r, some, 4, DM_FMT_CSV), 0);
    assert_string_equal(b.data, "ts,src_ip,packets,user\n2024-03-01T12:00:00Z,172.32.0.1,1,\n"
                                "2024-03-01T12:00:00Z,10.0.0.2,,\n");
    dm_buf_reset(&b);
    assert_int_equal(dm_write_rows(&b, F.t, &r, some, 4, DM_FMT_TABLE), 0);
    assert_string_equal(b.data, "ts                    src_ip      packets  user\n"
                                "2024-03-01T12:00:00Z  172.32.0.1        1  \n"
                                "2024-03-01T12:00:00Z  10.0.0.2             \n");
    dm_rows_res_release(&r);
    dm_filter_free(f);
    dm_buf_release(&b);
}

static void test_memory_layout(void **state)
{
    (void)state;
    const struct dm_table *t = F.t;
    assert_int_equal(t->nrows, 10);
    assert_int_equal(t->cols[DM_C_SPORT].width, 2);
    assert_int_equal(t->cols[DM_C_PROTO].width, 1);
    assert_int_equal(t->cols[DM_C_SENT].width, 4);  /* max 1e9 fits u32 */
    assert_int_equal(t->cols[DM_C_RECV].width, 4);
    assert_int_equal(t->cols[DM_C_PACKETS].width, 2);
    assert_int_equal(t->cols[DM_C_ACTION].width, 1); /* 3 actions */
    assert_null(t->cols[DM_C_TS].valid);
    assert_non_null(t->cols[DM_C_PACKETS].valid);
    assert_null(t->cols[DM_C_SENT].valid);
    assert_int_equal(t->ips.n, 14); /* 13 addresses + id 0 */
    /* columns: 8 + 4 + 4 + 2 + 2 + 1 + 4 + 4 + 2 + 1 + 2 bytes a row, bitmaps of the 6
     * nullable ones (sport dport recv packets action duration), plus the IP table and the
     * action dictionary amortised over 10 rows */
    double per_flow = dm_table_canonical_bytes_per_flow(t);
    assert_true(per_flow * 10 >= 10 * 34 + 6 * 8 + 14 * (16 + 1 + 4 + 4));
    assert_true(dm_table_bytes(t) >= (size_t)(per_flow * 10));
    struct dm_ip ip;
    assert_int_equal(dm_ip_parse("10.0.0.5", 8, &ip), 0);
    uint32_t id = dm_table_ip_find(t, &ip);
    assert_true(id > 0);
    enum dm_role_kind k;
    assert_string_equal(dm_table_ip_role(t, id, &k), "DBSRV1");
    assert_int_equal(k, DM_ROLE_DB);
    assert_true(dm_ip_internal(t, id));
}

/* ---- a larger table: parallel partials vs a naive computation ---- */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_parallel_vs_naive(void **state)
{
    (void)state;
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_pool *pool = dm_pool_new(3);
    struct dm_table *t;
    assert_int_equal(dm_table_new(&t, &cfg, pool, ~0u), 0);
    enum { N = 70000, NSRC = 300 };
    uint64_t seed = 42;
    char src[32], dst[32];
    for (int i = 0; i < N; i++) {
        uint64_t a = rnd(&seed);
        snprintf(src, sizeof(src), "10.%u.%u.%u", (unsigned)(a % 3), (unsigned)(a >> 8) % 10,
                 (unsigned)(a % NSRC) % 100);
        snprintf(dst, sizeof(dst), "%u.%u.0.%u", (unsigned)(a >> 20) % 4 + 1, 9,
                 (unsigned)(a >> 30) % 50);
        struct dm_flow fl = {T0 + (int64_t)(a % 86400) * 1000000, src, dst, (int)(a % 65536),
                             (int)((a >> 16) % 1024), 6, (int64_t)(a % 100000),
                             (a & 1) ? (int64_t)((a >> 40) % 5000) : -1, -1, -1, NULL, NULL};
        assert_int_equal(dm_table_append(t, &fl), 0);
    }
    assert_int_equal(dm_table_finish(t, NULL), 0);
    assert_int_equal(t->nrows, N);
    /* 70000 flows, ~3200 addresses: everything a flow costs, the IP table included */
    assert_true(dm_table_canonical_bytes_per_flow(t) <= 40.0);
    const int64_t *ts = dm_table_ts(t);
    for (size_t i = 1; i < t->nrows; i++)
        assert_true(ts[i - 1] <= ts[i]);

    const char *e = "dport < 512 and src 10.1.0.0/16";
    struct dm_filter *f;
    assert_int_equal(dm_filter_compile(&f, t, e, strlen(e), NULL), 0);
    /* naive: per source sums */
    uint64_t *flows = dm_calloc(t->ips.n, 8), *sent = dm_calloc(t->ips.n, 8);
    uint64_t total = 0, egress_sum = 0, recv_sum = 0;
    struct dm_cidr c;
    assert_int_equal(dm_cidr_parse("10.1.0.0/16", 11, &c), 0);
    for (size_t r = 0; r < t->nrows; r++) {
        uint32_t s = dm_table_src(t)[r];
        if (dm_col_u64(&t->cols[DM_C_DPORT], r) >= 512 || !dm_cidr_contains(&c, &t->ips.ip[s]))
            continue;
        total++;
        flows[s]++;
        sent[s] += dm_col_u64(&t->cols[DM_C_SENT], r);
        egress_sum += dm_col_u64(&t->cols[DM_C_SENT], r); /* internal -> external */
        if (dm_col_present(&t->cols[DM_C_RECV], r))
            recv_sum += dm_col_u64(&t->cols[DM_C_RECV], r);
    }
    struct dm_top_req q = {f, DM_TOP_SRC, -1, DM_M_SENT, 1000};
    struct dm_top_res r;
    assert_int_equal(dm_top(t, &q, &r, NULL), 0);
    uint64_t seen = 0;
    for (size_t i = 0; i < r.n; i++) {
        uint32_t id = (uint32_t)r.v[i].key[0];
        assert_int_equal(r.v[i].flows, flows[id]);
        assert_int_equal(r.v[i].sent, sent[id]);
        if (i)
            assert_true(r.v[i - 1].sent >= r.v[i].sent);
        seen += r.v[i].flows;
    }
    assert_int_equal(seen, total);
    dm_top_res_release(&r);
    struct dm_hist_req hq = {f, 60 * MIN};
    struct dm_hist_res h;
    assert_int_equal(dm_hist(t, &hq, &h, NULL), 0);
    uint64_t hf = 0, he = 0, hr = 0;
    for (size_t i = 0; i < h.n; i++)
        hf += h.v[i].flows, he += h.v[i].egress, hr += h.v[i].recv;
    assert_int_equal(hf, total);
    assert_int_equal(he, egress_sum);
    assert_int_equal(hr, recv_sum);
    dm_hist_res_release(&h);
    struct dm_rows_req rq = {f, DM_C_SENT, 1, 5, 20};
    struct dm_rows_res rr;
    assert_int_equal(dm_rows(t, &rq, &rr, NULL), 0);
    assert_int_equal(rr.total, total);
    assert_int_equal(rr.n, 20);
    for (size_t i = 1; i < rr.n; i++)
        assert_true(dm_col_u64(&t->cols[DM_C_SENT], rr.rows[i - 1]) >=
                    dm_col_u64(&t->cols[DM_C_SENT], rr.rows[i]));
    dm_rows_res_release(&rr);
    struct dm_summary_res sm;
    assert_int_equal(dm_summary(t, f, &sm, NULL), 0);
    assert_int_equal(sm.rows, total);
    dm_filter_free(f);
    dm_free(flows);
    dm_free(sent);
    dm_table_free(t);
    dm_pool_free(pool);
    dm_config_release(&cfg);
}

/* Top pairs (radix-partitioned aggregation) against a naive [src][dst] matrix: every group,
 * the group count and the ranking, with and without a filter; `wide` puts a few sent values
 * above 2^32 (the 64-bit column and the per-thread side map for large sums). */
static void check_pairs(int wide)
{
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_pool *pool = dm_pool_new(3);
    struct dm_table *t;
    assert_int_equal(dm_table_new(&t, &cfg, pool, ~0u), 0);
    enum { N = 60000 };
    uint64_t seed = 7 + (uint64_t)wide;
    char src[32], dst[32];
    for (int i = 0; i < N; i++) {
        uint64_t a = rnd(&seed);
        snprintf(src, sizeof(src), "10.0.%u.%u", (unsigned)(a % 3), (unsigned)(a >> 8) % 97);
        snprintf(dst, sizeof(dst), "198.51.%u.%u", (unsigned)(a >> 20) % 2,
                 (unsigned)(a >> 30) % 61);
        int64_t sent = (int64_t)((a >> 12) % 100000);
        if (wide && a % 997 == 0)
            sent = 5000000000LL + (int64_t)(a % 1000);
        struct dm_flow fl = {T0 + (int64_t)(a % 86400) * 1000000, src, dst, 1, (int)(a % 7), 6,
                             sent, (int64_t)((a >> 40) % 3000), -1, -1, NULL, NULL};
        assert_int_equal(dm_table_append(t, &fl), 0);
    }
    assert_int_equal(dm_table_finish(t, NULL), 0);
    assert_int_equal(t->cols[DM_C_SENT].width, wide ? 8 : 4);
    size_t ni = t->ips.n;
    for (int filtered = 0; filtered < 2; filtered++) {
        struct dm_filter *f = NULL;
        if (filtered)
            assert_int_equal(dm_filter_compile(&f, t, "dport != 3", 10, NULL), 0);
        uint64_t *fl = dm_calloc(ni * ni, 8), *se = dm_calloc(ni * ni, 8), *re = dm_calloc(ni * ni, 8);
        uint64_t groups = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            if (filtered && dm_col_u64(&t->cols[DM_C_DPORT], r) == 3)
                continue;
            size_t k = (size_t)dm_table_src(t)[r] * ni + dm_table_dst(t)[r];
            groups += !fl[k]++;
            se[k] += dm_col_u64(&t->cols[DM_C_SENT], r);
            re[k] += dm_col_u64(&t->cols[DM_C_RECV], r);
        }
        for (int by = DM_M_FLOWS; by <= DM_M_BYTES; by++) {
            struct dm_top_req q = {f, DM_TOP_PAIR, -1, (enum dm_metric)by, DM_TOP_MAX};
            struct dm_top_res r;
            assert_int_equal(dm_top(t, &q, &r, NULL), 0);
            assert_int_equal(r.groups, groups);
            assert_int_equal(r.n, groups);
            for (size_t i = 0; i < r.n; i++) {
                size_t k = (size_t)r.v[i].key[0] * ni + r.v[i].key[1];
                assert_int_equal(r.v[i].flows, fl[k]);
                assert_int_equal(r.v[i].sent, se[k]);
                assert_int_equal(r.v[i].recv, re[k]);
                assert_int_equal(r.v[i].bytes, se[k] + re[k]);
                assert_int_equal(r.v[i].peers, 1);
                uint64_t m[] = {r.v[i].flows, r.v[i].sent, r.v[i].recv, r.v[i].bytes};
                if (i) {
                    uint64_t p[] = {r.v[i - 1].flows, r.v[i - 1].sent, r.v[i - 1].recv,
                                    r.v[i - 1].bytes};
                    assert_true(p[by] >= m[by]);
                }
            }
            /* a short list is the head of the full one */
            struct dm_top_req q5 = {f, DM_TOP_PAIR, -1, (enum dm_metric)by, 5};
            struct dm_top_res r5;
            assert_int_equal(dm_top(t, &q5, &r5, NULL), 0);
            assert_int_equal(r5.groups, groups);
            assert_int_equal(r5.n, 5);
            assert_memory_equal(r5.v, r.v, 5 * sizeof(*r.v));
            dm_top_res_release(&r5);
            dm_top_res_release(&r);
        }
        dm_free(fl);
        dm_free(se);
        dm_free(re);
        dm_filter_free(f);
    }
    dm_table_free(t);
    dm_pool_free(pool);
    dm_config_release(&cfg);
}

/* packets keeps a few huge values in an overflow table instead of widening every row: the
 * accessor, the filter and the row sort see the real values. */
static void test_packets_overflow(void **state)
{
    (void)state;
    struct dm_config cfg;
    assert_int_equal(dm_config_init(&cfg), 0);
    struct dm_table *t;
    assert_int_equal(dm_table_new(&t, &cfg, NULL, ~0u), 0);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        int64_t pk = i % 200;
        if (i == 10)
            pk = 100000;
        else if (i == 2000)
            pk = 70000;
        else if (i == 2500)
            pk = 255;
        else if (i == 2999)
            pk = 5000000000LL;
        struct dm_flow fl = {T0 + i, "10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 1, i == 7 ? -1 : pk,
                             -1, NULL, NULL};
        assert_int_equal(dm_table_append(t, &fl), 0);
    }
    assert_int_equal(dm_table_finish(t, NULL), 0);
    const struct dm_column *c = &t->cols[DM_C_PACKETS];
    assert_int_equal(c->width, 1);
    assert_non_null(c->ovf);
    assert_int_equal(c->ovf->n, 3); /* 100000, 70000, 5e9 (255 fits a byte exactly) */
    assert_int_equal(dm_col_u64(c, 10), 100000);
    assert_int_equal(dm_col_u64(c, 2000), 70000);
    assert_int_equal(dm_col_u64(c, 2500), 255);
    assert_int_equal(dm_col_u64(c, 2999), 5000000000ULL);
    assert_int_equal(dm_col_u64(c, 199), 199);
    assert_false(dm_col_present(c, 7));
    const char *exprs[] = {"packets > 255", "packets >= 255", "packets = 70000",
                           "packets in [100000, 3, 5G]", "packets < 1000"};
    const uint64_t want[] = {3, 4, 1, 2 + 15, N - 3 - 1};
    for (size_t k = 0; k < 5; k++) {
        struct dm_filter *f;
        assert_int_equal(dm_filter_compile(&f, t, exprs[k], strlen(exprs[k]), NULL), 0);
        struct dm_summary_res sm;
        assert_int_equal(dm_summary(t, f, &sm, NULL), 0);
        if (sm.rows != want[k])
            print_error("%s: %llu\n", exprs[k], (unsigned long long)sm.rows);
        assert_int_equal(sm.rows, want[k]);
        dm_filter_free(f);
    }
    struct dm_rows_req rq = {NULL, DM_C_PACKETS, 1, 0, 4};
    struct dm_rows_res rr;
    assert_int_equal(dm_rows(t, &rq, &rr, NULL), 0);
    assert_int_equal(rr.n, 4);
    assert_int_equal(rr.rows[0], 2999);
    assert_int_equal(rr.rows[1], 10);
    assert_int_equal(rr.rows[2], 2000);
    assert_int_equal(dm_col_u64(c, rr.rows[3]), 255);
    dm_rows_res_release(&rr);
    dm_table_free(t);
    dm_config_release(&cfg);
}

static void test_top_pairs_partitioned(void **state)
{
    (void)state;
    check_pairs(0);
    check_pairs(1);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct dm_filter *f = compile("src internal");
    for (uint64_t n = 1; n < 400; n++) {
        struct dm_top_req q = {f, DM_TOP_SRC, -1, DM_M_BYTES, 5};
        struct dm_top_res r;
        dm_alloc_fail_at(n, 0);
        int rc = dm_top(F.t, &q, &r, NULL);
        struct dm_top_req qp = {f, DM_TOP_PAIR, -1, DM_M_BYTES, 2};
        struct dm_top_res rp;
        dm_alloc_fail_at(n, 0);
        int rcp = dm_top(F.t, &qp, &rp, NULL);
        dm_alloc_fail_at(0, 0);
        assert_true(rcp == 0 || rcp == -ENOMEM);
        if (!rcp)
            dm_top_res_release(&rp);
        struct dm_graph_res g;
        struct dm_cidr seed;
        dm_cidr_parse("10.0.0.1", 8, &seed);
        struct dm_graph_req gq = {f, &seed, 1, 2, 0};
        dm_alloc_fail_at(n, 0);
        int rc2 = dm_graph(F.t, &gq, &g, NULL);
        struct dm_rows_req rq = {f, DM_C_SENT, 0, 0, 3};
        struct dm_rows_res rr;
        dm_alloc_fail_at(n, 0);
        int rc3 = dm_rows(F.t, &rq, &rr, NULL);
        dm_alloc_fail_at(0, 0);
        assert_true(rc == 0 || rc == -ENOMEM);
        assert_true(rc2 == 0 || rc2 == -ENOMEM);
        assert_true(rc3 == 0 || rc3 == -ENOMEM);
        if (!rc)
            dm_top_res_release(&r);
        if (!rc2)
            dm_graph_res_release(&g);
        if (!rc3)
            dm_rows_res_release(&rr);
    }
    dm_filter_free(f);
}

static int setup(void **state)
{
    (void)state;
    return fx_open(&F, 2);
}

static int teardown(void **state)
{
    (void)state;
    fx_close(&F);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_top),
        cmocka_unit_test(test_hist),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_summary_and_rows_output),
        cmocka_unit_test(test_memory_layout),
        cmocka_unit_test(test_parallel_vs_naive),
        cmocka_unit_test(test_top_pairs_partitioned),
        cmocka_unit_test(test_packets_overflow),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
