"""The build side: what prepares a model before any pod runs it (fetch, quantize, the optimised copy).

Nothing in the runtime function imports this package (tests/test_layers.py holds the line), and
the image carries none of it: the Dockerfile's build stage runs it, with the tools it alone needs
(requirements.txt here: onnx, scikit-image), and the runtime stage leaves it out.
"""
