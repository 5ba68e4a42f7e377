"""Build Excel's ``vbaProject.bin`` from VBA source text, standard library only.

* ``compression`` - MS-OVBA 2.4.1 CompressedContainer codec;
* ``cfb`` - MS-CFB version 3 compound file writer;
* ``project`` - the VBA project streams (MS-OVBA 2.3) and module helpers.
"""

from .cfb import write_compound_file
from .compression import compress, decompress
from .project import (
    MAX_LINE_LENGTH,
    VbaModule,
    build_vba_project,
    document_module,
    module_from_bas,
    module_from_cls,
    project_id,
    vba_unicode_assign,
    vba_unicode_expr,
)

__all__ = [
    "MAX_LINE_LENGTH",
    "VbaModule",
    "build_vba_project",
    "compress",
    "decompress",
    "document_module",
    "module_from_bas",
    "module_from_cls",
    "project_id",
    "vba_unicode_assign",
    "vba_unicode_expr",
    "write_compound_file",
]
