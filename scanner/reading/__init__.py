"""Reading a stored file: pages, text layers, the OCR schedule (``scanner.ocr``: tesseract)."""
