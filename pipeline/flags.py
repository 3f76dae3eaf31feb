"""Quality flags a page result carries that more than one stage reads."""

# Set by `pipeline.preprocess` on a page it measured as noisy and median-filtered; the key-zone
# pass then reads the unfiltered page, and the extractor doubts free text read from it.
NOISY_PAGE_FLAG = "denoised"
