"""The automated annotation pipeline that turns images with quality descriptions into GIQA training data.

Stages (each its own module, each cached per record by `pipeline`):

1. `tags` — an LLM lists the key objects of a description as {T_r, T_q, T_e} triples;
2. `detect` — an open-vocabulary detector (Grounding DINO by default) finds each T_r;
3. `refine` — an IQA model filters the boxes of objects with several boxes, then boxes are merged;
4. `fuse` — kept boxes are written into the description in the ``[phrase](<a, b>)`` grid syntax;
5. `vqa` — an LLM writes Yes/No and What/Why/How pairs about the grounded objects, balanced globally.

`outputs` writes the JSONL, the LLaVA conversation JSON and the statistics; ``giqa-harness annotate``
runs it all (docs/annotate.md).
"""
