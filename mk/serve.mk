# serve: the e2e dataset helper, and `make screenshots` (docs/img/*.png from the browser test).

$(BUILD)/helpers/e2e_mkdata: tests/e2e/mkdata.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

TEST_DEPS += $(BUILD)/helpers/e2e_mkdata

.PHONY: screenshots
screenshots: $(BUILD)/datamate $(BUILD)/helpers/e2e_mkdata
	@DM_BUILD=$(abspath $(BUILD)) DM_ROOT=$(CURDIR) DM_SCREENSHOTS=$(CURDIR)/docs/img tests/e2e/browser.t
	@DM_BUILD=$(abspath $(BUILD)) DM_ROOT=$(CURDIR) DM_SCREENSHOTS=$(CURDIR)/docs/img tests/e2e/findings.t
