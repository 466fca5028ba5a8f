"""One typed function per command: load, call the core, print, return an exit code."""
