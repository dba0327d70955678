"""The live pipeline: pure framing and windowing (``frames``, ``window``) and I/O at the edges (``reader``).

Import submodules directly (``from edgebind.stream.window import ImuWindower``); this package imports nothing
so that pyserial's ``protocol_handler_packages`` lookup and ``import edgebind`` stay light.
"""
