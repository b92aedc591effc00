"""Model adapters, one module per family. Each module is a plugin listed under the ``giqa_harness``
entry-point group, exactly as a third-party adapter would be."""
