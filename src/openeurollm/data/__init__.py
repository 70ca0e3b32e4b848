"""Documents, readers and the curation steps (language ID, filters, PII, opt-outs, dedup, decontamination)."""
