"""Layers: Fourier-domain blocks and shared building blocks."""
