/* Corpus replay without libFuzzer: feeds every file named on the command line (directories
 * are walked one level) to the target's LLVMFuzzerTestOneInput. Built with the normal
 * (sanitized) flags by mk/fuzz.mk and run by tests/fuzz/corpus.t; exit 0 when every input
 * ran, prints the number of inputs. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    /* exact-size copy so ASan sees reads past the input */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    long count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st))
            return fprintf(stderr, "replay: cannot stat %s\n", argv[i]), 1;
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]))
                return fprintf(stderr, "replay: cannot read %s\n", argv[i]), 1;
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            return fprintf(stderr, "replay: cannot open %s\n", argv[i]), 1;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
            if (run_file(p)) {
                closedir(d);
                return fprintf(stderr, "replay: cannot read %s\n", p), 1;
            }
            count++;
        }
        closedir(d);
    }
    printf("%ld inputs\n", count);
    return 0;
}
