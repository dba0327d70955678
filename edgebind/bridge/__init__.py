"""Host side of the serial link: pure codecs, the pyserial transport, the device simulator, Recording files.

Nothing here knows about models (ARCHITECTURE.md, Boundaries).
"""
