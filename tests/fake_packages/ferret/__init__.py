"""A fake of apple/ml-ferret's ``ferret`` package: the few names the ferret adapter uses."""
