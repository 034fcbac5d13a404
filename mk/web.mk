# The web page: web/ bundled by esbuild and embedded into the binary as build/gen/assets.c
# (a {path, mime, data, len, gz, gzlen, etag, immutable} table, see src/http/http_int.h).
# web/node_modules is installed from web/package-lock.json with `npm ci` on first use.

WEB_SRC   := $(wildcard web/src/*.js web/src/*.css) web/index.html web/favicon.svg web/build.mjs
WEB_STAMP := web/node_modules/.stamp
GEN_OBJ   += $(BUILD)/gen/assets.o

$(WEB_STAMP): web/package.json web/package-lock.json | $(DEPS_STAMP)
	@echo "  NPM     web/"
	$(Q)cd web && npm ci --no-audit --no-fund --loglevel=error >&2
	@touch $@

$(BUILD)/gen/assets.c: $(WEB_SRC) $(WEB_STAMP)
	@mkdir -p $(dir $@)
	@echo "  WEB     $@"
	$(Q)node web/build.mjs $@ $(BUILD)/web

$(BUILD)/gen/assets.o: $(BUILD)/gen/assets.c $(FLAGS_STAMP)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

.PHONY: web
web: $(BUILD)/gen/assets.c

-include $(BUILD)/gen/assets.d
