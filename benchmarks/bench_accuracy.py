"""Identify-and-file accuracy on a synthetic corpus, and matching speed on a large index.

    .venv/bin/python benchmarks/bench_accuracy.py                 # 300 docs, 400 patients
    .venv/bin/python benchmarks/bench_accuracy.py --docs 60 --skip-speed
    .venv/bin/python benchmarks/bench_accuracy.py --out figures.json --show-text
    .venv/bin/python benchmarks/bench_accuracy.py --no-second-look   # without the re-read
    .venv/bin/python benchmarks/bench_accuracy.py --layouts roles --docs 120 --skip-speed

``--layouts roles``: face sheets (guarantor, subscriber, emergency contact), referral letters
in prose, fax covers with their pages, lab and radiology reports with ordering physicians,
and outside records with prior MRNs (some merged into the patient's record by an HL7 A40),
where the other people named are registered patients, twins and namesakes among them.

Accuracy: a seeded registry (twins, namesakes, odd surnames, nicknames) is imported into a
fresh app in a temporary folder; every document of a seeded corpus (every layout, date
format, degradation and file kind) goes through ``app.ingestor.ingest`` two at a time, as
the CLI does, and the outcome is compared with the careful clerk's ground truth. Failures
are listed with the decision's candidates: the data is synthetic, so printing it is fine.

Speed: identifiers of 10,000 documents (read from the documents' own text, no OCR) are
matched against 100,000 patients: ``match_patient`` (lookup + decide) per document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from clerk.app import App  # noqa: E402
from clerk.config import load_config  # noqa: E402
from records.audit import SYSTEM  # noqa: E402
from records.patients import import_patients  # noqa: E402
from scanner.identifying.identifiers import IdentifierSettings, extract_identifiers  # noqa: E402
from scanner.matching.decision import MatchSettings  # noqa: E402
from scanner.matching.lookup import match_patient  # noqa: E402
from scanner.reading.pagetext import PageText  # noqa: E402
from synthetic import (  # noqa: E402
    DocumentSpec,
    GroundTruth,
    generate_patients,
    make_corpus,
    text_of,
    write_document,
    write_registry_csv,
)
from synthetic.files import KINDS, SINGLE_PAGE_KINDS  # noqa: E402
from synthetic.role_corpus import make_merges, make_role_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MULTI_PAGE_KINDS = [k for k in KINDS if k not in SINGLE_PAGE_KINDS]


@dataclass
class Result:
    """One document's ground truth next to what the pipeline did with it."""

    index: int
    spec: DocumentSpec
    truth: GroundTruth
    kind: str
    status: str
    mrn: str | None
    reason: str | None
    doc_type: str | None
    decision: dict[str, Any] | None
    text: str
    seconds: float

    @property
    def misfiled(self) -> bool:
        return self.status == "filed" and (
            self.truth.expected_action != "file" or self.mrn != self.truth.expected_mrn
        )


