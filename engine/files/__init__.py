"""Files in and out: bounded reads of whole input files and import roots (inputs), the one atomic writer and the exit codes of an output (output)."""
