"""``--model vllm``: presets, prompt building and the inputs handed to vLLM. The engine itself runs only
where vLLM is installed (a GPU machine); elsewhere a recording stand-in checks the plumbing."""

from __future__ import annotations

import importlib.util
import json

import pytest

from giqa_harness.errors import ConfigError, MissingDependencyError, UnknownNameError
from giqa_harness.evaluator import RunConfig, build_adapter, evaluate
from giqa_harness.model_adapters.vllm_engine import PRESETS, build_prompt, resolve_setup
from giqa_harness.testing.fake_vllm import install_fake_vllm

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def rows_full_prompts(folder, task):
    return [json.loads(line)["full_prompt"] for line in (folder / f"samples_{task}.jsonl").read_text().splitlines()]


def test_presets_render_each_familys_prompt():
    question = "Is the {sky} [0.10, 0.20, 0.90, 0.50] over-exposed?"
    vicuna_v1 = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
                 f"helpful, detailed, and polite answers to the user's questions. USER: <image>\n{question} ASSISTANT:")
    assert build_prompt(PRESETS["llava-1.5"].template, question) == vicuna_v1
    assert build_prompt(PRESETS["llava-next"].template, question) == vicuna_v1
    assert build_prompt(PRESETS["llava-next-mistral"].template, question) == f"[INST] <image>\n{question} [/INST]"
    assert build_prompt(PRESETS["qwen2-vl"].template, question) == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        f"<|vision_start|><|image_pad|><|vision_end|>{question}<|im_end|>\n<|im_start|>assistant\n"
    )


def test_preset_box_conventions_follow_the_reference():
    assert (PRESETS["llava-1.5"].box_format, PRESETS["llava-1.5"].frame) == ("llava15", "pad_square:mean")
    assert {PRESETS[p].box_format for p in ("llava-next", "llava-next-mistral")} == {"llava16"}
    assert all(PRESETS[p].frame == "original" for p in ("llava-next", "llava-next-mistral", "qwen2-vl"))


def test_every_preset_names_a_registered_box_format():
    for name, preset in PRESETS.items():
        setup = resolve_setup(name, None, None, None)
        assert setup.box_format.name == preset.box_format
        assert setup.box_format.frame.describe() == preset.frame


def test_explicit_arguments_override_the_preset():
    setup = resolve_setup("llava-1.5", "SYSTEM\nUSER: <image>\n{question}\nASSISTANT:", "giqa_grid", None)
    assert setup.template.startswith("SYSTEM") and setup.box_format.name == "giqa_grid"
    assert setup.box_format.frame.describe() == "pad_square:mean"  # how the model sees images is the preset's
    assert resolve_setup("llava-1.5", None, "giqa_grid", "original").box_format.frame.describe() == "original"


def test_bad_presets_and_templates_say_what_to_pass():
    with pytest.raises(ConfigError, match="preset=NAME .*llava-1.5.*prompt_template="):
        resolve_setup(None, None, "giqa_grid", None)
    with pytest.raises(UnknownNameError, match="Did you mean: llava-1.5"):
        resolve_setup("llava1.5", None, None, None)
    with pytest.raises(ConfigError, match="'<image>'"):
        resolve_setup("llava-1.5", "USER: {question} ASSISTANT:", "giqa_grid", None)
    with pytest.raises(ConfigError, match="'{question}'"):
        resolve_setup(None, "USER: <image> ASSISTANT:", "giqa_grid", None)


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here, so its absence cannot be tested")
def test_without_vllm_the_error_says_what_to_install():
    with pytest.raises(MissingDependencyError, match=r'pip install "giqa-harness\[vllm\]"'):
        build_adapter("vllm", {"pretrained": "some/model", "preset": "llava-1.5", "box_format": "giqa_grid"})


def grid_answers(item):
    return "The [sky](<105, 294>) is over-exposed." if "Describe" in item["prompt"] else "Yes."


