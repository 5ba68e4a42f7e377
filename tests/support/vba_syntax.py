"""VBA syntax errors as an independent parser sees them (antlr4-vba's grammar, vba_precompiler for ``#If``).

Used by the tests of every generated VBA module (the self-check, the print
macro): a module that does not parse here would not compile in Excel either.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def syntax_errors(text: str, win64: bool | None = None) -> list[tuple[int, int, str]]:
    """(line, column, message) of each syntax error in the module ``text``.

    ``win64``: resolve the ``#If`` branches first, as 64-bit (True) or 32-bit (False) Office compiles
    them; None parses ``text`` as it is (a module without conditional compilation).
    """
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    class Errors(ErrorListener):
        def __init__(self):
            self.found = []

        def syntaxError(self, recognizer, symbol, line, column, message, error):
            self.found.append((line, column, message))

    if win64 is not None:
        from vba_precompiler.compiler import Compiler

        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "module.bas"
            source.write_text(text, encoding="utf-8", newline="")
            env = {"WIN16": False, "WIN32": True, "WIN64": win64, "MAC": False, "VBA6": False, "VBA7": True,
                   "MAC_OFFICE_VERSION": 0}
            text = Compiler(env).compile(str(source))  # comments out the #If lines and the branch not taken
    errors = Errors()
    lexer = vbaLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errors)
    parser = vbaParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    parser.startRule()
    return errors.found
