# Parquet reader: benchmark driver for bench/parquet_read.bench.
$(BUILD)/helpers/pq_read_bench: bench/pq_read_bench.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

bench: $(BUILD)/helpers/pq_read_bench
