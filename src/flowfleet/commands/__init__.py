"""One typed function per command: load, call the core, print, return an exit code.

May import every package but `cli`; holds no logic of its own beyond choosing what to
call and what to print.
"""
