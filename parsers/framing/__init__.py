"""Raw input: bytes to text, lines, SSE events, NDJSON values, token ids to text."""
