"""LLM providers behind one streaming interface, and the model registry (built by the generation issue)."""
