"""Raw input: bytes to text, lines, SSE events, NDJSON values."""