def make_app(folder: Path) -> App:
    """An app on a copy of the default config in ``folder``, two OCR workers."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("workers: 0 ", "workers: 2 ")
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return App(load_config(path), actor="bench")


def file_kind(index: int, spec: DocumentSpec) -> str:
    """Cycle through every file kind; multi-page documents skip the single-page ones."""
    kinds = list(KINDS)
    kind = kinds[index % len(kinds)]
    if spec.pages > 1 and kind in SINGLE_PAGE_KINDS:
        kind = MULTI_PAGE_KINDS[index % len(MULTI_PAGE_KINDS)]
    return kind


def run_corpus(args: argparse.Namespace, folder: Path) -> list[Result]:
    """Import the registry, write the corpus and ingest every file; return the results."""
    patients = generate_patients(args.patients, args.seed)
    registry = write_registry_csv(patients, folder / "registry.csv")
    merges: dict[str, str] = {}
    if args.layouts == "roles":
        merges = make_merges(patients, args.seed)
        corpus = make_role_corpus(patients, args.docs, args.seed, merges)
    else:
        corpus = make_corpus(patients, args.docs, args.seed)
    drop = folder / "drop"
    drop.mkdir()
    app = make_app(folder)
    if args.no_second_look:
        # For measuring what the second look costs and recovers.
        app.settings.filing.second_look.enabled = False
    try:
        report = import_patients(app.store, registry, actor=SYSTEM)
        print(f"registry: {report.added} patients imported, {len(report.errors)} errors")
        if merges:
            a40 = write_merges(patients, merges, folder)
            merged = import_patients(app.store, a40, actor=SYSTEM)
            print(f"merges: {merged.merged} prior MRNs merged (HL7 A40)")
        files = []
        for i, (spec, _truth) in enumerate(corpus):
            kind = file_kind(i, spec)
            files.append((kind, write_document(spec, args.seed + i, drop, kind, f"doc{i:04d}")))
        print(f"corpus: {len(files)} files written; ingesting ...", flush=True)

        def ingest(path: Path) -> tuple[Any, float]:
            start = time.perf_counter()
            outcome = app.ingestor.ingest(path)
            return outcome, time.perf_counter() - start

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(ingest, [path for _, path in files]))
        elapsed = time.perf_counter() - started
        print(f"ingested {len(files)} files in {elapsed:.0f} s ({elapsed / len(files):.1f} s/doc)")
        results = []
        for i, ((spec, truth), (kind, _), (outcome, seconds)) in enumerate(
            zip(corpus, files, outcomes, strict=True)
        ):
            detail = app.store.get_document(outcome.document_id)
            s = detail.summary
            results.append(
                Result(
                    i, spec, truth, kind, s.status, s.patient_mrn, s.review_reason,
                    s.doc_type, detail.decision, detail.text, seconds,
                )
            )  # fmt: skip
        return results
    finally:
        app.close()


def write_merges(patients: list[Any], merges: dict[str, str], folder: Path) -> Path:
    """HL7 v2 A40 messages folding each prior MRN into its survivor's record."""
    by_mrn = {p.mrn: p for p in patients}
    messages = []
    for prior, survivor in merges.items():
        p = by_mrn[survivor]
        messages.append(
            "\r".join(
                [
                    "MSH|^~\\&|REG|HOSP|CLERK|HOSP|20240102030405||ADT^A40|M" + prior + "|P|2.5",
                    "EVN|A40|20240102030405",
                    f"PID|1||{p.mrn}^^^HOSP^MR||{p.last_name}^{p.first_name}||"
                    f"{p.dob:%Y%m%d}|{p.sex}",
                    f"MRG|{prior}^^^HOSP^MR",
                ]
            )
        )
    path = folder / "merges.hl7"
    path.write_text("\n\n".join(messages) + "\n", encoding="utf-8")
    return path


def pct(part: int, whole: int) -> float:
    """A percentage, 100 for an empty whole."""
    return 100.0 * part / whole if whole else 100.0


def describe(r: Result) -> str:
    """One failure: where it came from, what was expected, what happened and why."""
    spec, truth = r.spec, r.truth
    expected = (
        truth.expected_mrn
        if truth.expected_action == "file"
        else (f"review ({truth.expected_review_reason})")
    )
    got = r.mrn if r.status == "filed" else f"{r.status} ({r.reason})"
    shown = [n for n, flag in (("mrn", spec.show_mrn), ("name", spec.show_name),
                               ("dob", spec.show_dob)) if flag]  # fmt: skip
    lines = [
        f"  doc{r.index:04d} {r.kind:<9} layout={spec.layout} date={spec.date_format} "
        f"name={spec.name_form} pages={spec.pages} degr={','.join(spec.degradations) or '-'} "
        f"shown={'+'.join(shown)}"
        + (f" conflict={spec.conflict_field}" if spec.conflict_field else "")
        + (f" others={','.join(role for role, _ in spec.others)}" if spec.others else "")
        + (f" prior={spec.prior_mrn}" if spec.prior_mrn else ""),
        f"      expected {expected}; got {got}",
    ]
    for c in (r.decision or {}).get("candidates", [])[:3]:
        lines.append(f"      cand {c['mrn']} {c['score']:+.1f} {'; '.join(c['reasons'])}")
    return "\n".join(lines)


