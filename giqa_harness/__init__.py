"""giqa-harness: evaluate grounding image-quality assessment (GIQA-Bench) for any multimodal model.

Importing this package is cheap: no torch, no transformers. Use `giqa_harness.evaluator.evaluate`
from Python or the ``giqa-harness`` command line.
"""

__version__ = "0.1.0"
