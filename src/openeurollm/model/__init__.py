"""The model family: architecture (llama.py), shapes (args.py) and named flavors (flavors.py)."""
