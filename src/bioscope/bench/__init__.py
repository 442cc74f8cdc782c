"""Speed measurements, each a ratio taken in one run: ``bioscope bench``."""
