"""Uploaded file names and contents: nothing escapes the uploads folder, nothing is overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.uploads import MAX_NAME_CHARS, UploadRefused, safe_name, save_upload, uploads_dir

MB = 1024 * 1024


@pytest.mark.parametrize(("given", "expected"), [
    ("report.pdf", "report.pdf"),
    ("Loss Runs (2024).PDF", "Loss Runs (2024).pdf"),
    ("folder/sub/notes.txt", "notes.txt"),  # a browser's folder upload: directories are dropped
    ("C:\\Users\\me\\SOV.xlsx", "SOV.xlsx"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("a<b>c|d?e*f\"g.md", "a_b_c_d_e_f_g.md"),
    ("café résumé.docx", "café résumé.docx"),
    ("  spaced  .txt", "spaced.txt"),
    ("CON.txt", "CON_.txt"),
    ("___.csv", "upload.csv"),
    ("x" * 300 + ".html", "x" * (MAX_NAME_CHARS - 5) + ".html"),
])
def test_safe_names(given: str, expected: str) -> None:
    assert safe_name(given) == expected


@pytest.mark.parametrize(("given", "reason"), [
    ("../secret.txt", "outside its folder"),
    ("docs/../../etc/passwd.txt", "outside its folder"),
    ("..\\..\\boot.ini.txt", "outside its folder"),
    (".bashrc.txt", "hidden"),
    ("sub/.env.md", "hidden"),
    ("", "no name"),
    ("...", "no name"),
    ("folder/", "no name"),
    ("evil\x00.pdf", "control characters"),
    ("line\nbreak.txt", "control characters"),
    ("program.exe", "unsupported file type .exe"),
    ("archive.tar.gz", "unsupported file type .gz"),
    ("README", "unsupported file type (no extension)"),
    ("script.pdf.sh", "unsupported file type .sh"),
])
def test_refused_names(given: str, reason: str) -> None:
    with pytest.raises(UploadRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        safe_name(given)


def test_saves_inside_the_uploads_folder(tmp_path: Path) -> None:
    saved = save_upload(tmp_path, "../../outside.txt".split("/")[-1], b"hello", MB)
    assert saved.path == uploads_dir(tmp_path).resolve() / "outside.txt"
    assert saved.path.read_bytes() == b"hello"
    assert not saved.renamed and not saved.duplicate
    assert [p.name for p in uploads_dir(tmp_path).iterdir()] == ["outside.txt"]  # no temporary left behind


def test_never_overwrites_a_different_file_and_keeps_one_copy_of_the_same(tmp_path: Path) -> None:
    first = save_upload(tmp_path, "notes.txt", b"version one", MB)
    second = save_upload(tmp_path, "notes.txt", b"version two", MB)
    third = save_upload(tmp_path, "notes.txt", b"version three", MB)
    again = save_upload(tmp_path, "notes.txt", b"version two", MB)
    assert first.path.name == "notes.txt" and first.path.read_bytes() == b"version one"
    assert second.path.name == "notes-1.txt" and second.renamed
    assert third.path.name == "notes-2.txt"
    assert again.path == second.path and again.duplicate
    assert sorted(p.name for p in uploads_dir(tmp_path).iterdir()) == ["notes-1.txt", "notes-2.txt", "notes.txt"]


def test_a_planted_symlink_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = uploads_dir(tmp_path / "ws")
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "report.txt")
    os.symlink(tmp_path / "missing.txt", folder / "dangling.txt")
    saved = save_upload(tmp_path / "ws", "report.txt", b"new content", MB)
    dangling = save_upload(tmp_path / "ws", "dangling.txt", b"new content", MB)
    assert outside.read_text() == "precious"
    assert not (tmp_path / "missing.txt").exists()
    assert saved.path.name == "report-1.txt" and not saved.path.is_symlink()
    assert dangling.path.name == "dangling-1.txt"


def test_size_limit_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UploadRefused, match=r"over the 1\.0 MB limit"):
        save_upload(tmp_path, "big.pdf", b"x" * (MB + 1), MB)
    with pytest.raises(UploadRefused, match="empty"):
        save_upload(tmp_path, "empty.txt", b"", MB)
    assert save_upload(tmp_path, "exact.txt", b"x" * MB, MB).path.stat().st_size == MB
    assert sorted(p.name for p in uploads_dir(tmp_path).iterdir()) == ["exact.txt"]


def test_unsupported_type_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(UploadRefused, match=r"supported: \.csv, \.docx"):
        save_upload(tmp_path, "macro.xlsm", b"PK\x03\x04", MB)
    assert not uploads_dir(tmp_path).exists()
