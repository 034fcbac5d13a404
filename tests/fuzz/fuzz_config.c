/* libFuzzer target: JSON text through the generic parser (dm_json_parse, default limits) and
 * the config loader (dm_config_parse over the defaults, as `query` / `serve` / `hunt` do).
 * A syntax error must carry an offset inside the text; a parsed config's servers must be
 * findable by their own network address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm_engine.h"
#include "dm_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    struct dm_json_doc doc;
    struct dm_error err;
    memset(&err, 0, sizeof(err));
    int rc = dm_json_parse(&doc, (const char *)data, size, NULL, &err);
    if (rc == DM_EPARSE && err.offset > (int64_t)size)
        abort(); /* a syntax error points inside the text */
    dm_json_doc_release(&doc); /* released even on failure (dm_json.h) */

    struct dm_config c;
    if (dm_config_init(&c))
        return 0;
    memset(&err, 0, sizeof(err));
    if (dm_config_parse(&c, (const char *)data, size, &err) == 0) {
        for (size_t i = 0; i < c.nservers; i++) {
            const struct dm_known_server *s = dm_config_server(&c, &c.servers[i].net.addr);
            if (!s)
                abort(); /* a server's own address is inside some server's network */
        }
    }
    dm_config_release(&c);
    return 0;
}
