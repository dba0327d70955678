"""Host side of the serial link: pure codecs, the pyserial transport, the device simulator, Recording files.

Nothing here knows about models (ARCHITECTURE.md, Boundaries). The wire format is firmware_bridge/PROTOCOL.md.

* ``source.SensorSource``: the one entry point (port or URL -> decoded events in device time, counters).
* ``protocol`` (frame layouts), ``binary.BinaryDecoder``, ``text.TextDecoder`` (every text format; one parser per
  format in ``lines``, units in ``units``, line rate in ``rate``), ``detect.AutoDecoder``: pure
  ``feed(bytes) -> list[Event]`` decoders; ``clock.ClockEstimator``: device/host clock offset and drift.
* ``transport.SerialTransport``: reader thread over ``serial.serial_for_url`` (pyserial imported lazily).
* ``simulator.SimulatedDevice`` (+ ``encode``, ``faults``): a device on a pseudo-terminal replaying a Recording.
* ``record.record``, ``convert.convert``: Recordings from a link or from public data sets; ``budget``: link budget.
"""
