"""A fake of DepictQA's ``src/model`` package (imported as ``model``)."""
