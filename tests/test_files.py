"""Reading named files within limits and writing them atomically (kneebayes.files)."""

from __future__ import annotations

import gzip
import os
import tracemalloc
from pathlib import Path

import pytest

from kneebayes.errors import InputFileError, OutputFileError, WrongTypeError
from kneebayes.files import read_bytes, read_text, write_atomic


def test_read_text_returns_the_file_as_written(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("tightness behind the knee\n", encoding="utf-8")
    assert read_text(path) == "tightness behind the knee\n"


def test_a_gz_file_is_read_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "a.bif.gz"
    path.write_bytes(gzip.compress(b"network x {}"))
    assert read_bytes(path) == b"network x {}"


def test_a_gzip_bomb_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\0" * 50_000_000))  # 50 MB from about 50 kB
    tracemalloc.start()
    with pytest.raises(InputFileError, match=r"unpacks to over the limit of 1,000,000 bytes"):
        read_bytes(path, limit=1_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000


def test_gzip_garbage_is_an_input_file_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "child.bif.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(InputFileError, match=r"network file '.*child.bif.gz' ends in .gz but is not a valid gzip"):
        read_bytes(path, what="network file")


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(InputFileError, match=r"is 2,000 bytes, over the limit of 1,000$"):
        read_bytes(path, limit=1000)


def test_reading_a_small_file_allocates_little(tmp_path: Path) -> None:
    # read(limit + 1) would reserve the whole 64 MB limit for a five-byte file
    path = tmp_path / "small.txt"
    path.write_text("hello", encoding="utf-8")
    tracemalloc.start()
    read_text(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000


def test_input_file_error_keeps_path_and_reason(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as err:
        read_text(tmp_path / "nope.yaml", what="model file")
    assert (err.value.path, err.value.reason) == (str(tmp_path / "nope.yaml"), "does not exist")
    assert str(err.value) == f"model file {str(tmp_path / 'nope.yaml')!r} does not exist"


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")
    assert write_atomic(path, "new text") == path
    assert path.read_text(encoding="utf-8") == "new text"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failed_rename_keeps_the_earlier_file_and_leaves_no_temporary(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    path.write_text("the user's file", encoding="utf-8")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left on device"):
        write_atomic(path, "new text")
    assert path.read_text(encoding="utf-8") == "the user's file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_writing_into_a_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match=r"cannot write '.*out\.txt': its folder '.*missing' does not exist"):
        write_atomic(tmp_path / "missing" / "out.txt", "text")
    assert list(tmp_path.iterdir()) == []


def test_bytes_are_written_as_given(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "out.bin", b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"


def test_a_symbolic_link_is_written_through_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "model.yaml"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"


def test_a_pipe_at_the_path_is_refused_and_left_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"is not a regular file \(a pipe or a device\?\)"):
        write_atomic(fifo, "text")
    assert fifo.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_folder_at_the_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="is a folder; give a file name"):
        write_atomic(tmp_path, "text")


def test_a_failed_write_names_the_users_path_not_the_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError) as err:
        write_atomic(tmp_path / "missing" / "out.txt", "text")
    assert err.value.filename == str(tmp_path / "missing" / "out.txt")
    assert isinstance(err.value, OSError)   # what code written for OSError still catches


def test_a_file_name_near_the_length_limit_can_be_written(tmp_path: Path) -> None:
    name = "m" * 250 + ".yaml"   # the file system allows 255 bytes; the temporary name must not add to it
    assert write_atomic(tmp_path / name, "text").read_text(encoding="utf-8") == "text"


def test_a_path_with_a_nul_character_is_an_input_file_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"model file '.*a\\x00b\.yaml' holds a NUL character, which no file name can"):
        read_bytes(str(tmp_path / "a\0b.yaml"), what="model file")


def test_writing_to_a_path_with_a_nul_character_is_an_os_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match=r"cannot write '.*a\\x00b\.yaml': holds a NUL character, which no file name can"):
        write_atomic(str(tmp_path / "a\0b.yaml"), "text")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [None, 3, b"out.txt"])
def test_a_path_that_is_not_text_or_a_path_is_a_wrong_type_error(path: object) -> None:
    with pytest.raises(WrongTypeError, match="a file to write must be named by text or a path, got "):
        write_atomic(path, "text")   # type: ignore[arg-type]


def test_an_empty_file_name_is_refused_as_empty_not_as_the_current_folder() -> None:
    with pytest.raises(OutputFileError, match="cannot write '': the name is empty; give a file name"):
        write_atomic("", "text")
