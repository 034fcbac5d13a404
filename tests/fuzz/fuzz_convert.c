/* libFuzzer target: `datamate convert` on one hostile input. The first byte picks the input
 * format (auto-detection, JSON lines, nfdump JSON, CSV, TSV, Zeek, nfdump CSV, VPC) and the
 * preset; the rest is the file. The conversion runs end to end (reading, splitting, field
 * mapping, coercion, Parquet writing) on one thread into a scratch directory. Checks: the
 * record accounting holds (read = written + rejected), and the output exists exactly when
 * dm_convert returned 0 and is a Parquet file the reader accepts with `written` rows. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "dm_ingest.h"
#include "dm_pq_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static const char *const presets[] = {NULL, "datamate", "ecs", "zeek", "suricata", "nfdump",
                                      "pmacct", "argus", "vpcflow"};

static void cleanup(const char *out, const char *rej)
{
    if (unlink(out) && errno != ENOENT)
        abort();
    if (unlink(rej) && errno != ENOENT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!dir[0]) {
        /* tmpfs when there is one: the writer fsyncs, which is slow on a disk */
        snprintf(dir, sizeof(dir), "/dev/shm/dm-fuzz-convert-%ld", (long)getpid());
        if (mkdir(dir, 0700) && errno != EEXIST) {
            snprintf(dir, sizeof(dir), "/tmp/dm-fuzz-convert-%ld", (long)getpid());
            mkdir(dir, 0700);
        }
    }
    uint8_t sel = data[0];
    data++;
    size--;
    char in[128], out[128];
    snprintf(in, sizeof(in), "%s/in.log", dir);
    snprintf(out, sizeof(out), "%s/out.parquet", dir);
    FILE *f = fopen(in, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f))
        abort();

    enum dm_in_format fmt = (enum dm_in_format)(sel % DM_IN__COUNT);
    const char *preset = presets[(sel >> 3) % (sizeof(presets) / sizeof(presets[0]))];
    if (preset && !dm_preset_find(preset))
        preset = NULL;
    const char *inputs[] = {in};
    char rej[160];
    snprintf(rej, sizeof(rej), "%s.rej", out);
    struct dm_convert_opts o = {
        .inputs = inputs,
        .ninputs = 1,
        .output = out,
        .format = fmt,
        .preset = preset,
        .version = "fuzz",
        .codec = (sel & 0x40) ? 0 : 6,
        .threads = 1,
        .rejects_path = (sel & 0x80) ? rej : NULL,
        .tz_fixed_s = 3600,
        .max_line = 4096,
        .chunk_bytes = 8192,
    };
    struct dm_convert_stats st;
    memset(&st, 0, sizeof(st));
    struct dm_error err;
    int rc = dm_convert(&o, &st, &err);
    if (st.read != st.written + st.rejected)
        abort();
    uint64_t sum = 0;
    for (int r = 0; r < DM_REJ__COUNT; r++)
        sum += st.by_reason[r];
    if (sum != st.rejected)
        abort();
    struct stat sb;
    int exists = stat(out, &sb) == 0;
    if (exists != (rc == 0))
        abort(); /* nothing under the output name on failure, a file on success */
    if (rc == 0 && S_ISREG(sb.st_mode)) {
        struct dm_pq_reader *r;
        if (dm_pq_reader_open(&r, out, &err))
            abort(); /* we must be able to read what we wrote */
        const struct dm_pq_meta *m = dm_pq_reader_meta(r);
        if ((uint64_t)m->num_rows != st.written)
            abort();
        dm_pq_reader_free(r);
    }
    dm_convert_stats_release(&st);
    cleanup(out, rej);
    unlink(in);
    return 0;
}
