"""A dropped file becomes an identified document: watcher, intake, pages, OCR, identifiers."""