def test_engine_receives_framed_images_templated_prompts_and_greedy_params(tmp_path, tiny_task, monkeypatch):
    engines = install_fake_vllm(monkeypatch, grid_answers)
    task = tiny_task(extra="generation_kwargs: {max_new_tokens: 33, until: ['</s>']}\n")
    results = evaluate(RunConfig(
        model="vllm", model_args={"pretrained": str(tmp_path), "preset": "llava-1.5", "box_format": "giqa_grid",
                                  "frame": "pad_square:white"},
        tasks=[task], output_path=tmp_path / "run", log_samples=True, batch_size=4, progress=False,
    ))
    assert results["results"][task]["n_scored"] == 6
    (engine,) = engines
    assert engine.options["limit_mm_per_prompt"] == {"image": 1} and engine.options["trust_remote_code"] is False
    assert [len(inputs) for inputs, _ in engine.calls] == [6]  # one window for the whole task, not --batch_size
    inputs, params = engine.calls[0]
    assert (params.temperature, params.max_tokens, params.stop) == (0.0, 33, ["</s>"])
    first = inputs[0]
    assert first["prompt"].startswith("A chat between") and first["prompt"].endswith("image. ASSISTANT:")
    assert "USER: <image>\nDescribe" in first["prompt"]
    assert rows_full_prompts(tmp_path / "run", task)[0] == first["prompt"]  # what vLLM was handed
    image = first["multi_modal_data"]["image"]
    assert image.width == image.height and image.getpixel((0, 0)) == (255, 255, 255)  # padded white, square
    rows = [json.loads(line) for line in (tmp_path / "run" / f"samples_{task}.jsonl").read_text().splitlines()]
    # image a (64x48) padded to 64x64 with 8 white rows above: grid cells map back to the original image
    assert rows[0]["parsed"]["groundings"][0]["boxes"] == [pytest.approx([0.275, 0.2, 0.725, 0.8])]


def test_model_max_new_tokens_overrides_the_task(tmp_path, tiny_task, monkeypatch):
    engines = install_fake_vllm(monkeypatch, grid_answers)
    task = tiny_task(extra="generation_kwargs: {max_new_tokens: 33}\n")
    evaluate(RunConfig(model="vllm", model_args={"pretrained": str(tmp_path), "preset": "qwen2-vl",
                                                  "box_format": "giqa_grid", "max_new_tokens": 5},
                       tasks=[task], progress=False))
    inputs, params = engines[0].calls[0]
    assert params.max_tokens == 5
    assert inputs[0]["multi_modal_data"]["image"].size == (64, 48)  # Qwen2-VL takes any aspect: not squashed


@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (an optional extra for GPU machines)")
def test_real_vllm_runs_a_tiny_llava_end_to_end(tmp_path, tiny_task):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a GPU here")
    from giqa_harness.testing.tiny_models import build_tiny_llava

    folder = build_tiny_llava(tmp_path / "llava")
    task = tiny_task()
    results = evaluate(RunConfig(model="vllm", model_args={"pretrained": str(folder), "preset": "llava-1.5",
                                                            "box_format": "giqa_grid", "max_new_tokens": 8,
                                                            "gpu_memory_utilization": 0.3},
                                 tasks=[task], batch_size=3, progress=False))
    assert results["results"][task]["n_scored"] == 6


def test_choice_scores_sum_the_prompt_log_probabilities_of_the_candidate_tokens(monkeypatch):
    from giqa_harness.models import ChoiceRequest
    from giqa_harness.model_adapters.choice_scoring import continuation_ids
    from giqa_harness.testing.fake_vllm import toy_logprob
    from giqa_harness.testing.tiny_models import _tokenizer
    from family_fakes import make_requests

    tokenizer = _tokenizer(["<s>", "<pad>", "</s>", "<unk>"], ["<image>"])
    engines = install_fake_vllm(monkeypatch, lambda item: "", tokenizer=tokenizer)
    adapter = build_adapter("vllm", {"pretrained": "org/model", "preset": "llava-1.5"})
    assert adapter.supports_choice_scoring()
    requests = make_requests(adapter.box_format, n=2)
    candidates = (" good", " poor", " good and sharp")
    scores = adapter.score_choices([ChoiceRequest(r, " The quality of the image is", candidates) for r in requests])
    inputs, params = engines[0].calls[-1]
    assert params.prompt_logprobs == 0 and params.max_tokens == 1 and len(inputs) == 6
    first = inputs[0]["prompt"]
    assert first == build_prompt(PRESETS["llava-1.5"].template, requests[0].question) + " The quality of the image is good"
    ids = tokenizer(first)["input_ids"]
    n = len(continuation_ids(tokenizer, " The quality of the image is", " good"))
    assert scores[0][0] == pytest.approx(sum(toy_logprob(first, i, ids[i]) for i in range(len(ids) - n, len(ids))))
    assert [len(s) for s in scores] == [3, 3]