def report_accuracy(results: list[Result], show_text: bool) -> dict[str, Any]:
    """Print the accuracy figures and failure lists; return the figures."""
    fileable = [r for r in results if r.truth.expected_action == "file"]
    must_review = [r for r in results if r.truth.expected_action == "review"]
    misfiled = [r for r in results if r.misfiled]
    auto = [r for r in fileable if r.status == "filed" and r.mrn == r.truth.expected_mrn]
    missed = [r for r in fileable if r not in auto and not r.misfiled]
    reviewed = [r for r in must_review if r.status == "review"]
    not_reviewed = [r for r in must_review if r.status != "review"]
    type_ok = [r for r in results if r.doc_type == r.truth.doc_type]
    both = [r for r in reviewed]
    reason_ok = [r for r in both if r.reason == r.truth.expected_review_reason]
    figures = {
        "documents": len(results),
        "misfiles": len(misfiled),
        "fileable": len(fileable),
        "auto_filed": len(auto),
        "auto_filed_pct": round(pct(len(auto), len(fileable)), 2),
        "must_review": len(must_review),
        "must_review_in_review": len(reviewed),
        "must_review_pct": round(pct(len(reviewed), len(must_review)), 2),
        "doc_type_pct": round(pct(len(type_ok), len(results)), 2),
        "review_reason_agreement_pct": round(pct(len(reason_ok), len(both)), 2),
        "quarantined": sum(r.status == "quarantined" for r in results),
        "mean_seconds_per_doc": round(statistics.fmean(r.seconds for r in results), 2),
        "second_look": second_look_figures(results),
    }
    print("\n== accuracy ==")
    print(f"documents                     {len(results)}")
    print(f"misfiles                      {len(misfiled)}   (target 0)")
    print(f"auto-filed among fileable     {len(auto)}/{len(fileable)} = "
          f"{figures['auto_filed_pct']:.1f}%   (target >= 95%)")  # fmt: skip
    print(f"must-review in review         {len(reviewed)}/{len(must_review)} = "
          f"{figures['must_review_pct']:.1f}%   (target 100%)")  # fmt: skip
    print(f"document type                 {len(type_ok)}/{len(results)} = "
          f"{figures['doc_type_pct']:.1f}%   (target >= 95%)")  # fmt: skip
    print(f"review reason agreement       {len(reason_ok)}/{len(both)} = "
          f"{figures['review_reason_agreement_pct']:.1f}%   (informational)")  # fmt: skip
    print(f"quarantined                   {figures['quarantined']}")
    look = second_look_figures(results)
    print(f"second look (re-read top)     {look['triggered']}/{len(results)} docs "
          f"({look['triggered_pct']:.1f}%), {look['recovered']} filed after it; "
          f"{look['seconds']:.0f} s = {look['seconds_per_triggered']:.2f} s per triggered doc, "
          f"{look['pct_of_ingest_seconds']:.1f}% of all ingest seconds; "
          f"recovered by {look['recovered_by']}")  # fmt: skip
    sections = [
        ("MISFILED", misfiled),
        ("fileable but sent to review", missed),
        ("must-review but not in review", not_reviewed),
    ]
    for title, items in sections:
        if items:
            print(f"\n-- {title} ({len(items)}) --")
            for r in items:
                print(describe(r))
                if show_text:
                    print("      | " + r.text[:1500].replace("\n", "\n      | "))
    wrong_type = [r for r in results if r.doc_type != r.truth.doc_type]
    if wrong_type:
        print(f"\n-- wrong document type ({len(wrong_type)}) --")
        for r in wrong_type:
            print(f"  doc{r.index:04d} {r.kind:<9} layout={r.spec.layout} "
                  f"degr={','.join(r.spec.degradations) or '-'} "
                  f"expected {r.truth.doc_type}, got {r.doc_type}")  # fmt: skip
    pairs = Counter((r.truth.expected_review_reason, r.reason) for r in both if r not in reason_ok)
    if pairs:
        print("\n-- review reasons that differ (expected -> got: count) --")
        for (want, got), n in pairs.most_common():
            print(f"  {want} -> {got}: {n}")
    by_layout = Counter(r.spec.layout for r in missed + misfiled + not_reviewed)
    if by_layout:
        print(f"\nfailures by layout: {dict(by_layout)}")
    review_reasons = Counter(r.reason for r in results if r.status == "review")
    print(f"\nreasons given for review: {dict(review_reasons.most_common())}")
    aside = Counter(why for r in results for why in (r.decision or {}).get("set_aside", []))
    print("set aside (documents):")
    for why, n in aside.most_common():
        print(f"  {n:4d}  {why}")
    layouts = sorted({r.spec.layout for r in results})
    per_layout = {}
    for layout in layouts:
        mine = [r for r in fileable if r.spec.layout == layout]
        done = [r for r in auto if r.spec.layout == layout]
        per_layout[layout] = f"{len(done)}/{len(mine)}"
    print(f"auto-filed among fileable, by layout: {per_layout}")
    figures["review_reasons"] = dict(review_reasons)
    figures["set_aside"] = dict(aside)
    figures["auto_filed_by_layout"] = per_layout
    return figures


