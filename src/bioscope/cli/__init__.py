"""The ``bioscope`` command line: argument parsing and printing live here and nowhere below."""
