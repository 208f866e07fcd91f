"""The ``engine`` command line: the only code that reads command-line arguments."""
