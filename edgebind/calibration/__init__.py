"""Sensor calibration: datasheet specs, IMU bias/matrix/axis fits, thermal conversion and repair, INT8 sets.

Import the submodules directly (``edgebind.calibration.imu``, ``.thermal``, ``.profiles``, ``.capture``); this
package file stays empty so ``import edgebind.calibration`` pulls in nothing heavy.
"""
