"""Each family's full prompt, decoded from the ids its adapter really feeds the model, against a string
written by hand from the family's own template (the upstream file is named above each expectation).

The tiny checkpoints' byte-level tokenizers add no BOS; the family packages' ``tokenizer_image_token``
(and so their fakes) put ``<s>`` first, as the real ones do. Long image-token runs appear once.
"""

from __future__ import annotations

import pytest
from PIL import Image

from family_fakes import build_llama_folder
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.evaluator import build_adapter
from giqa_harness.models import Request
from giqa_harness.testing.tiny_legacy import build_tiny_clip_tower, build_tiny_original
from giqa_harness.testing.tiny_models import build_tiny_kosmos2, build_tiny_llava

pytestmark = pytest.mark.slow

# haotian-liu/LLaVA llava/conversation.py, conv_vicuna_v1 (system, roles USER/ASSISTANT, sep " ");
# the same sentence is mPLUG-Owl2's conv_vicuna_v1 (mplug_owl2/conversation.py, templates "v1").
VICUNA_V1 = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
             "detailed, and polite answers to the user's questions.")
# LLaVA's conv_llava_v1, which Q-Instruct's eval_scripts/llava_v1.5/eval_qbench_mcq.py selects.
LLAVA_V1 = ("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
            "detailed, and polite answers to the human's questions.")
PLAIN = "Is the image sharp?"
# A 40 x 60 image; the grid box <0, 399> spans cell centres 0.025..0.975 of the original image. On the
# mean-padded 60 x 60 square x moves right by 10 px: (0.025 * 40 + 10) / 60 = 0.18, (0.975 * 40 + 10) / 60 = 0.82.
REFERRING = "Is the [dog](<0, 399>) noisy?"
SIZE = (40, 60)


def only_prompt(adapter, question):
    text, referring = rerender(question, get_format("giqa_grid"), adapter.box_format, SIZE)
    request = Request(doc_id="x", task="t", question=text, image=Image.new("RGB", SIZE, (10, 200, 30)),
                      image_size=SIZE, referring=referring.groundings)
    return adapter.render_prompts([request])[0]


