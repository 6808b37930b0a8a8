"""The tool loops: stop rules, renderers, the text loop and the token-exact loop."""
