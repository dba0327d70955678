"""edgebind: ImageBind IMU and thermal encoders on robots.

``import edgebind`` stays light: it pulls in neither torch nor numpy. Submodules import what they need.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
