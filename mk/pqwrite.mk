# Parquet writer: version/build id for created_by, the interop/bench helper binaries.

DM_PQ_VERSION_STR := $(shell sed -n 's/^\#define DM_VERSION "\(.*\)"/\1/p' src/cli/dm_cli.h)
DM_PQ_BUILD_STR := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# Rewritten only when the text changes, so only writer.o rebuilds after a commit.
$(BUILD)/gen/dm_build_id.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define DM_PQ_VERSION "%s"\n#define DM_BUILD_ID "%s"\n' '$(DM_PQ_VERSION_STR)' '$(DM_PQ_BUILD_STR)' | cmp -s - $@ || \
	 printf '#define DM_PQ_VERSION "%s"\n#define DM_BUILD_ID "%s"\n' '$(DM_PQ_VERSION_STR)' '$(DM_PQ_BUILD_STR)' > $@

$(BUILD)/src/parquet/writer.o: $(BUILD)/gen/dm_build_id.h

# Helper that writes the interop cases checked by tests/interop/pq_write.t.
$(BUILD)/helpers/pq_write_cases: tests/interop/pq_write_cases.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

TEST_DEPS += $(BUILD)/helpers/pq_write_cases

# Parquet benchmark driver (bench/parquet.bench).
$(BUILD)/helpers/pq_bench: bench/pq_bench.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

bench: $(BUILD)/helpers/pq_bench
