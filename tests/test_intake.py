import hashlib
import os
from pathlib import Path

import pytest

from chartclerk_errors import InputFileError, StillBeingWrittenError
from records.archive import Archive
from scanner.dropped.intake import sniff, take
from scanner.dropped.quarantine import quarantine_name
from scanner.dropped.stability import StabilityTracker, is_ignored

MiB = 2**20


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x00\x00junk%PDF-1.4", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"II*\x00\x08", "image/tiff"),
        (b"MM\x00*\x00", "image/tiff"),
        (b"\x7fELF\x02\x01", None),
        (b"MZ\x90\x00", None),
        (b"hello, world", None),
    ],
)
def test_file_type_comes_from_the_bytes(head: bytes, media_type: str | None) -> None:
    assert sniff(head) == media_type


def test_take_hashes_the_whole_file(tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4\n" + data)
    intake = take(path, 10 * MiB)
    assert intake.sha256 == hashlib.sha256(b"%PDF-1.4\n" + data).hexdigest()
    assert intake.media_type == "application/pdf"
    assert intake.size_bytes == len(data) + 9


def test_an_executable_renamed_pdf_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    assert take(path, MiB).media_type is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"x" * (MiB + 1)), "too large"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: p.symlink_to("/etc/hostname"), "symbolic link"),
    ],
)
def test_files_that_cannot_be_taken_say_why(tmp_path: Path, make, message: str) -> None:  # noqa: ANN001
    path = tmp_path / "input"
    make(path)
    with pytest.raises(InputFileError, match=message):
        take(path, MiB)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(b"%PDF-1.4")
    path.chmod(0)
    with pytest.raises(InputFileError, match="permission denied"):
        take(path, MiB)


def test_archive_is_content_addressed_verified_and_idempotent(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\nabc")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    archive = Archive(tmp_path / "archive")
    stored = archive.store(source, digest)
    assert stored == tmp_path / "archive" / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == source.read_bytes()
    assert archive.store(source, digest) == stored
    assert archive.verify_all() == []
    assert not list(stored.parent.glob(".tmp-*"))


def test_archive_refuses_bytes_that_do_not_match_their_hash(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"changed after hashing")
    archive = Archive(tmp_path / "archive")
    with pytest.raises(StillBeingWrittenError, match="changed while it was copied"):
        archive.store(source, "0" * 64)
    assert not archive.path_for("0" * 64).exists()


def test_archive_finds_a_corrupted_file(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"original")
    digest = hashlib.sha256(b"original").hexdigest()
    archive = Archive(tmp_path / "archive")
    archive.store(source, digest).write_bytes(b"bit rot")
    assert archive.verify_all() == [digest]
    assert not archive.contains(digest)


@pytest.mark.parametrize(
    "name",
    ["scan.part", ".hidden.pdf", "~$report.docx", "Thumbs.db", "x.tmp", "dl.crdownload"],
)
def test_temp_and_hidden_files_are_ignored(tmp_path: Path, name: str) -> None:
    patterns = [".*", "*.part", "*.tmp", "*.crdownload", "~$*", "Thumbs.db"]
    assert is_ignored(tmp_path / name, tmp_path, patterns)
    assert is_ignored(tmp_path / ".sync" / "scan.pdf", tmp_path, patterns)
    assert not is_ignored(tmp_path / "sub" / "scan.pdf", tmp_path, patterns)


def test_quarantine_names_cannot_escape_the_folder() -> None:
    odd = Path(os.fsdecode(b"../../etc/pass\nwd\xff.pdf"))
    name = quarantine_name(7, odd)
    assert "/" not in name and "\n" not in name and ".." not in name
    assert name.startswith("000007-")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_file_is_ready_only_after_it_stops_changing(tmp_path: Path) -> None:
    clock = Clock()
    tracker = StabilityTracker(2.0, clock)
    path = tmp_path / "scan.tif"
    path.write_bytes(b"part one")
    tracker.observe(path)
    clock.now += 1.5
    assert tracker.take_ready() == []
    with path.open("ab") as handle:
        handle.write(b" and part two")
    clock.now += 1.0
    assert tracker.take_ready() == []  # it grew: the clock starts again
    clock.now += 1.5
    assert tracker.take_ready() == []
    clock.now += 0.6
    assert tracker.take_ready() == [path]
    # Handed over once; seen again unchanged it is not offered twice.
    tracker.observe(path)
    clock.now += 5
    assert tracker.take_ready() == []


def test_a_file_that_vanishes_is_dropped(tmp_path: Path) -> None:
    clock = Clock()
    tracker = StabilityTracker(1.0, clock)
    path = tmp_path / "scan.png"
    path.write_bytes(b"x")
    tracker.observe(path)
    path.unlink()
    clock.now += 5
    assert tracker.take_ready() == []
    assert tracker.pending() == 0


def test_give_back_keeps_a_file_ready(tmp_path: Path) -> None:
    clock = Clock()
    tracker = StabilityTracker(1.0, clock)
    path = tmp_path / "scan.png"
    path.write_bytes(b"x")
    tracker.observe(path)
    clock.now += 2
    assert tracker.take_ready() == [path]
    tracker.give_back(path)
    assert tracker.take_ready() == [path]


def test_sweep_removes_only_old_temporary_archive_files(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    folder = tmp_path / "archive" / "ab" / "cd"
    folder.mkdir(parents=True)
    old, fresh = folder / ".tmp-old", folder / ".tmp-new"
    old.write_bytes(b"half a copy")
    fresh.write_bytes(b"being written")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    assert archive.sweep_temp(older_than_seconds=3600) == 1
    assert not old.exists()
    assert fresh.exists()
