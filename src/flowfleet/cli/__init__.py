"""The command line: argument parsing only; each command calls one core function."""
