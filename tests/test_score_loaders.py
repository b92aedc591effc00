"""Each IQA loader on a small folder written in its dataset's published layout (docs/score.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from giqa_harness.errors import DatasetError
from giqa_harness.score.loaders import LOADERS, McqDoc, ScoreDoc, load_items
from giqa_harness.score.xlsx import read_first_sheet, write_sheet
from giqa_harness.task import TaskConfig


def _images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (8, 6), (10, 20, 30)).save(folder / name)


def _check(docs: list[ScoreDoc], names: list[str], scores: list[float]) -> None:
    assert [d.doc_id for d in docs] == names and [d.mos for d in docs] == scores
    assert all(Path(d.image).is_file() for d in docs)


def test_koniq10k_reads_the_scores_csv_and_the_1024x768_images(tmp_path):
    _images(tmp_path / "1024x768", ["10004473376.jpg", "10007357496.jpg"])
    (tmp_path / "koniq10k_scores_and_distributions.csv").write_text(
        '"image_name","c1","c2","c3","c4","c5","c_total","MOS","SD","MOS_zscore"\n'
        '"10004473376.jpg",0,0,25,73,7,105,3.828571,0.527,77.383\n'
        '"10007357496.jpg",0,3,45,47,1,96,3.479167,0.580,67.025\n')
    _check(LOADERS["koniq10k"](tmp_path, {}), ["10004473376.jpg", "10007357496.jpg"], [3.828571, 3.479167])


def test_kadid10k_reads_dmos_csv_and_keeps_the_reference(tmp_path):
    _images(tmp_path / "images", ["I01_01_01.png", "I01_01_02.png"])
    (tmp_path / "dmos.csv").write_text("dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.57,0.496\n"
                                       "I01_01_02.png,I01.png,4.33,0.869\n")
    docs = LOADERS["kadid10k"](tmp_path, {})
    _check(docs, ["I01_01_01.png", "I01_01_02.png"], [4.57, 4.33])
    assert docs[0].extra == {"reference": "I01.png"}


def test_agiqa3k_reads_the_quality_mos_not_the_alignment(tmp_path):
    _images(tmp_path, ["AttnGAN_normal_000.jpg", "sd1.5_lowstep_001.jpg"])
    (tmp_path / "data.csv").write_text("name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align\n"
                                       "AttnGAN_normal_000.jpg,a cat,,,,1.2,0.5,2.5,0.4\n"
                                       'sd1.5_lowstep_001.jpg,"a dog, running",,,,3.1,0.5,4.0,0.4\n')
    docs = LOADERS["agiqa3k"](tmp_path, {})
    _check(docs, ["AttnGAN_normal_000.jpg", "sd1.5_lowstep_001.jpg"], [1.2, 3.1])
    assert docs[1].extra["prompt"] == "a dog, running"


def test_spaq_reads_the_mos_spreadsheet(tmp_path):
    _images(tmp_path / "TestImage", ["00001.jpg", "00002.jpg"])
    (tmp_path / "Annotations").mkdir()
    write_sheet(tmp_path / "Annotations" / "MOS and Image attribute scores.xlsx",
                [["Image name", "MOS", "Brightness"], ["00001.jpg", 42.65, 43.0], ["00002.jpg", 70, 61.5], []])
    _check(LOADERS["spaq"](tmp_path, {}), ["00001.jpg", "00002.jpg"], [42.65, 70.0])


def test_the_xlsx_reader_reads_shared_strings_as_excel_writes_them(tmp_path):
    import zipfile

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{ns}"><si><t>Image name</t></si><si><t>MOS</t></si>'
                                                 f'<si><t>a.jpg</t></si></sst>')
        archive.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="s">'
                                                     f'<v>0</v></c><c r="C1" t="s"><v>1</v></c></row><row r="2">'
                                                     f'<c r="A2" t="s"><v>2</v></c><c r="C2"><v>3.5</v></c></row>'
                                                     f'</sheetData></worksheet>')
    assert read_first_sheet(tmp_path / "book.xlsx") == [["Image name", "", "MOS"], ["a.jpg", "", "3.5"]]


def test_livec_reads_the_mat_files_and_leaves_out_the_practice_images(tmp_path):
    from scipy.io import savemat

    names = [f"t{i}.bmp" for i in range(7)] + ["10.bmp", "100.bmp"]
    _images(tmp_path / "Images", names)
    (tmp_path / "Data").mkdir()
    cells = np.empty((len(names), 1), dtype=object)
    cells[:, 0] = names
    savemat(tmp_path / "Data" / "AllImages_release.mat", {"AllImages_release": cells})
    savemat(tmp_path / "Data" / "AllMOS_release.mat", {"AllMOS_release": np.array([[50.0] * 7 + [63.9, 25.3]])})
    _check(LOADERS["livec"](tmp_path, {}), ["10.bmp", "100.bmp"], [63.9, 25.3])
    assert len(LOADERS["livec"](tmp_path, {"skip_practice": False})) == 9


def test_qbench_a1_reads_questions_with_type_and_concern_names(tmp_path):
    _images(tmp_path / "images_llvisionqa", ["00079.jpg"])
    (tmp_path / "llvisionqa_dev.json").write_text(json.dumps([
        {"img_path": "00079.jpg", "question": "Is the image blurry?", "candidates": ["Yes", "No"],
         "correct_ans": "No", "type": 0, "concern": 2},
    ]))
    (doc,) = LOADERS["qbench_a1"](tmp_path, {})
    assert isinstance(doc, McqDoc) and doc.correct == 1 and (doc.qtype, doc.concern) == ("yes-or-no", "in-context distortion")


def test_bad_records_name_the_file_line_and_field(tmp_path):
    (tmp_path / "dmos.csv").write_text("dist_img,ref_img,dmos\nI01_01_01.png,I01.png,high\n")
    with pytest.raises(DatasetError, match=r"dmos.csv:2: column 'dmos' must be a number"):
        LOADERS["kadid10k"](tmp_path, {})
    (tmp_path / "dmos.csv").write_text("dist_img,score\n")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['ref_img', 'dmos'\]"):
        LOADERS["kadid10k"](tmp_path, {})
    (tmp_path / "llvisionqa_dev.json").write_text(json.dumps([{"img_path": "a.jpg", "question": "?",
                                                               "candidates": ["Yes", "No"], "correct_ans": "Maybe"}]))
    with pytest.raises(DatasetError, match=r"llvisionqa_dev.json\[0\]: correct_ans 'Maybe'"):
        LOADERS["qbench_a1"](tmp_path, {})
    (tmp_path / "data.csv").write_text("name,mos_quality\n../../etc/passwd,3\n")
    with pytest.raises(DatasetError, match="escapes the dataset folder"):
        LOADERS["agiqa3k"](tmp_path, {})


def test_a_missing_folder_says_which_files_go_where_and_which_variable_points_there(tmp_path, monkeypatch):
    monkeypatch.delenv("KONIQ10K_DIR", raising=False)
    path = "${KONIQ10K_DIR:-" + str(tmp_path / "nowhere") + "}"
    task = TaskConfig(name="koniq10k", path=tmp_path / "koniq10k.yaml", dataset={"path": path})
    with pytest.raises(DatasetError, match=r"nowhere does not exist. Put koniq10k_scores_and_distributions.csv "
                                           r"and the images folder 1024x768/ .*there, or set KONIQ10K_DIR"):
        load_items(task, "koniq10k", {})


def test_a_written_sheet_reads_back_cell_for_cell(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cell = st.one_of(st.integers(-10**6, 10**6), st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
                                                              min_size=1, max_size=8).filter(lambda t: t.strip() == t))

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=5))
    def round_trip(rows):
        path = write_sheet(tmp_path / "sheet.xlsx", rows)
        assert read_first_sheet(path) == [[str(v) for v in row] for row in rows]

    round_trip()


def test_a_fractional_limit_keeps_that_share_of_a_score_task_rounded_up(tmp_path):
    from giqa_harness.score.loaders import load_items
    from giqa_harness.task import task_index

    task = task_index().resolve(["giqa_synth_score"])[0]
    everything = load_items(task, task.scoring["loader"], dict(task.scoring.get("loader_args") or {}))
    half = load_items(task, task.scoring["loader"], dict(task.scoring.get("loader_args") or {}), 0.25)
    assert len(half) == -(-len(everything) // 4) and half == everything[: len(half)]
