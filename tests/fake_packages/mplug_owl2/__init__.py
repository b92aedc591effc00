"""A fake of mPLUG-Owl2's ``mplug_owl2`` package: the few names the owl2 adapter uses."""