@pytest.fixture(scope="module")
def tower(tmp_path_factory):
    return build_tiny_clip_tower(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return build_llama_folder(tmp_path_factory.mktemp("llama"))


def test_llava15_is_vicuna_v1_with_the_image_line_before_the_question(tmp_path):
    adapter = build_adapter("llava", {"pretrained": str(build_tiny_llava(tmp_path / "m"))})
    assert only_prompt(adapter, REFERRING) == (
        f"{VICUNA_V1} USER: <image>\nIs the dog [0.18, 0.03, 0.82, 0.97] noisy? ASSISTANT:")


def test_vicuna_based_next_is_vicuna_v1_too_and_its_chat_template_on_request(tmp_path):
    folder = build_tiny_llava(tmp_path / "m", "llava_next")  # a Llama LM whose processor has an [INST] template
    assert only_prompt(build_adapter("llava", {"pretrained": str(folder)}), PLAIN) == (
        f"{VICUNA_V1} USER: <image>\nIs the image sharp? ASSISTANT:")
    chat = build_adapter("llava", {"pretrained": str(folder), "prompt": "chat_template"})
    assert only_prompt(chat, PLAIN) == "[INST] <image>\nIs the image sharp? [/INST]"


def test_kosmos2_grounding_prompt_with_the_referred_phrase_and_its_patch_tokens(tmp_path):
    adapter = build_adapter("kosmos2", {"pretrained": str(build_tiny_kosmos2(tmp_path / "m"))})
    # Kosmos-2's processor: <s><image>, the 64 image-embedding positions, </image>, then the text; the
    # referred phrase as <phrase> dog</phrase> followed by its corner patches on the 32 x 32 grid.
    assert only_prompt(adapter, REFERRING) == (
        "<s><image><image embeddings></image><grounding> Question: Is the<phrase> dog</phrase><object>"
        "<patch_index_0000><patch_index_1023></object> noisy? Answer:")


def test_owl2_is_the_eval_scripts_prompt_with_its_trailing_space(llama, fake_packages):
    # mPLUG-Owl2 mplug_owl2/evaluate/evaluate_vqa.py: 'USER: <|image|>{} ... ASSISTANT: '
    adapter = build_adapter("owl2", {"pretrained": str(llama)})
    assert only_prompt(adapter, PLAIN) == "<s>USER: <|image|>Is the image sharp? ASSISTANT: "


def test_qinstruct_owl2_is_v1_as_trained_or_mplug_owl2_as_its_qbench_script(llama, fake_packages):
    # Q-Instruct scripts/mplug_owl_2/mix_q_instruct.sh trains with --version v1; mPLUG-Owl2's train.py
    # puts '<|image|>\n' before the first question.
    trained = build_adapter("qinstruct", {"variant": "owl2-7b", "pretrained": str(llama)})
    assert only_prompt(trained, PLAIN) == f"<s>{VICUNA_V1} USER: <|image|>\nIs the image sharp? ASSISTANT:"
    # eval_scripts/mplug_owl_2/eval_qbench_mcq.py: conv_templates["mplug_owl2"], DEFAULT_IMAGE_TOKEN + question
    scripted = build_adapter("qinstruct", {"variant": "owl2-7b", "pretrained": str(llama), "protocol": "eval_script"})
    assert only_prompt(scripted, PLAIN) == "<s>USER: <|image|>Is the image sharp? ASSISTANT:"


def test_qinstruct_llava_eval_script_is_llava_v1(tmp_path, tower):
    original = build_tiny_original(tmp_path / "q", "llava", tower)
    adapter = build_adapter("qinstruct", {"variant": "llava-7b", "pretrained": str(original), "protocol": "eval_script"})
    assert only_prompt(adapter, PLAIN) == f"{LLAVA_V1} USER: <image>\nIs the image sharp? ASSISTANT:"


def test_shikra_is_vicuna_v1_1_with_its_image_patches(tmp_path, tower):
    # shikras/shikra: the Vicuna v1.1 system, then <im_start> 256 x <im_patch> <im_end> before the question
    adapter = build_adapter("shikra", {"pretrained": str(build_tiny_original(tmp_path / "s", "shikra", tower))})
    assert only_prompt(adapter, PLAIN) == (
        f"{VICUNA_V1} USER: <im_start><im_patch><im_end> Is the image sharp? ASSISTANT:")


def test_groundinggpt_is_its_hash_separated_conversation(tmp_path, tower):
    # lzw-lzw/GroundingGPT lego/conversation.py: '{system}###Human: <image>\n{q}###Assistant:'
    checkpoint = build_tiny_original(tmp_path / "g", "groundinggpt", tower)
    adapter = build_adapter("groundinggpt", {"pretrained": str(checkpoint), "vision_tower": str(tower)})
    assert only_prompt(adapter, PLAIN) == (
        f"{LLAVA_V1}###Human: <im_start><im_patch><im_end>\nIs the image sharp?###Assistant:")


def test_ferret_states_the_box_convention_and_marks_each_referred_region(tmp_path, fake_packages):
    # apple/ml-ferret ferret/conversation.py (ferret_v1): the 1000 x 1000 box sentence as the system,
    # then USER: <image>\n{q} ASSISTANT:, each referring box followed by <region_fea>.
    folder = build_llama_folder(tmp_path / "f", ("<region_fea>", "<image>"))
    adapter = build_adapter("ferret", {"pretrained": str(folder)})
    system = ("A chat between a human and an AI that understands visuals. In images, [x, y] denotes points: "
              "top-left [0, 0], bottom-right [width-1, height-1]. Increasing x moves right; y moves down. "
              "Bounding box: [x1, y1, x2, y2]. Image size: 1000x1000. Follow instructions. ")
    assert only_prompt(adapter, REFERRING) == (
        f"<s>{system} USER: <image>\nIs the dog [25, 25, 975, 975] <region_fea> noisy? ASSISTANT:")
