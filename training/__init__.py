"""Supervised fine-tuning of Grounding-IQA entrants on annotated conversation data.

`recipe` reads and validates YAML recipes (the paper's settings are the defaults), `schedule` holds the
batch and step arithmetic, `data` turns conversation JSON into masked model inputs, `families` loads
each base model family, and `train` runs the loop with ``accelerate``. See docs/training.md.
"""
