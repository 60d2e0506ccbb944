"""Loading many already-read documents at once (benchmarks, loads from another system).

Not the ingest path: no archive, no pages; one audit entry for the whole load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, insert, select

from records.audit import SYSTEM, record
from records.models import Document, IdentifierRow
from records.store import NewDocument, Store, now


def add_documents(store: Store, documents: Sequence[NewDocument]) -> list[int]:
    """Store documents (rows and identifiers only) in one transaction; returns their ids."""
    stamp = now()
    with store.session() as s:
        first = int(s.scalar(select(func.max(Document.id))) or 0) + 1
        ids = list(range(first, first + len(documents)))
        rows = [
            {
                "id": doc_id,
                "sha256": new.sha256,
                "source_name": new.source_name,
                "source_path": new.source_path,
                "media_type": new.media_type,
                "size_bytes": new.size_bytes,
                "status": new.status,
                "patient_mrn": new.patient_mrn,
                "doc_type": new.doc_type,
                "pages": 0,
                "review_reason": new.review_reason,
                "ocr_confidence": new.ocr_confidence,
                "service_date": new.service_date,
                "decision_json": json.dumps(new.decision) if new.decision is not None else None,
                "received_at": new.received_at or stamp,
                "updated_at": stamp,
            }
            for doc_id, new in zip(ids, documents, strict=True)
        ]
        identifiers = [
            {"document_id": doc_id, "kind": kind, "value": value, "page": page}
            for doc_id, new in zip(ids, documents, strict=True)
            for kind, value, page in new.identifiers
        ]
        if rows:
            s.execute(insert(Document), rows)
            record(
                s,
                SYSTEM,
                "documents loaded",
                detail=f"{len(rows)} documents, ids {first}-{ids[-1]}",
            )
        if identifiers:
            s.execute(insert(IdentifierRow), identifiers)
    return ids