def second_look_figures(results: list[Result]) -> dict[str, Any]:
    """How often the top of page 1 was read again, what it cost and what it recovered."""
    looks = [look for r in results if (look := (r.decision or {}).get("second_look"))]
    seconds = sum(float(look["seconds"]) for look in looks)
    total = sum(r.seconds for r in results)
    return {
        "triggered": len(looks),
        "triggered_pct": round(pct(len(looks), len(results)), 2),
        "recovered": sum(bool(look["recovered"]) for look in looks),
        "recovered_by": dict(
            Counter(
                f"psm {look['recovered_by'][0]} {look['recovered_by'][1]:+g} deg"
                for look in looks
                if look.get("recovered_by")
            )
        ),
        "passes": sum(int(look["passes"]) for look in looks),
        "seconds": round(seconds, 1),
        "seconds_per_triggered": round(seconds / len(looks), 2) if looks else 0.0,
        "pct_of_ingest_seconds": round(pct_part(seconds, total), 2),
    }


def pct_part(part: float, whole: float) -> float:
    """A percentage of a float whole, 0 for an empty whole."""
    return 100.0 * part / whole if whole else 0.0


def run_speed(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Match identifiers of many documents against a large patient index; print docs/s."""
    print(f"\n== matching speed: {args.speed_docs} docs x {args.speed_patients} patients ==")
    patients = generate_patients(args.speed_patients, args.seed + 1)
    registry = write_registry_csv(patients, folder / "large.csv")
    (folder / "speed").mkdir()
    app = make_app(folder / "speed")
    try:
        start = time.perf_counter()
        import_patients(app.store, registry, actor=SYSTEM)
        print(f"imported {len(patients)} patients in {time.perf_counter() - start:.1f} s")
        # Truth is not needed here, so the corpus is drawn from a sample of the registry.
        sample = random.Random(args.seed).sample(patients, min(len(patients), 5000))
        corpus = make_corpus(sample, args.speed_docs, args.seed + 2)
        id_settings, match_settings = IdentifierSettings(), MatchSettings()
        today = date.today()
        docs = [
            extract_identifiers(
                [PageText(n, t, source="text_layer") for n, t in enumerate(text_of(spec), 1)],
                id_settings,
                today=today,
            )
            for spec, _ in corpus
        ]
        timings: list[float] = []
        actions: Counter[str] = Counter()
        total = time.perf_counter()
        for ids in docs:
            start = time.perf_counter()
            decision = match_patient(ids, app.store, match_settings)
            timings.append(time.perf_counter() - start)
            actions[decision.action] += 1
        total = time.perf_counter() - total
    finally:
        app.close()
    timings.sort()
    figures = {
        "docs": len(docs),
        "patients": len(patients),
        "docs_per_second": round(len(docs) / total, 1),
        "p50_ms": round(1000 * timings[len(timings) // 2], 2),
        "p95_ms": round(1000 * timings[int(len(timings) * 0.95)], 2),
        "max_ms": round(1000 * timings[-1], 2),
        "actions": dict(actions),
    }
    print(f"{figures['docs_per_second']:,.0f} docs/s; p50 {figures['p50_ms']} ms, "
          f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms; {dict(actions)}")  # fmt: skip
    return figures


def main() -> None:
    """Parse options, run the benchmarks, print and optionally save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300, help="documents in the corpus")
    parser.add_argument("--patients", type=int, default=400, help="patients in the registry")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-speed", action="store_true", help="skip the matching speed part")
    parser.add_argument("--skip-accuracy", action="store_true", help="only the speed part")
    parser.add_argument("--speed-docs", type=int, default=10_000)
    parser.add_argument("--speed-patients", type=int, default=100_000)
    parser.add_argument(
        "--no-second-look",
        action="store_true",
        help="never re-read the top of page 1 (to measure what the second look costs)",
    )
    parser.add_argument("--show-text", action="store_true", help="print the text of failures")
    parser.add_argument(
        "--layouts",
        choices=("all", "roles"),
        default="all",
        help="all: the main corpus; roles: pages naming other people besides the patient",
    )
    parser.add_argument("--out", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    if args.patients < 300 and not args.skip_accuracy:
        print("note: fewer than 300 patients", file=sys.stderr)
    figures: dict[str, Any] = {"seed": args.seed, "patients": args.patients}
    with tempfile.TemporaryDirectory(prefix="chartclerk-bench-") as tmp:
        folder = Path(tmp)
        if not args.skip_accuracy:
            results = run_corpus(args, folder)
            figures["accuracy"] = report_accuracy(results, args.show_text)
        if not args.skip_speed:
            figures["speed"] = run_speed(args, folder)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.out}")


if __name__ == "__main__":
    main()
