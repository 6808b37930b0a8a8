"""The tool loops: stop rules, renderers, detokenizer, text and token loops."""
