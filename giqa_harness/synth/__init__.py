"""giqa_synth: an embedded, deterministic grounding-IQA bench with exact ground truth.

Real photographs (scikit-image's bundled samples) get localized and global degradations inside
grid-snapped regions; the reference descriptions and answers are written from what was applied. It
has GIQA-Bench's composition and box syntax, and probes localized quality perception; it does not
replace GIQA-Bench (its distortions are synthetic and its texts templated). See docs/synth.md.
"""

from .build import DEFAULT_SEED, GENERATOR_VERSION, N_IMAGES, bench_folder, ensure_bench, generate

__all__ = ["DEFAULT_SEED", "GENERATOR_VERSION", "N_IMAGES", "bench_folder", "ensure_bench", "generate"]
