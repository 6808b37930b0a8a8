"""Value scanners: JSON, Python literals, Gemma objects, schema typing."""
