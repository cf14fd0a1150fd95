"""The embedded synthetic corpus: synthesis, grammar, alignment, Kaldi files."""
