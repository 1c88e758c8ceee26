"""Custom pieces around the stock TFX components; each module says why it exists."""
