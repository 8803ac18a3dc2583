"""The shell's loops: read, call the core, write the effects, in one transaction."""
