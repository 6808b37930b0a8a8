"""The grammar engine: delimiters, lexer, LALR driver, calls, islands, recovery."""
