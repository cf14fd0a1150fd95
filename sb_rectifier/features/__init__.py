"""Acoustic features from audio: Kaldi-compatible filterbanks and MFCCs.

Authors
 * sb_rectifier developers 2026
"""
