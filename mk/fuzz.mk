# Fuzzing. Every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput; tests/fuzz/<name>.dict,
# when present, is its libFuzzer dictionary.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="pq_file ..."]
#     builds each target with clang -fsanitize=fuzzer,address,undefined into build-fuzz/ and
#     runs it FUZZ_SECONDS seconds on a scratch copy of tests/fuzz/corpus/<name>/ (new
#     inputs stay in build-fuzz/corpus/<name>/; crashes in build-fuzz/crash-*).
#   make test builds $(BUILD)/fuzz-replay/fuzz_<name> (target + tests/fuzz/replay.c, no
#     libFuzzer, the normal sanitizer flags) that tests/fuzz/corpus.t runs over the corpus.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -pthread \
                $(addprefix -I,$(wildcard src/*)) -I$(BUILD)/gen $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/src/%.o: src/%.c $(GEN_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/src/parquet/writer.o: $(BUILD)/gen/dm_build_id.h

# the embedded web assets (generated C) that src/http links against
$(FUZZ_BUILD)/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libdatamate.a: $(FUZZ_LIB_OBJ) $(FUZZ_BUILD)/gen/assets.o
	@rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libdatamate.a
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libdatamate.a \
	    $(PKG_LIBS) -lm

fuzz: $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	    [ -d tests/fuzz/corpus/$$t ] && cp -n tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    (cd $(FUZZ_BUILD) && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
	        -rss_limit_mb=2048 -print_final_stats=1 \
	        $$( [ -f ../tests/fuzz/$$t.dict ] && echo -dict=../tests/fuzz/$$t.dict ) \
	        corpus/$$t > $$t.log 2>&1); rc=$$?; \
	    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==ERROR|SUMMARY)" \
	        $(FUZZ_BUILD)/$$t.log; \
	    [ $$rc -eq 0 ] || { echo "fuzz: $$t failed (exit $$rc), see $(FUZZ_BUILD)/$$t.log"; exit 1; }; \
	done

# Corpus replay binaries for make test.
$(BUILD)/fuzz-replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

TEST_DEPS += $(addprefix $(BUILD)/fuzz-replay/fuzz_,$(FUZZ_ALL))
